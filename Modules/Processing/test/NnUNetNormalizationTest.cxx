#include "voxseg/processing/NnUNetNormalization.h"

#include "voxseg/core/Error.h"

#include <gtest/gtest.h>

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

} // namespace
} // namespace voxseg::processing
