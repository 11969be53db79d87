// nnU-Net v2 folder end to end against nnU-Net's own predictions (../shared/fixtures/nnunet).
#include "NnUNetExport.h"
#include "NnUNetPredict.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"
#include "voxseg/testing/Slabs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::sharedPath;

// The nnU-Net v2 fixture's trained-model folder, below ../shared.
const std::string kModelFolder = "fixtures/nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";

class NnUNetEndToEnd : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(NnUNetEndToEnd, LabelsAndProbabilitiesMatchNnUNet) {
  const auto [name, mode] = GetParam();
  const std::string fx = "fixtures/nnunet/";
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  const SegmenterOptions run = oneCpuThread();
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

// The slab-by-slab export equals the whole-volume export bit for bit, holding a slab and a few rows at a
// time: slabs of one row and of five, the rows a slab makes ready exported by one thread or shared by three.
TEST(NnUNetFoldsText, NumbersAllAndAuto) {
  EXPECT_EQ(parseNnUNetFolds("0,1, 2"), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(parseNnUNetFolds("all"), (std::vector<int>{inference::kFoldAll}));
  EXPECT_EQ(parseNnUNetFolds("3,all"), (std::vector<int>{3, inference::kFoldAll}));
  EXPECT_TRUE(parseNnUNetFolds("auto").empty());
  for (const char* bad : {"", "0,", "0,0", "all,all", "-1", "1.5", "auto,1", "Auto", "1000"}) {
    try {
      parseNnUNetFolds(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage) << bad;
      EXPECT_EQ(std::string(e.what()).rfind("--folds '" + std::string(bad) + "': expected fold numbers", 0), 0u)
          << e.what();
    }
  }
}

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
    for (const auto& [slabRows, workers] : {std::pair<std::int64_t, unsigned>{1, 1}, {5, 3}}) {
      const std::string what =
          name + ", slabs of " + std::to_string(slabRows) + " rows, " + std::to_string(workers) + " workers";
      std::vector<std::uint16_t> labels(std::size_t(full[0] * full[1] * full[2]));
      LabelBuffer out;
      out.u16 = labels.data();
      NnUNetStreamingExport stream(net, box, full, target, spacing, true, out);
      stream.workers = workers;
      voxseg::testing::feedSlabs(stream, logits.data, logits.shape[0], net, slabRows);
      stream.finish();
      EXPECT_EQ(labels, whole.labels) << what;
      EXPECT_EQ(stream.probabilities, whole.probabilities) << what;
      EXPECT_LE(stream.maxBufferedRows, std::size_t(slabRows) + 2) << what;
    }
  }
}

// Synthetic grids against the whole-volume export, bit for bit: the model's grid equal to the cropped one with
// the separate-z axis on each axis (streamed from the slabs, nothing held), and resampled ones (z first; y: the
// whole-volume fallback); softmax and regions, probabilities kept or not, 1 and 3 workers, slabs of 3 rows.
TEST(NnUNetStreamingExport, SyntheticGridsEqualTheWholeVolumeExport) {
  std::uint32_t seed = 2024;
  const auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  struct Case {
    processing::Spacing3 target, original;
    processing::Shape3 net;
  };
  const processing::Shape3 full{9, 11, 13};
  const processing::Box box{{1, 2, 1}, {8, 10, 12}};                      // 7 x 8 x 11
  const std::vector<Case> cases{{{1, 1, 4}, {1, 1, 4}, {7, 8, 11}},       // same grid, separate z on x
                                {{1, 4, 1}, {1, 4, 1}, {7, 8, 11}},       // same grid, separate z on y
                                {{4, 1, 1}, {4, 1, 1}, {7, 8, 11}},       // same grid, separate z on z
                                {{4, 1, 1}, {2, 1, 1}, {4, 6, 9}},        // resampled, separate z on z: streamed
                                {{1, 4, 1}, {1, 2, 1}, {5, 4, 7}},        // resampled, separate z on y: fallback
                                {{1.5, 1.5, 1.5}, {1, 1, 1}, {5, 6, 8}}}; // resampled, no separate z
  for (std::size_t c = 0; c < cases.size(); ++c)
    for (const bool regions : {false, true})
      for (const bool keep : {false, true})
        for (const unsigned workers : {1u, 3u}) {
          const Case& k = cases[c];
          const std::string what = "case " + std::to_string(c) + (regions ? ", regions" : ", softmax") +
                                   (keep ? ", probabilities" : "") + ", " + std::to_string(workers) + " workers";
          const std::int64_t channels = 3;
          std::vector<float> logits(std::size_t(channels * k.net[0] * k.net[1] * k.net[2]));
          for (auto& x : logits) x = processing::roundToHalf(float(int(next() % 2001) - 1000) / 150.0f);
          const std::vector<int> order = regions ? std::vector<int>{1, 2, 3} : std::vector<int>{};
          const auto whole = processing::nnunetExport(logits, channels, k.net, box, full, k.target, k.original, order);
          std::vector<std::uint16_t> labels(std::size_t(full[0] * full[1] * full[2]));
          LabelBuffer out;
          out.u16 = labels.data();
          NnUNetStreamingExport stream(k.net, box, full, k.target, k.original, keep, out, order);
          stream.workers = workers;
          voxseg::testing::feedSlabs(stream, logits, channels, k.net, 3);
          stream.finish();
          EXPECT_EQ(labels, whole.labels) << what;
          if (keep) {
            EXPECT_EQ(stream.probabilities, whole.probabilities) << what;
          }
          EXPECT_GT(std::count_if(labels.begin(), labels.end(), [](std::uint16_t l) { return l > 1; }), 0) << what;
          if (c < 3) { // nothing held on the same grid
            EXPECT_EQ(stream.maxBufferedRows, 0u) << what;
          }
        }
}

// The fixture model with edited plans.json / dataset.json, fold 0 linked in (a fresh folder per test).
std::string editedModel(const voxseg::testing::TempDir& tmp, const std::string& folder,
                        const std::function<void(nlohmann::json&, nlohmann::json&)>& edit) {
  auto plans = nlohmann::json::parse(std::ifstream(folder + "/plans.json"));
  auto dataset = nlohmann::json::parse(std::ifstream(folder + "/dataset.json"));
  edit(plans, dataset);
  const std::string dir = tmp.file("nnUNetTrainer__nnUNetPlans__3d_fullres");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/plans.json") << plans.dump(1);
  std::ofstream(dir + "/dataset.json") << dataset.dump(1);
  std::filesystem::create_directory_symlink(folder + "/fold_0", dir + "/fold_0");
  return dir;
}

NnUNetModel loadFold0WithoutMirroring(const std::string& folder) {
  NnUNetOptions o;
  o.folder = folder;
  o.folds = {0};
  o.tta = false;
  return loadNnUNet(o, oneCpuThread());
}

// transpose_forward: an input whose array is the fixture's with z and x swapped, under plans that swap
// them back, is preprocessed into the same array, so its labels are the fixture run's labels swapped.
TEST(NnUNetTranspose, SwappedInputUnderSwappingPlansGivesSwappedLabels) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  voxseg::testing::TempDir tmp;
  const std::string swapped = editedModel(tmp, folder, [](nlohmann::json& plans, nlohmann::json&) {
    plans["transpose_forward"] = {2, 1, 0};
    plans["transpose_backward"] = {2, 1, 0};
  });
  const SegmenterOptions run = oneCpuThread();
  const NnUNetModel plain = loadFold0WithoutMirroring(folder);
  const NnUNetModel transposing = loadFold0WithoutMirroring(swapped);

  const io::Volume a = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomA_0000.nii.gz"));
  const Geometry ga = a.geometry();
  Geometry gb; // ITK size and spacing reversed; direction and origin do not matter to this path
  for (int i = 0; i < 3; ++i) {
    gb.size[std::size_t(i)] = ga.size[std::size_t(2 - i)];
    gb.spacing[std::size_t(i)] = ga.spacing[std::size_t(2 - i)];
  }
  const processing::Shape3 arrayA{std::int64_t(ga.size[2]), std::int64_t(ga.size[1]), std::int64_t(ga.size[0])};
  ASSERT_EQ(a.pixelType, PixelType::Int16); // the swapped input is made in the file's type and as float
  io::Volume b16 = io::makeVolume(PixelType::Int16, gb);
  processing::transposeInto(a.as<std::int16_t>()->GetBufferPointer(), arrayA, {2, 1, 0},
                            b16.as<std::int16_t>()->GetBufferPointer());
  io::Volume b32 = io::makeVolume(PixelType::Float32, gb);
  processing::transposeInto(a.as<std::int16_t>()->GetBufferPointer(), arrayA, {2, 1, 0},
                            b32.as<float>()->GetBufferPointer());

  const NnUNetResult ra = segmentNnUNet(plain, {a}, run, true);
  const auto want = processing::transposed(ra.labels.as<std::uint8_t>()->GetBufferPointer(), arrayA, {2, 1, 0});
  EXPECT_GT(std::count_if(want.begin(), want.end(), [](std::uint8_t v) { return v == 2; }), 100);
  const std::size_t n = want.size();
  for (const io::Volume* b : {&b16, &b32}) {
    const NnUNetResult rb = segmentNnUNet(transposing, {*b}, run, true);
    const std::string what = b == &b16 ? "int16 input" : "float input";
    ASSERT_EQ(rb.labels.geometry(), gb) << what;
    const auto* got = rb.labels.as<std::uint8_t>()->GetBufferPointer();
    EXPECT_TRUE(std::equal(want.begin(), want.end(), got)) << what;
    for (std::int64_t k = 0; k < ra.channels; ++k) {
      const auto p = processing::transposed(ra.probabilities.data() + std::size_t(k) * n, arrayA, {2, 1, 0});
      EXPECT_TRUE(std::equal(p.begin(), p.end(), rb.probabilities.begin() + std::ptrdiff_t(std::size_t(k) * n)))
          << what << ", channel " << k;
    }
  }
}

// nnU-Net's NibabelIOWithReorient (and SimpleITKIOWithReorient) turn each image to the closest RAS orientation first
// and the labels back: nnU-Net's own run of the fixture model so (fold 0, mirroring) is matched voxel for voxel.
// Until 2026-11-29 the reader was ignored and the array run as stored (one voxel of 59,136 differed here; on a
// sagittal or LAS-stored image a flipped or permuted array).
TEST(NnUNetReader, WithReorientGivesNnUNetsLabels) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  const std::string run = "fixtures/nnunet/predictions/fold0_mirror_NibabelIOWithReorient/";
  VOXSEG_REQUIRE_DATA(expected, sharedPath(run + "phantomC.nii.gz"));
  const io::Volume input = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomC_0000.nii.gz"));
  const auto want = io::labelValues(io::readVolume(expected));
  for (const char* reader : {"NibabelIOWithReorient", "SimpleITKIOWithReorient"}) {
    voxseg::testing::TempDir tmp;
    const std::string dir = editedModel(
        tmp, folder, [&](nlohmann::json& plans, nlohmann::json&) { plans["image_reader_writer"] = reader; });
    NnUNetOptions o;
    o.folder = dir;
    o.folds = {0};
    const NnUNetResult r = segmentNnUNet(loadNnUNet(o, oneCpuThread()), {input}, oneCpuThread(), false);
    EXPECT_TRUE(r.labels.geometry().nearlyEqual(input.geometry(), 0)) << reader;
    const auto got = io::labelValues(r.labels);
    ASSERT_EQ(got.size(), want.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < got.size(); ++i) differ += got[i] != want[i];
    EXPECT_EQ(differ, 0u) << reader;
  }
}

// Plans whose reader or resampling voxseg does not reproduce are refused at load, naming plans.json (they were run
// with SimpleITKIO's arrays and resample_data_or_seg_to_shape, without a word).
TEST(NnUNetReader, ReadersAndResamplingVoxsegDoesNotReproduceAreRefused) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](nlohmann::json& p) { p["image_reader_writer"] = "Tiff3DIO"; }, "image_reader_writer \"Tiff3DIO\""},
      {[](nlohmann::json& p) { p["configurations"]["3d_fullres"]["resampling_fn_data"] = "resample_torch_fornnunet"; },
       "resamples with \"resample_torch_fornnunet\" (resampling_fn_data)"},
      {[](nlohmann::json& p) {
         p["configurations"]["3d_fullres"]["resampling_fn_probabilities"] = "no_resampling_hack";
       },
       "(resampling_fn_probabilities)"},
      {[](nlohmann::json& p) { p["configurations"]["3d_fullres"]["resampling_fn_data_kwargs"]["order_z"] = 3; },
       "order_z 0 or 1 only"},
      {[](nlohmann::json& p) {
         p["configurations"]["3d_fullres"]["resampling_fn_probabilities_kwargs"].erase("force_separate_z");
       },
       "voxseg exports with order 1, order_z 0 and force_separate_z null only"},
  };
  for (const auto& [edit, says] : cases) {
    voxseg::testing::TempDir tmp;
    const std::string dir = editedModel(tmp, folder, [&](nlohmann::json& plans, nlohmann::json&) { edit(plans); });
    try {
      loadFold0WithoutMirroring(dir);
      ADD_FAILURE() << "loaded; expected: " << says;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Model);
      EXPECT_NE(std::string(e.what()).find("plans.json: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  }
}

// Older plans keep the CT intensity properties under foreground_intensity_properties_by_modality, which nnU-Net
// still reads: the same labels (they were refused with "cannot use value() with number").
TEST(NnUNetReader, OlderIntensityPropertiesKeyIsRead) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  voxseg::testing::TempDir tmp;
  const std::string older = editedModel(tmp, folder, [](nlohmann::json& plans, nlohmann::json&) {
    plans["foreground_intensity_properties_by_modality"] = plans["foreground_intensity_properties_per_channel"];
    plans.erase("foreground_intensity_properties_per_channel");
  });
  const io::Volume a = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomA_0000.nii.gz"));
  const auto want = segmentNnUNet(loadFold0WithoutMirroring(folder), {a}, oneCpuThread(), false).labels;
  const auto got = segmentNnUNet(loadFold0WithoutMirroring(older), {a}, oneCpuThread(), false).labels;
  EXPECT_EQ(io::labelValues(got), io::labelValues(want));
}

// Channels are stacked voxel by voxel: two that do not overlay (another origin, same size) are refused
// before the network runs, naming the file and what differs.
TEST(NnUNetChannels, ChannelsOnDifferentGridsAreRefused) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  NnUNetModel model = loadFold0WithoutMirroring(folder);
  model.dataset["channel_names"] = {{"0", "CT"}, {"1", "CT"}}; // the check comes before the network runs
  const io::Volume a = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomA_0000.nii.gz"));
  io::Volume shifted = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomA_0000.nii.gz"));
  Geometry g = shifted.geometry();
  g.origin[1] += 5 * g.spacing[1];
  setGeometry(*shifted.image, g);
  shifted.source = "shifted.nii.gz";
  try {
    segmentNnUNet(model, {a, shifted}, oneCpuThread(), false);
    FAIL() << "channels that do not overlay were stacked";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("shifted.nii.gz: not on the same grid as"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("origin"), std::string::npos) << e.what();
  }
}

TEST(NnUNetTranspose, PlansThatAreNotAPermutationAreRefused) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  voxseg::testing::TempDir tmp;
  const std::string bad = editedModel(tmp, folder, [](nlohmann::json& plans, nlohmann::json&) {
    plans["transpose_forward"] = {0, 0, 1};
  });
  SegmenterOptions run;
  run.device.name = "cpu";
  NnUNetOptions o;
  o.folder = bad;
  try {
    loadNnUNet(o, run);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find("transpose_forward [0,0,1] is not a permutation"), std::string::npos)
        << e.what();
  }
}

// Region-based model (sigmoid per region, regions_class_order): probabilities are sigmoids, labels follow
// the regions rule voxel by voxel, background outside the crop box has probability 0 for every region.
TEST(NnUNetRegions, LabelsFollowRegionsClassOrder) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  voxseg::testing::TempDir tmp;
  const std::string regions = editedModel(tmp, folder, [](nlohmann::json&, nlohmann::json& dataset) {
    dataset["labels"] = {{"background", 0}, {"any", {1, 2, 3}}, {"inner", {2, 3}}, {"core", 3}};
    dataset["regions_class_order"] = {1, 2, 3};
  });
  const SegmenterOptions run = oneCpuThread();
  const NnUNetModel m = loadFold0WithoutMirroring(regions);
  EXPECT_EQ(m.regionsClassOrder, (std::vector<int>{1, 2, 3}));
  const io::Volume input = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomB_0000.nii.gz"));
  const NnUNetResult r = segmentNnUNet(m, {input}, run, true);
  const std::size_t n = input.geometry().voxelCount();
  ASSERT_EQ(r.probabilities.size(), 3 * n);
  const auto* labels = r.labels.as<std::uint8_t>()->GetBufferPointer();
  std::array<std::size_t, 4> count{};
  for (std::size_t i = 0; i < n; ++i) {
    int want = 0;
    for (int c = 0; c < 3; ++c) {
      const float p = r.probabilities[std::size_t(c) * n + i];
      ASSERT_GE(p, 0.0f);
      ASSERT_LE(p, 1.0f);
      if (p > 0.5f) want = c + 1;
    }
    ASSERT_EQ(int(labels[i]), want) << "voxel " << i;
    ++count[std::size_t(want)];
  }
  EXPECT_GT(count[0], 0u);
  EXPECT_GT(count[1] + count[2] + count[3], 0u);
}

// dataset.json's labels as written (editedModel's json sorts its keys): the file's text in `labels`' place.
void writeDatasetLabels(const std::string& dir, const std::string& labels, const std::string& extra = "") {
  std::ofstream(dir + "/dataset.json") << R"({"channel_names": {"0": "CT"}, "labels": )" << labels << extra
                                       << R"(, "numTraining": 12, "file_ending": ".nii.gz"})";
}

// A region-based dataset's regions take regions_class_order's values in the file's order (nnU-Net's LabelManager):
// whole 1, core 2, enhancing 3. Read with sorted keys, core took 1 and whole 3, and the label table named them so.
TEST(NnUNetRegions, LabelNamesPairWithRegionsClassOrderInTheFilesOrder) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  voxseg::testing::TempDir tmp;
  const std::string dir = editedModel(tmp, folder, [](nlohmann::json&, nlohmann::json&) {});
  writeDatasetLabels(dir, R"({"background": 0, "whole": [1, 2, 3], "core": [2, 3], "enhancing": 3, "ignore": 4})",
                     R"(, "regions_class_order": [1, 2, 3])");
  const NnUNetModel m = loadFold0WithoutMirroring(dir);
  const auto table = labelTable(m);
  ASSERT_EQ(table.size(), 4u); // background, the three regions; the ignore label is no output
  EXPECT_EQ(table[1].value, 1);
  EXPECT_EQ(table[1].name, "whole");
  EXPECT_EQ(table[2].name, "core");
  EXPECT_EQ(table[3].name, "enhancing");
}

// nnU-Net's ignore label has no network output (LabelManager.num_segmentation_heads): a model of labels 0, 1, 2 and
// "ignore": 3 has three, as the fixture's checkpoint. It was built with four and refused as a checkpoint mismatch.
TEST(NnUNetIgnoreLabel, HasNoOutputAndNoEntryInTheLabelTable) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  voxseg::testing::TempDir tmp;
  const std::string dir = editedModel(tmp, folder, [](nlohmann::json&, nlohmann::json&) {});
  writeDatasetLabels(dir, R"({"background": 0, "organA": 1, "organB": 2, "ignore": 3})");
  const NnUNetModel m = loadFold0WithoutMirroring(dir), plain = loadFold0WithoutMirroring(folder);
  EXPECT_EQ(m.numClasses, 3);
  const auto table = labelTable(m);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[2].name, "organB");
  const io::Volume input = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomB_0000.nii.gz"));
  const auto a = segmentNnUNet(m, {input}, oneCpuThread(), false),
             b = segmentNnUNet(plain, {input}, oneCpuThread(), false);
  const std::size_t n = input.geometry().voxelCount();
  const auto* la = a.labels.as<std::uint8_t>()->GetBufferPointer();
  const auto* lb = b.labels.as<std::uint8_t>()->GetBufferPointer();
  EXPECT_TRUE(std::equal(la, la + n, lb));
}

// A softmax model whose labels need no resampling back (the input at the model's spacing, no probabilities):
// on a GPU the engine makes them (argmax of the same float16 values). DeviceLabels::Always runs that code on
// the CPU: voxel for voxel the host export's labels, with the crop box off the origin, mirroring and two folds.
TEST(NnUNetDeviceLabels, EqualTheHostExport) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  NnUNetOptions o;
  o.folder = folder;
  o.folds = {0, 1};
  const NnUNetModel model = loadNnUNet(o, oneCpuThread());
  const processing::Shape3 full{30, 60, 64};
  const processing::Box box{{2, 5, 3}, {28, 57, 61}};
  const processing::Spacing3 spacing{2.5, 0.9, 0.9}; // the configuration's: nothing to resample
  const auto s = box.size();
  std::vector<float> volume(std::size_t(s[0] * s[1] * s[2]));
  for (std::size_t i = 0; i < volume.size(); ++i) { // CT-like values over the model's intensity range
    const double z = double(i / std::size_t(s[1] * s[2])), y = double(i / std::size_t(s[2]) % std::size_t(s[1])),
                 x = double(i % std::size_t(s[2]));
    volume[i] = float(110 + 60 * std::sin(0.3 * x) * std::cos(0.2 * y) + 30 * std::sin(0.5 * z + 0.01 * x * y));
  }
  const auto run = [&](inference::DeviceLabels where, bool keepProbabilities) {
    NnUNetRunSettings settings;
    settings.deviceLabels = where;
    settings.keepProbabilities = keepProbabilities;
    std::vector<std::uint8_t> labels(std::size_t(full[0] * full[1] * full[2]), 0);
    const auto storage = [&] {
      LabelBuffer out;
      out.u8 = labels.data();
      return out;
    };
    const NnUNetPrediction p =
        predictCropped(model, NnUNetCropped{{volume}, box, {}, {}}, full, spacing, "test", settings, storage);
    return std::make_pair(labels, p.stats);
  };
  const auto [host, hostStats] = run(inference::DeviceLabels::Off, false);
  const auto [engine, engineStats] = run(inference::DeviceLabels::Always, false);
  EXPECT_EQ(hostStats.deviceLabelSlabs, 0);
  EXPECT_GT(engineStats.slabs, 0);
  EXPECT_EQ(engineStats.deviceLabelSlabs, engineStats.slabs);
  std::array<std::size_t, 3> count{};
  std::size_t differ = 0;
  for (std::size_t i = 0; i < host.size(); ++i) {
    differ += host[i] != engine[i];
    ++count[std::min<std::size_t>(host[i], 2)];
  }
  EXPECT_EQ(differ, 0u);
  EXPECT_GT(count[1] + count[2], 0u) << "no foreground: the comparison would prove little";
  EXPECT_GT(count[0], std::size_t(full[0] * full[1] * full[2] - s[0] * s[1] * s[2])); // outside the box
  // probabilities kept: the export makes them, so the labels stay on the host
  const auto [kept, keptStats] = run(inference::DeviceLabels::Always, true);
  EXPECT_EQ(keptStats.deviceLabelSlabs, 0);
  EXPECT_EQ(kept, host);
}

TEST(NnUNetVoxelLabel, SoftmaxArgmaxAndRegions) {
  const float logits[3] = {-1.0f, 2.0f, 0.5f};
  float p[3];
  EXPECT_EQ(processing::nnunetVoxelLabel(logits, 1, 3, {}, p, 1), 1);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0f, 1e-6f);
  EXPECT_NEAR(p[1], std::exp(2.0) / (std::exp(-1.0) + std::exp(2.0) + std::exp(0.5)), 1e-6);
  // regions: sigmoid > 0.5 for channels 1 and 2; the later region wins
  EXPECT_EQ(processing::nnunetVoxelLabel(logits, 1, 3, {1, 2, 3}, p, 1), 3);
  EXPECT_NEAR(p[0], 1.0 / (1.0 + std::exp(1.0)), 1e-6);
  EXPECT_EQ(processing::nnunetVoxelLabel(logits, 1, 3, {5, 7, 9}, nullptr, 1), 9);
  const float none[3] = {-1.0f, -2.0f, 0.0f}; // sigmoid(0) = 0.5 is not above 0.5
  EXPECT_EQ(processing::nnunetVoxelLabel(none, 1, 3, {1, 2, 3}, nullptr, 1), 0);
}

} // namespace
} // namespace voxseg::pipeline
