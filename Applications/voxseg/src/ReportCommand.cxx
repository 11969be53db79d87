#include "Batch.h"
#include "Commands.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

// Shard summaries are named summary.shard-<i>-of-<n>.csv/.json: when one of a split is not given (an
// array task that never ran or lost its output), the merge would look complete, so it is refused.
void requireEveryShard(const std::vector<std::string>& inputs) {
  static const std::regex name(R"(.*\.shard-([0-9]+)-of-([0-9]+)\.(csv|json))");
  std::map<unsigned long, std::set<unsigned long>> given; // n -> indices
  std::map<unsigned long, std::string> example;
  std::map<std::pair<unsigned long, unsigned long>, std::string> seen; // (i, n) -> the summary that gave it
  for (const auto& input : inputs) {
    std::smatch m;
    const std::string file = fs::path(input).filename().string();
    if (!std::regex_match(file, m, name)) continue;
    try {
      const unsigned long index = std::stoul(m[1]), count = std::stoul(m[2]);
      if (count < 1 || index < 1 || index > count) // as segment --shard refuses them
        throw inputError(input, "shard " + std::to_string(index) + " of " + std::to_string(count) +
                                    " is no shard of a batch (shards run from 1 to their count)");
      if (const auto it = seen.find({index, count}); it != seen.end())
        throw inputError(input, "shard " + std::to_string(index) + " of " + std::to_string(count) +
                                    " is given twice (also as " + it->second + ")");
      seen[{index, count}] = input;
      given[count].insert(index);
      example[count] = input;
    } catch (const std::invalid_argument&) {
      throw inputError(input, "shard numbers out of range");
    } catch (const std::out_of_range&) {
      throw inputError(input, "shard numbers out of range");
    }
  }
  if (given.size() > 1) // summary.shard-1-of-2 with summary.shard-2-of-3: two splits of the batch, not one
    throw inputError(example.rbegin()->second,
                     "shards of different splits (of " + std::to_string(given.begin()->first) + " and of " +
                         std::to_string(given.rbegin()->first) + "): give the summaries of one run");
  for (const auto& [count, indices] : given) {
    std::string missing;
    for (unsigned long i = 1; i <= count && missing.size() < 200; ++i)
      if (!indices.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    if (!missing.empty())
      throw inputError(example[count], "shard(s) " + missing + " of " + std::to_string(count) +
                                           " not given: the batch is incomplete (did an array task fail?)");
  }
}

} // namespace

int runReportMerge(const ReportMergeArgs& args, std::ostream& out) {
  if (args.inputs.empty()) throw usageError("give the shard summaries to merge");
  { // destinations first; none may be one of the shard summaries (or their JSON twins) it reads
    std::vector<std::string> read = args.inputs;
    for (const auto& in : args.inputs) read.push_back(fs::path(in).replace_extension(".json").string());
    if (fs::path(args.output).extension() == ".json")
      throw usageError("-o " + args.output + ": give the summary's CSV name (its JSON twin is written beside it)");
    io::checkOutputsAgainstInputs({args.output, fs::path(args.output).replace_extension(".json").string()}, read);
    io::AtomicOutput a(args.output, args.force);
    io::AtomicOutput b(fs::path(args.output).replace_extension(".json").string(), args.force);
  }
  requireEveryShard(args.inputs);
  std::map<std::string, nlohmann::ordered_json> byCase;
  std::map<std::string, std::string> from;
  for (const auto& input : args.inputs) {
    // a summary .csv has its rows as JSON beside it; either name may be given
    const std::string json =
        fs::path(input).extension() == ".json" ? input : fs::path(input).replace_extension(".json").string();
    std::ifstream in(json);
    if (!in) throw inputError(json, "cannot be read (batch summaries are written as .csv and .json)");
    const auto j = nlohmann::ordered_json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("cases") || !j["cases"].is_array())
      throw inputError(json, "not a voxseg batch summary (no \"cases\" list)");
    std::size_t number = 0;
    for (const auto& row : j["cases"]) {
      ++number;
      if (!row.is_object() || !row.contains("case") || !row["case"].is_string() || !row.contains("status"))
        throw inputError(json, "a row lacks \"case\" or \"status\"");
      const auto field = [&](const char* name, bool (nlohmann::ordered_json::*is)() const noexcept) {
        return row.contains(name) && (row[name].*is)();
      };
      const std::string problem =
          !row["status"].is_string()                                        ? "\"status\" is not a string"
          : !field("exit_code", &nlohmann::ordered_json::is_number_integer) ? "\"exit_code\" is not an integer"
          : row["exit_code"].get<std::int64_t>() < 0 || row["exit_code"].get<std::int64_t>() > 255 ||
                  (row["exit_code"].is_number_unsigned() && row["exit_code"].get<std::uint64_t>() > 255)
              ? "\"exit_code\" is no process exit code (0..255)"
          : !field("seconds", &nlohmann::ordered_json::is_number) ? "\"seconds\" is not a number"
          : !(row["seconds"].get<double>() >= 0)                  ? "\"seconds\" is negative"
          : !field("output", &nlohmann::ordered_json::is_string)  ? "\"output\" is not text"
          : !field("error", &nlohmann::ordered_json::is_string)   ? "\"error\" is not text"
                                                                  : "";
      if (!problem.empty()) throw inputError(json, "row " + std::to_string(number) + ": " + problem);
      // segment --batch writes ok (exit 0), skipped (exit 0) or failed (its exit code): another row was not written
      // by it, and would be counted nowhere
      const std::string status = row["status"].get<std::string>();
      const int code = row["exit_code"].get<int>();
      if (status != "ok" && status != "skipped" && status != "failed")
        throw inputError(json,
                         "row " + std::to_string(number) + ": status \"" + status + "\" is not ok, skipped or failed");
      if ((status == "failed") != (code != 0))
        throw inputError(json, "row " + std::to_string(number) + ": status \"" + status + "\" with exit code " +
                                   std::to_string(code));
      const std::string id = row["case"].get<std::string>();
      if (byCase.count(id))
        throw inputError(json, "case " + id + " is also in " + from[id] + ": shards must not overlap");
      byCase[id] = row;
      from[id] = json;
    }
  }
  if (byCase.empty()) throw inputError(args.inputs.front(), "no case in the summaries given");
  std::vector<nlohmann::ordered_json> rows;
  std::size_t ok = 0, skipped = 0, failed = 0;
  for (const auto& [id, row] : byCase) {
    rows.push_back(row);
    const std::string status = row["status"].get<std::string>();
    ok += status == "ok", skipped += status == "skipped", failed += status == "failed";
  }
  writeSummary(rows, args.output, args.force);
  out << rows.size() << " cases from " << args.inputs.size() << " summaries: " << ok << " ok, " << skipped
      << " skipped, " << failed << " failed\n";
  spdlog::info("wrote {} and {}", args.output, fs::path(args.output).replace_extension(".json").string());
  return failed ? static_cast<int>(ExitCode::Input) : 0;
}

} // namespace voxseg::cli
