#include "voxseg/processing/NnUNetNormalization.h"

#include "voxseg/core/Error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace voxseg::processing {
namespace {

// Each scheme on a few values, as nnU-Net's classes compute them.
TEST(NnUNetNormalization, EachSchemeOnAFewValues) {
  const nlohmann::json none;
  std::vector<float> v{0, 51, 255};
  nnunetNormalize(v, "RGBTo01Normalization", false, none, {}, "x.nii.gz");
  EXPECT_EQ(v, (std::vector<float>{0, 0.2f, 1}));
  v = {2, 4, 6};
  nnunetNormalize(v, "RescaleTo01Normalization", false, none, {}, "x.nii.gz");
  EXPECT_EQ(v, (std::vector<float>{0, 0.5f, 1}));
  v = {2, 4, 6};
  nnunetNormalize(v, "NoNormalization", false, none, {}, "x.nii.gz");
  EXPECT_EQ(v, (std::vector<float>{2, 4, 6}));
  v = {1, 3};
  nnunetNormalize(v, "ZScoreNormalization", false, none, {}, "x.nii.gz");
  EXPECT_EQ(v, (std::vector<float>{-1, 1}));
  // RGB values beyond 0..255 are bad input naming the file (nnU-Net asserts); an unknown scheme is a model error
  v = {0, 300};
  try {
    nnunetNormalize(v, "RGBTo01Normalization", false, none, {}, "x.nii.gz");
    ADD_FAILURE() << "300 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("x.nii.gz"), std::string::npos) << e.what();
  }
  try {
    nnunetNormalize(v, "MyNormalization", false, none, {}, "plans.json");
    ADD_FAILURE() << "unknown scheme accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
  }
}

// CT and ZScore (with and without a mask) on more voxels than one piece of work: the same bits with 1, 3 and 8
// workers, and within a float32 rounding of a plain serial computation in double.
TEST(NnUNetNormalization, SameResultWithAnyNumberOfWorkers) {
  const std::size_t n = 700001;
  std::vector<float> base(n);
  std::vector<std::uint8_t> mask(n);
  for (std::size_t i = 0; i < n; ++i) {
    base[i] = float((i * 7919) % 4001) * 0.37f - 500.0f;
    mask[i] = (i / 1000) % 3 != 0;
  }
  const nlohmann::json ct{{"percentile_00_5", -400.0}, {"percentile_99_5", 900.0}, {"mean", 120.5}, {"std", 210.25}};
  for (const auto& [scheme, useMask] : {std::pair<std::string, bool>{"ZScoreNormalization", false},
                                        std::pair<std::string, bool>{"ZScoreNormalization", true},
                                        std::pair<std::string, bool>{"CTNormalization", false}}) {
    std::vector<float> one = base;
    nnunetNormalize(one, scheme, useMask, ct, mask, "x.nii.gz", 1);
    for (const unsigned workers : {3u, 8u}) {
      std::vector<float> many = base;
      nnunetNormalize(many, scheme, useMask, ct, mask, "x.nii.gz", workers);
      EXPECT_EQ(many, one) << scheme << " mask " << useMask << ", " << workers << " workers";
    }
    if (scheme != "ZScoreNormalization") continue;
    double sum = 0, sq = 0;
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!useMask || mask[i]) {
        sum += base[i];
        ++count;
      }
    const double mean = sum / double(count);
    for (std::size_t i = 0; i < n; ++i)
      if (!useMask || mask[i]) sq += (base[i] - mean) * (base[i] - mean);
    const double sd = std::sqrt(sq / double(count));
    for (std::size_t i = 0; i < n; i += 997) {
      const float want = !useMask || mask[i] ? float((base[i] - mean) / sd) : base[i];
      EXPECT_NEAR(one[i], want, 4e-7 * std::max(1.0f, std::fabs(want))) << i;
    }
  }
}

} // namespace
} // namespace voxseg::processing
