// Parity with DeepMind surface-distance and MONAI 1.4.0 on ../shared/fixtures/metrics: every case,
// every listed label, both presets, every metric the fixture holds.

#include "voxseg/evaluation/Evaluate.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>

namespace ev = voxseg::evaluation;
using nlohmann::json;

namespace {

struct Worst {
  double relative = 0;
  std::string where;
  std::size_t compared = 0;
};

double parseExpected(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
    ADD_FAILURE() << "unexpected string value " << s;
  }
  return v.get<double>();
}

// Relative difference; 0 for identical values (non-finite ones included), +inf on a class mismatch.
double relativeDifference(double expected, double actual) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual) ? 0 : INFINITY;
  if (std::isinf(expected) || std::isinf(actual)) return expected == actual ? 0 : INFINITY;
  const double diff = std::fabs(expected - actual);
  return diff == 0 ? 0 : diff / std::max(std::fabs(expected), std::fabs(actual));
}

// What Documentation/evaluation.md claims per preset: DeepMind within 5e-16 relative (float64 as the reference),
// MONAI within 2e-7 (its float32 sums), or 1e-12 absolute near zero; inf and nan identical. (The fixture's README
// allows 1e-6: a DeepMind drift below that would have passed while the documentation said 5e-16.)
bool matches(double expected, double actual, ev::Preset preset) {
  const double rel = relativeDifference(expected, actual);
  const double allowed = preset == ev::Preset::DeepMind ? 5e-16 : 2e-7;
  return rel <= allowed || (std::isfinite(expected) && std::isfinite(actual) && std::fabs(expected - actual) <= 1e-12);
}

void compareBlock(const json& expected, const ev::PresetMetrics& actual, const std::string& where,
                  std::map<std::string, Worst>& worst) {
  std::vector<std::string> expectedKeys, actualKeys;
  for (const auto& [key, value] : expected.items()) expectedKeys.push_back(key);
  for (const auto& m : actual.metrics) actualKeys.push_back(m.name);
  std::sort(expectedKeys.begin(), expectedKeys.end());
  std::sort(actualKeys.begin(), actualKeys.end());
  EXPECT_EQ(expectedKeys, actualKeys) << where;
  for (const auto& m : actual.metrics) {
    if (!expected.contains(m.name)) continue;
    const double e = parseExpected(expected[m.name]);
    const double rel = relativeDifference(e, m.value);
    EXPECT_TRUE(matches(e, m.value, actual.preset)) << where << " " << m.name << ": expected " << std::setprecision(17) << e
                                     << ", got " << m.value;
    Worst& w = worst[ev::presetName(actual.preset) + "." + m.name];
    ++w.compared;
    if (rel >= w.relative) {
      w.relative = rel;
      w.where = where;
    }
  }
}

} // namespace

TEST(EvaluationParity, DeepMindAndMonaiFixtures) {
  VOXSEG_REQUIRE_DATA(dir, voxseg::testing::sharedPath("fixtures/metrics"));
  std::ifstream in(dir + "/expected.json");
  ASSERT_TRUE(in) << dir << "/expected.json";
  const json expected = json::parse(in);

  ev::EvaluationOptions options;
  options.presets = {ev::Preset::DeepMind, ev::Preset::Monai};
  std::map<std::string, Worst> worst;
  std::size_t cases = 0, labels = 0;
  double seconds = 0;
  for (const auto& [name, c] : expected.at("cases").items()) {
    const ev::LabelMap gt = ev::toLabelMap(voxseg::io::readVolume(dir + "/" + c.at("gt").get<std::string>()));
    const ev::LabelMap pred = ev::toLabelMap(voxseg::io::readVolume(dir + "/" + c.at("pred").get<std::string>()));
    ev::requireSameGrid(gt, pred, name);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(gt.size[i], c.at("shape")[i].get<std::size_t>()) << name;
      EXPECT_EQ(gt.spacing[i], c.at("spacing_used")[i].get<double>()) << name << ": header spacing";
    }
    const auto wanted = c.at("labels").get<std::vector<int>>();
    const auto start = std::chrono::steady_clock::now();
    const std::vector<ev::LabelResult> results = ev::evaluateLabels(gt, pred, wanted, options);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++cases;
    for (const ev::LabelResult& r : results) {
      ++labels;
      const std::string where = name + " label " + std::to_string(r.label);
      const json& e = c.at("per_label").at(std::to_string(r.label));
      EXPECT_EQ(r.counts.reference, e.at("voxel_counts").at("gt").get<std::uint64_t>()) << where;
      EXPECT_EQ(r.counts.prediction, e.at("voxel_counts").at("pred").get<std::uint64_t>()) << where;
      EXPECT_EQ(r.counts.intersection, e.at("voxel_counts").at("intersection").get<std::uint64_t>()) << where;
      ASSERT_EQ(r.presets.size(), 2u);
      compareBlock(e.at("deepmind"), r.presets[0], where, worst);
      compareBlock(e.at("monai"), r.presets[1], where, worst);
    }
    ev::PresetMetrics level{ev::Preset::Monai, ev::monaiCaseLevel(results)};
    compareBlock(c.at("monai_case_level"), level, name + " case level", worst);
  }
  EXPECT_EQ(cases, expected.at("cases").size());

  std::cout << "parity: " << cases << " cases, " << labels << " labels, both presets, " << std::fixed
            << std::setprecision(3) << seconds << " s in evaluateLabels\n";
  std::cout << "worst relative difference per metric:\n";
  for (const auto& [metric, w] : worst)
    std::cout << "  " << std::left << std::setw(58) << metric << std::scientific << std::setprecision(2) << w.relative
              << "  n=" << w.compared << (w.relative > 0 ? "  (" + w.where + ")" : "") << "\n";
}
