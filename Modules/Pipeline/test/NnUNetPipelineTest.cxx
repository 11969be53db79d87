// nnU-Net v2 folder end to end against nnU-Net's own predictions (../shared/fixtures/nnunet).
#include "NnUNetExport.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::sharedPath;

class NnUNetEndToEnd : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(NnUNetEndToEnd, LabelsAndProbabilitiesMatchNnUNet) {
  const auto [name, mode] = GetParam();
  const std::string fx = "fixtures/nnunet/";
  VOXSEG_REQUIRE_DATA(folder, sharedPath(fx + "model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres"));
  SegmenterOptions run;
  run.device.name = "cpu";
  run.threads = 1;
  NnUNetOptions o;
  o.folder = folder;
  o.folds = mode.rfind("folds01", 0) == 0 ? std::vector<int>{0, 1} : std::vector<int>{0};
  o.tta = mode.find("nomirror") == std::string::npos;
  const NnUNetModel model = loadNnUNet(o, run);
  const io::Volume input = io::readVolume(sharedPath(fx + "inputs/" + name + "_0000.nii.gz"));
  const NnUNetResult r = segmentNnUNet(model, {input}, run, true);
  EXPECT_EQ(r.labels.geometry(), input.geometry());

  const io::Volume want = io::readVolume(sharedPath(fx + "predictions/" + mode + "/" + name + ".nii.gz"));
  const auto* a = r.labels.as<std::uint8_t>()->GetBufferPointer();
  const auto* b = want.as<std::uint8_t>()->GetBufferPointer();
  const std::size_t n = input.geometry().voxelCount();
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += a[i] == b[i];
  const auto probs =
      voxseg::testing::readNpy(sharedPath(fx + "predictions/" + mode + "/" + name + "_probabilities.npy"));
  ASSERT_EQ(r.probabilities.size(), probs.data.size());
  double d = 0;
  for (std::size_t i = 0; i < probs.data.size(); ++i)
    d = std::max(d, double(std::fabs(r.probabilities[i] - probs.data[i])));
  std::cout << mode << " " << name << ": labels equal " << 100.0 * double(same) / double(n)
            << "%, probabilities max diff " << d << "\n";
  EXPECT_GE(double(same) / double(n), 0.9999);
  EXPECT_LE(d, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Cases, NnUNetEndToEnd,
                         ::testing::Combine(::testing::Values("phantomA", "phantomB", "phantomC"),
                                            ::testing::Values("fold0_mirror", "fold0_nomirror", "folds01_mirror",
                                                              "folds01_nomirror")));

// The slab-by-slab export equals the whole-volume export bit for bit, holding a few rows at a time.
TEST(NnUNetStreamingExport, EqualsTheWholeVolumeExport) {
  const std::string dir = sharedPath("fixtures/nnunet/predictions/fold0_mirror/");
  VOXSEG_REQUIRE_DATA(probe, dir + "phantomA_logits.npy");
  for (const std::string name : {"phantomA", "phantomB", "phantomC"}) {
    const auto info = nlohmann::json::parse(std::ifstream(dir + name + ".json"));
    const auto& props = info["properties_from_nnunet_pkl"];
    const auto logits = voxseg::testing::readNpy(dir + name + "_logits.npy");
    processing::Box box;
    processing::Shape3 full{}, net{logits.shape[1], logits.shape[2], logits.shape[3]};
    processing::Spacing3 spacing{};
    for (int a = 0; a < 3; ++a) {
      box.begin[a] = props["bbox_used_for_cropping"][a][0];
      box.end[a] = props["bbox_used_for_cropping"][a][1];
      full[a] = props["shape_before_cropping"][a];
      spacing[a] = props["spacing"][a];
    }
    const processing::Spacing3 target{2.5, 0.9, 0.9};
    const auto whole = processing::nnunetExport(logits.data, logits.shape[0], net, box, full, target, spacing);
    NnUNetStreamingExport stream(net, box, full, target, spacing, true);
    const std::int64_t plane = net[1] * net[2];
    for (std::int64_t z = 0; z < net[0]; ++z) { // one row per slab
      std::vector<float> slab(std::size_t(logits.shape[0] * plane));
      for (std::int64_t k = 0; k < logits.shape[0]; ++k)
        std::copy_n(logits.data.begin() + (k * net[0] + z) * plane, plane, slab.begin() + k * plane);
      inference::SlabView v;
      v.shape = net;
      v.begin = z;
      v.end = z + 1;
      v.channels = logits.shape[0];
      v.data = slab.data();
      stream.consume(v);
    }
    stream.finish();
    EXPECT_EQ(stream.labels, whole.labels) << name;
    EXPECT_EQ(stream.probabilities, whole.probabilities) << name;
    EXPECT_LE(stream.maxBufferedRows, 3u) << name;
  }
}

} // namespace
} // namespace voxseg::pipeline
