// One case end to end: axis order, orientation policy, output geometry, card checks.
#include "voxseg/pipeline/Segmenter.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/LabelImages.h"
#include "voxseg/processing/Components.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <torch/script.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::readNpy;
using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

// MONAI's UNet fed from the NIfTI file: the card's axis order decides what the network sees.
TEST(Segmenter, MonaiNetworkFromNiftiNeedsXyzOrder) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  const auto expected = readNpy(sharedPath("fixtures/monai/out__unet__img_a__roi24x32x16__ov0p25__constant__sw1.npy"));
  const io::Volume img = io::readVolume(sharedPath("fixtures/monai/img_a.nii.gz"));
  const Geometry g = img.geometry(); // (i, j, k) = (45, 58, 30)
  ASSERT_EQ(g.size, (Size3{45, 58, 30}));
  std::map<AxisOrder, double> maxDiff;
  for (AxisOrder order : {AxisOrder::XYZ, AxisOrder::ZYX}) {
    CardOverrides ov;
    ov.axisOrder = order;
    ov.patch = order == AxisOrder::XYZ ? std::array<int, 3>{24, 32, 16} : std::array<int, 3>{16, 32, 24};
    ov.tiling = Tiling::Rule::Monai;
    ov.overlap = 0.25;
    ov.importance = ImportanceMap::Type::Constant;
    const Model m = loadModel({net}, "", ov, oneCpuThread());
    EXPECT_EQ(m.card.labels.size(), 3u);
    const Segmentation s = segment(m, {img}, oneCpuThread(), true);
    EXPECT_EQ(s.labels.geometry(), g);
    const std::size_t n = g.voxelCount();
    double d = 0, mx = 0;
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::size_t z = 0; z < g.size[2]; ++z)
        for (std::size_t y = 0; y < g.size[1]; ++y)
          for (std::size_t x = 0; x < g.size[0]; ++x) {
            const float got = s.logits[std::size_t(c) * n + (z * g.size[1] + y) * g.size[0] + x];
            const float want = expected.data[((std::size_t(c) * g.size[0] + x) * g.size[1] + y) * g.size[2] + z];
            d = std::max(d, double(std::fabs(got - want)));
            mx = std::max(mx, double(std::fabs(want)));
          }
    maxDiff[order] = d / mx;
  }
  EXPECT_LE(maxDiff[AxisOrder::XYZ], 1e-5);
  EXPECT_GT(maxDiff[AxisOrder::ZYX], 0.05) << "the wrong axis order must not pass silently";
}

// Overrides the model's own tiling rule would ignore are refused; "gaussian" follows the rule in use.
TEST(Segmenter, OverridesFollowTheTilingRuleInUse) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  CardOverrides base; // no card embedded: the default card tiles as MONAI does
  base.axisOrder = AxisOrder::XYZ;
  base.patch = std::array<int, 3>{24, 32, 16};
  CardOverrides gaussian = base;
  gaussian.importanceOfTiling = true;
  EXPECT_EQ(loadModel({net}, "", gaussian, oneCpuThread()).card.importance.type, ImportanceMap::Type::GaussianMonai);
  gaussian.tiling = Tiling::Rule::NnUNet;
  EXPECT_EQ(loadModel({net}, "", gaussian, oneCpuThread()).card.importance.type, ImportanceMap::Type::GaussianNnUNet);
  // a card that tiles as nnU-Net does, no --tiling: "gaussian" is nnU-Net's (it was MONAI's before 2026-11-28)
  TempDir dir;
  const std::string card = dir.file("card.json");
  std::ofstream(card) << R"({"name": "t", "axis_order": "xyz", "spacing": "input", "patch_size": [24, 32, 16],
                             "tiling": {"rule": "nnunet", "step": 0.5}, "importance": {"type": "constant"},
                             "channels": [{"name": "image", "normalization": {"type": "none"}}],
                             "labels": [{"value": 0, "name": "bg"}, {"value": 1, "name": "a"},
                                        {"value": 2, "name": "b"}]})";
  CardOverrides onlyGaussian;
  onlyGaussian.importanceOfTiling = true;
  EXPECT_EQ(loadModel({net}, card, onlyGaussian, oneCpuThread()).card.importance.type,
            ImportanceMap::Type::GaussianNnUNet);

  const auto usage = [&](const CardOverrides& ov, const std::string& text) {
    try {
      loadModel({net}, "", ov, oneCpuThread());
      ADD_FAILURE() << "accepted; expected: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage);
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  CardOverrides step = base;
  step.step = 0.25;
  usage(step, "--step applies to nnU-Net tiling");
  step.tiling = Tiling::Rule::NnUNet;
  EXPECT_EQ(loadModel({net}, "", step, oneCpuThread()).card.tiling.step, 0.25);
  CardOverrides overlap = base;
  overlap.tiling = Tiling::Rule::NnUNet;
  overlap.overlap = 0.25;
  usage(overlap, "--overlap applies to MONAI tiling");
  CardOverrides sigma = base;
  sigma.importance = ImportanceMap::Type::Constant;
  sigma.sigmaScale = 0.25;
  usage(sigma, "--sigma-scale applies to Gaussian window weights");
}

// A TorchScript network whose label 1 wins where the voxel exceeds `threshold`; returns its path.
std::string thresholdNetwork(const TempDir& dir, double threshold) {
  torch::jit::Module m("Threshold");
  m.define("def forward(self, x):\n    return torch.cat([x * 0.0 + " + std::to_string(threshold) + ", x], 1)\n");
  m.save(dir.file("t.pt"));
  return dir.file("t.pt");
}

// A card asking for RAS (or LPS, or keep): labels land on the input's exact grid, whatever the
// input's orientation.
TEST(Segmenter, OrientationPolicyKeepsTheInputGrid) {
  VOXSEG_REQUIRE_DATA(pir, sharedPath("data/niftispace/PIR.nii.gz"));
  TempDir dir;
  const std::string net = thresholdNetwork(dir, 40.0);
  const io::Volume img = io::readVolume(pir);
  for (const std::string orientation : {"keep", "RAS", "LPS"}) {
    const std::string card = dir.file("card.json");
    std::ofstream(card) << R"({"name": "t", "axis_order": "xyz", "spacing": "input", "orientation": ")" << orientation
                        << R"(", "patch_size": [32, 32, 32], "importance": {"type": "constant"},
                           "channels": [{"name": "T1", "normalization": {"type": "none"}}],
                           "labels": [{"value": 0, "name": "bg"}, {"value": 9, "name": "bright"}]})";
    const Model model = loadModel({net}, card, {}, oneCpuThread());
    const Segmentation s = segment(model, {img}, oneCpuThread(), false);
    EXPECT_EQ(s.labels.geometry(), img.geometry()) << orientation;
    ASSERT_EQ(s.labels.pixelType, PixelType::UInt8);
    const auto f = img.toFloat();
    const std::uint8_t* l = s.labels.as<std::uint8_t>()->GetBufferPointer();
    std::size_t wrong = 0, bright = 0;
    for (std::size_t i = 0; i < img.geometry().voxelCount(); ++i) {
      const bool isBright = f->GetBufferPointer()[i] > 40.0f;
      wrong += (l[i] == 9) != isBright;
      bright += isBright;
    }
    EXPECT_EQ(wrong, 0u) << orientation;
    EXPECT_GT(bright, 1000u);
  }
}

// A card spacing other than the input's: labels made from the logits resampled as the network's rows come in, a
// slab of rows at a time (down to one row per slab), equal those made from the whole resampled logits, for both
// network axis orders.
TEST(Segmenter, ResampledLabelsAreMadeSlabBySlabAsFromTheWholeLogits) {
  VOXSEG_REQUIRE_DATA(pir, sharedPath("data/niftispace/PIR.nii.gz"));
  TempDir dir;
  const std::string net = thresholdNetwork(dir, 40.0);
  const io::Volume img = io::readVolume(pir);
  for (const std::string order : {"xyz", "zyx"}) {
    std::ofstream(dir.file("card.json")) << R"({"name": "t", "axis_order": ")" << order << R"(",
        "spacing": [1.7, 1.3, 2.1], "patch_size": [32, 32, 32], "importance": {"type": "constant"},
        "channels": [{"name": "T1", "normalization": {"type": "none"}}],
        "labels": [{"value": 0, "name": "bg"}, {"value": 9, "name": "bright"}]})";
    const Model model = loadModel({net}, dir.file("card.json"), {}, oneCpuThread());
    const Segmentation whole = segment(model, {img}, oneCpuThread(), true);
    const std::size_t n = img.geometry().voxelCount();
    const std::uint8_t* want = whole.labels.as<std::uint8_t>()->GetBufferPointer();
    EXPECT_GT(std::count(want, want + n, std::uint8_t{9}), 1000);
    for (const std::size_t slabBytes : {std::size_t{256} << 20, std::size_t{1}}) {
      SegmenterOptions options = oneCpuThread();
      options.resampleSlabBytes = slabBytes;
      const Segmentation slabs = segment(model, {img}, options, false);
      EXPECT_EQ(slabs.labels.geometry(), img.geometry());
      EXPECT_TRUE(std::equal(want, want + n, slabs.labels.as<std::uint8_t>()->GetBufferPointer()))
          << order << " " << slabBytes;
      EXPECT_TRUE(slabs.logits.empty());
    }
  }
}

TEST(Segmenter, PostprocessingKeepsTheLargestComponent) {
  VOXSEG_REQUIRE_DATA(pir, sharedPath("data/niftispace/PIR.nii.gz"));
  TempDir dir;
  const std::string net = thresholdNetwork(dir, 60.0);
  const io::Volume img = io::readVolume(pir);
  std::size_t counts[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    std::ofstream(dir.file("card.json")) << R"({"name": "t", "axis_order": "xyz", "spacing": "input",
        "patch_size": [32, 32, 32], "importance": {"type": "constant"},
        "channels": [{"name": "T1", "normalization": {"type": "none"}}],
        "labels": [{"value": 0, "name": "bg"}, {"value": 1, "name": "bright"}])"
                                         << (pass ? R"(, "postprocessing": {"keep_largest_component": [1]}})" : "}");
    const Segmentation s =
        segment(loadModel({net}, dir.file("card.json"), {}, oneCpuThread()), {img}, oneCpuThread(), false);
    auto labels = processing::LabelImage::New();
    labels->SetRegions(s.labels.image->GetLargestPossibleRegion());
    labels->Allocate();
    const auto* src = s.labels.as<std::uint8_t>()->GetBufferPointer();
    for (std::size_t i = 0; i < img.geometry().voxelCount(); ++i) {
      labels->GetBufferPointer()[i] = src[i];
      counts[pass] += src[i] == 1;
    }
    const std::size_t more = processing::keepLargestComponent(*labels, {1});
    if (pass == 0)
      EXPECT_GT(more, 0u) << "the raw threshold should leave several components";
    else
      EXPECT_EQ(more, 0u) << "after postprocessing only one component is left";
  }
  EXPECT_LT(counts[1], counts[0]);
  EXPECT_GT(counts[1], 0u);
}

TEST(Segmenter, CardAndNetworkMustAgree) {
  TempDir dir;
  torch::jit::Module m("Two");
  m.define("def forward(self, x):\n    return torch.cat([x, x], 1)\n");
  m.save(dir.file("two.pt"));
  std::ofstream(dir.file("three.json"))
      << R"({"name": "t", "axis_order": "zyx", "spacing": "input", "patch_size": [8, 8, 8],
      "channels": [{"name": "CT", "normalization": {"type": "none"}}],
      "labels": [{"value": 0, "name": "bg"}, {"value": 1, "name": "a"}, {"value": 2, "name": "b"}]})";
  try {
    loadModel({dir.file("two.pt")}, dir.file("three.json"), {}, oneCpuThread());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find("gives 2 output channels, the model card names 3 labels"), std::string::npos)
        << e.what();
  }
  try {
    loadModel({dir.file("two.pt")}, "", {}, oneCpuThread());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no model card embedded"), std::string::npos) << e.what();
  }
}

// Label maps given to the public post-processing: a value uint16 cannot hold was turned into another label (-1 into
// 65535), an image holding part of its grid was read past its buffer; both are refused by name.
TEST(LabelImages, ValuesBeyondUint16AndPartialBuffersAreRefused) {
  Geometry g;
  g.size = {4, 3, 2};
  io::Volume v = io::makeVolume(PixelType::Int32, g);
  v.source = "map.nrrd";
  std::int32_t* p = v.as<std::int32_t>()->GetBufferPointer();
  std::fill(p, p + g.voxelCount(), 0);
  p[5] = 2;
  EXPECT_EQ(toLabelImage(v)->GetBufferPointer()[5], 2);
  for (const std::int32_t bad : {-1, 65536}) {
    p[7] = bad;
    try {
      toLabelImage(v);
      FAIL() << bad << " was taken";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input);
      EXPECT_NE(std::string(e.what()).find("map.nrrd: label value " + std::to_string(bad) + " outside 0..65535"),
                std::string::npos)
          << e.what();
    }
  }
  p[7] = 0;
  auto part = itk::Image<std::int32_t, 3>::New(); // 4 x 3 x 2 grid, one slice in memory
  part->SetLargestPossibleRegion(v.image->GetLargestPossibleRegion());
  itk::ImageRegion<3> slice({{0, 0, 0}}, {{4, 3, 1}});
  part->SetBufferedRegion(slice);
  part->SetRequestedRegion(slice);
  part->Allocate(true);
  v.image = part;
  EXPECT_THROW(toLabelImage(v), Error);
}

} // namespace
} // namespace voxseg::pipeline
