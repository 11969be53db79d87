#include "Splits.h"

#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <numeric>
#include <random>

namespace voxseg::training {
namespace {

// numpy's random_interval (legacy RandomState): a value in [0, max] by masked rejection of 32-bit draws.
std::uint32_t randomInterval(std::mt19937& rng, std::uint32_t max) {
  if (max == 0) return 0;
  std::uint32_t mask = max;
  for (int shift : {1, 2, 4, 8, 16}) mask |= mask >> shift;
  std::uint32_t value;
  while ((value = std::uint32_t(rng()) & mask) > max) {
  }
  return value;
}

} // namespace

std::vector<Fold> nnunetFolds(const std::vector<std::string>& sortedIds, int folds, std::uint32_t seed) {
  const std::size_t n = sortedIds.size();
  if (folds < 2 || n < std::size_t(folds))
    throw usageError("nnU-Net's " + std::to_string(folds) + "-fold split needs at least " + std::to_string(folds) +
                     " cases; the dataset has " + std::to_string(n));
  // np.random.RandomState(seed) seeds MT19937 as std::mt19937 does; RandomState.shuffle is Fisher-Yates from the end
  std::mt19937 rng(seed);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[randomInterval(rng, std::uint32_t(i))]);
  // KFold: the first n % folds folds one larger; each fold's test indices, the rest training, both ascending
  std::vector<Fold> out(static_cast<std::size_t>(folds));
  std::size_t start = 0;
  for (int k = 0; k < folds; ++k) {
    const std::size_t size = n / std::size_t(folds) + (std::size_t(k) < n % std::size_t(folds) ? 1 : 0);
    std::vector<bool> test(n, false);
    for (std::size_t i = start; i < start + size; ++i) test[order[i]] = true;
    for (std::size_t i = 0; i < n; ++i)
      (test[i] ? out[std::size_t(k)].val : out[std::size_t(k)].train).push_back(sortedIds[i]);
    start += size;
  }
  return out;
}

std::vector<Fold> readSplits(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw inputError(path, "cannot read the splits file");
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty())
    throw inputError(path, "not a splits file: a JSON list of {\"train\": [case ids], \"val\": [case ids]}");
  std::vector<Fold> out;
  for (const auto& f : j) {
    Fold fold;
    for (const auto& [key, list] :
         {std::pair<const char*, std::vector<std::string>*>{"train", &fold.train}, {"val", &fold.val}}) {
      if (!f.is_object() || !f.contains(key) || !f[key].is_array())
        throw inputError(path, "fold " + std::to_string(out.size()) + " has no \"" + key + "\" list of case ids");
      for (const auto& id : f[key]) {
        if (!id.is_string())
          throw inputError(path, "fold " + std::to_string(out.size()) + ": \"" + key + "\" holds " + id.dump() +
                                     ", not a case id");
        list->push_back(id.get<std::string>());
      }
    }
    out.push_back(std::move(fold));
  }
  return out;
}

} // namespace voxseg::training
