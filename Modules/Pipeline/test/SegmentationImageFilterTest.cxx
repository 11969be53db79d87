// SegmentationImageFilter: the input's exact grid, the same labels as pipeline::segment (or NnUNetPredictor's),
// one model for many images, ITK exceptions and progress events.
#include "voxseg/pipeline/SegmentationImageFilter.h"
#include "NnUNetCascadeFolder.h"
#include "NnUNetResultsFolder.h"
#include "PipelineTestOptions.h"
#include "voxseg/inference/Network.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kCard = std::string(VOXSEG_SOURCE_DIR) + "/Testing/Cards/monai_unet_fixture.json";

/// What 'voxseg model pack' makes of the fixture network and Testing/Cards/monai_unet_fixture.json
/// (the CLI tests' packed model), with `edit` applied to the card first.
std::string packFixture(const TempDir& dir, const std::string& net, void (*edit)(ModelCard&) = nullptr) {
  ModelCard card = parseModelCard(readText(kCard), kCard);
  if (edit) edit(card);
  inference::Network::pack(net, modelCardToJson(card).dump(2), dir.file("unet.pt"));
  return dir.file("unet.pt");
}

/// A packed two-channel network whose output is its input: label 7 wins where channel "b" is brighter.
std::string packIdentity(const TempDir& dir) {
  torch::jit::Module m("Identity");
  m.define("def forward(self, x):\n    return x\n");
  m.save(dir.file("identity.pt"));
  const std::string card = R"({"name": "identity", "axis_order": "xyz", "spacing": "input", "orientation": "keep",
      "patch_size": [16, 16, 16], "importance": {"type": "constant"},
      "channels": [{"name": "a", "normalization": {"type": "none"}}, {"name": "b", "normalization": {"type": "none"}}],
      "labels": [{"value": 0, "name": "a_wins"}, {"value": 7, "name": "b_wins"}]})";
  inference::Network::pack(dir.file("identity.pt"), card, dir.file("identity_packed.pt"));
  return dir.file("identity_packed.pt");
}

/// An oblique, left-handed direction (rotation about z then x, first column negated).
itk::Image<float, 3>::DirectionType obliqueDirection() {
  const double a = 0.5, b = 0.3; // radians
  const double rz[3][3] = {{std::cos(a), -std::sin(a), 0}, {std::sin(a), std::cos(a), 0}, {0, 0, 1}};
  const double rx[3][3] = {{1, 0, 0}, {0, std::cos(b), -std::sin(b)}, {0, std::sin(b), std::cos(b)}};
  itk::Image<float, 3>::DirectionType d;
  for (unsigned r = 0; r < 3; ++r)
    for (unsigned c = 0; c < 3; ++c) {
      double v = 0;
      for (unsigned k = 0; k < 3; ++k) v += rz[r][k] * rx[k][c];
      d(r, c) = c == 0 ? -v : v;
    }
  return d;
}

/// A smooth pattern with some texture, on a grid with a non-zero origin and an oblique direction.
template <typename T>
typename itk::Image<T, 3>::Pointer makeImage(const Size3& size, double phase,
                                             const itk::Index<3>& start = {{0, 0, 0}}) {
  auto img = itk::Image<T, 3>::New();
  typename itk::Image<T, 3>::RegionType region;
  region.SetIndex(start);
  for (unsigned a = 0; a < 3; ++a) region.SetSize(a, size[a]);
  img->SetRegions(region);
  const double spacing[3] = {0.8, 1.25, 2.0};
  const double origin[3] = {-12.5, 40.25, 7.0};
  img->SetSpacing(spacing);
  img->SetOrigin(origin);
  img->SetDirection(obliqueDirection());
  img->Allocate();
  T* p = img->GetBufferPointer();
  for (std::size_t z = 0; z < size[2]; ++z)
    for (std::size_t y = 0; y < size[1]; ++y)
      for (std::size_t x = 0; x < size[0]; ++x)
        *p++ = static_cast<T>(100.0 * std::sin(0.31 * double(x) + phase) + 60.0 * std::cos(0.23 * double(y) - phase) +
                              40.0 * std::sin(0.4 * double(z)) + double((x * 7 + y * 3 + z) % 11));
  return img;
}

template <typename T> io::Volume volumeOf(const typename itk::Image<T, 3>::Pointer& img) {
  io::Volume v;
  v.image = img.GetPointer();
  v.pixelType = detail::nativePixelType<T>();
  v.source = "in-memory image";
  return v;
}

/// The output's labels, widened, in buffer order.
template <typename TImage> std::vector<int> labelsOf(const TImage* img) {
  const auto* p = img->GetBufferPointer();
  return std::vector<int>(p, p + img->GetBufferedRegion().GetNumberOfPixels());
}

std::vector<int> labelsOf(const io::Volume& v) {
  if (v.pixelType == PixelType::UInt8) return labelsOf(v.as<std::uint8_t>().GetPointer());
  return labelsOf(v.as<std::uint16_t>().GetPointer());
}

template <typename TA, typename TB> void expectSameGrid(const TA* a, const TB* b) {
  EXPECT_EQ(a->GetLargestPossibleRegion(), b->GetLargestPossibleRegion());
  EXPECT_EQ(a->GetBufferedRegion(), b->GetLargestPossibleRegion());
  EXPECT_EQ(a->GetSpacing(), b->GetSpacing());
  EXPECT_EQ(a->GetOrigin(), b->GetOrigin());
  EXPECT_EQ(a->GetDirection(), b->GetDirection());
}

std::string describe(const itk::ExceptionObject& e) { return e.GetDescription(); }

// `action`, which does what `refused` says, throws an itk::ExceptionObject whose description holds `words`.
template <typename Action> void expectItkError(const char* refused, const std::string& words, Action action) {
  try {
    action();
    FAIL() << refused;
  } catch (const itk::ExceptionObject& e) {
    EXPECT_NE(describe(e).find(words), std::string::npos) << describe(e);
  }
}

TEST(SegmentationImageFilter, OutputIsOnTheInputGridWithTheLabelsOfSegment) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<short, 3>, itk::Image<unsigned char, 3>>;
  const auto model = Filter::LoadModel(packFixture(dir, net), oneCpuThread());
  EXPECT_EQ(model->card.name, "monai-unet-fixture");
  const auto img = makeImage<short>({30, 37, 20}, 0.0);

  auto filter = Filter::New();
  filter->SetModel(model);
  filter->SetOptions(oneCpuThread());
  filter->SetInput(img);
  filter->Update();
  const auto* out = filter->GetOutput();
  expectSameGrid(out, img.GetPointer());
  // the same options again change nothing (the next Update() ran the network again); other ones do
  const itk::ModifiedTimeType ran = filter->GetMTime();
  filter->SetOptions(oneCpuThread());
  EXPECT_EQ(filter->GetMTime(), ran);
  SegmenterOptions loadTime = oneCpuThread(); // fields the loaded model has used already: no run again
  loadTime.device.name = "cuda:0";
  loadTime.optimizeGraph = !loadTime.optimizeGraph;
  filter->SetOptions(loadTime);
  EXPECT_EQ(filter->GetMTime(), ran);
  SegmenterOptions other = oneCpuThread();
  other.precision = "float16";
  filter->SetOptions(other);
  EXPECT_GT(filter->GetMTime(), ran);
  filter->SetOptions(oneCpuThread());

  const Segmentation direct = segment(*model, {volumeOf<short>(img)}, oneCpuThread(), false);
  const std::vector<int> got = labelsOf(out);
  EXPECT_EQ(got, labelsOf(direct.labels));
  const std::set<int> values(got.begin(), got.end());
  EXPECT_GE(values.size(), 2u) << "a single label would make the comparison weak";
  for (int v : values) {
    EXPECT_TRUE(v == 0 || v == 1 || v == 2) << v;
  }
}

TEST(SegmentationImageFilter, OneModelServesManyImages) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned short, 3>>;
  const Filter::ModelPointer model = Filter::LoadModel(packFixture(dir, net), oneCpuThread()); // loaded once
  auto filter = Filter::New();
  filter->SetModel(model);
  filter->SetOptions(oneCpuThread());
  auto other = Filter::New(); // a second filter shares the same network
  other->SetModel(model);
  other->SetOptions(oneCpuThread());

  const auto a = makeImage<float>({30, 37, 20}, 0.0);
  const auto b = makeImage<float>({41, 26, 17}, 1.3);
  for (const auto& img : {a, b}) {
    filter->SetInput(img);
    filter->Update();
    expectSameGrid(filter->GetOutput(), img.GetPointer());
    EXPECT_EQ(labelsOf(filter->GetOutput()),
              labelsOf(segment(*model, {volumeOf<float>(img)}, oneCpuThread(), false).labels));
  }
  other->SetInput(a);
  other->Update();
  EXPECT_EQ(labelsOf(other->GetOutput()),
            labelsOf(segment(*model, {volumeOf<float>(a)}, oneCpuThread(), false).labels));
  EXPECT_EQ(filter->GetModel().get(), model.get());
  EXPECT_EQ(other->GetModel().get(), model.get());
  EXPECT_EQ(model.use_count(), 3); // here and in the two filters: nothing was copied or reloaded
}

TEST(SegmentationImageFilter, WrongChannelCountIsAnItkException) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned char, 3>>;
  const auto img = makeImage<float>({30, 37, 20}, 0.0);
  auto filter = Filter::New();
  filter->SetInput(0, img);
  filter->SetInput(1, img);
  expectItkError("no model set", "no model set", [&] { filter->Update(); });
  filter->SetModel(Filter::LoadModel(packFixture(dir, net), oneCpuThread()));
  filter->SetOptions(oneCpuThread());
  expectItkError("two inputs for a one-channel model",
                 "the model monai-unet-fixture needs 1 input image(s) (image), got 2", [&] { filter->Update(); });
  // no input at all: voxseg's one-line message, not ITK's "Input Primary is required but not set"
  auto empty = Filter::New();
  empty->SetModel(filter->GetModel());
  expectItkError("no input", "needs 1 input image(s) (image), got 0", [&] { empty->Update(); });
}

TEST(SegmentationImageFilter, ProgressEventsAreReported) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned char, 3>>;
  auto filter = Filter::New();
  filter->SetModel(Filter::LoadModel(packFixture(dir, net), oneCpuThread()));
  filter->SetOptions(oneCpuThread());
  filter->SetInput(makeImage<float>({30, 37, 20}, 0.0)); // 2 x 2 x 2 windows, 2 per batch
  std::vector<float> seen;
  filter->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject&) { seen.push_back(filter->GetProgress()); });
  filter->Update();
  std::size_t between = 0;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    between += seen[i] > 0.0f && seen[i] < 1.0f;
    if (i > 0) {
      EXPECT_GE(seen[i], seen[i - 1]) << "progress goes forward";
    }
  }
  EXPECT_GE(between, 3u) << "one event per batch of windows";
  ASSERT_FALSE(seen.empty());
  EXPECT_FLOAT_EQ(seen.back(), 1.0f);
}

TEST(SegmentationImageFilter, LabelsMustFitTheOutputPixelType) {
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  TempDir dir;
  const auto model = std::make_shared<const Model>(
      loadModel({packFixture(dir, net, [](ModelCard& c) { c.labels[2].value = 300; })}, "", {}, oneCpuThread()));
  const auto img = makeImage<float>({30, 37, 20}, 0.0);
  auto narrow = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned char, 3>>::New();
  narrow->SetModel(model);
  narrow->SetOptions(oneCpuThread());
  narrow->SetInput(img);
  expectItkError("label 300 in an unsigned char image",
                 "label 300 (spleen) of the model monai-unet-fixture does not fit the output pixel type "
                 "(0 to 255)",
                 [&] { narrow->Update(); });
  auto wide = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned short, 3>>::New();
  wide->SetModel(model);
  wide->SetOptions(oneCpuThread());
  wide->SetInput(img);
  wide->Update();
  const std::vector<int> got = labelsOf(wide->GetOutput());
  EXPECT_EQ(got, labelsOf(segment(*model, {volumeOf<float>(img)}, oneCpuThread(), false).labels));
  for (int v : std::set<int>(got.begin(), got.end())) {
    EXPECT_TRUE(v == 0 || v == 1 || v == 300) << v;
  }
}

// Voxseg's own errors come out as itk::ExceptionObject with voxseg's message.
TEST(SegmentationImageFilter, VoxsegErrorsBecomeItkExceptions) {
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned char, 3>>;
  std::ofstream(dir.file("m.pt")).close();
  expectItkError("an empty file is no model", "m.pt: not a loadable TorchScript model",
                 [&] { Filter::LoadModel(dir.file("m.pt"), oneCpuThread()); });
  // Same origin, spacing and direction (ITK's own check passes), different sizes: voxseg refuses.
  auto filter = Filter::New();
  filter->SetModel(Filter::LoadModel(packIdentity(dir), oneCpuThread()));
  filter->SetOptions(oneCpuThread());
  filter->SetInput(0, makeImage<float>({20, 18, 10}, 0.0));
  filter->SetInput(1, makeImage<float>({20, 18, 11}, 0.0));
  expectItkError("inputs on different grids", "input 1: not on the same grid as input 0", [&] { filter->Update(); });
  // voxseg judges the grids, not ITK (whose 1e-6 tolerance refused channels that voxseg segment takes, with its own
  // multi-line message): 1e-5 mm apart they are one grid, 5 mm apart voxseg's message says they are not.
  auto shifted = makeImage<float>({20, 18, 10}, 0.0);
  auto origin = shifted->GetOrigin();
  origin[0] += 1e-5;
  shifted->SetOrigin(origin);
  filter->SetInput(1, shifted);
  EXPECT_NO_THROW(filter->Update());
  origin[0] += 5;
  shifted->SetOrigin(origin);
  shifted->Modified();
  expectItkError("inputs 5 mm apart", "input 1: not on the same grid as input 0", [&] { filter->Update(); });
}

// Channels in card order through SetInput(i, ...); a pixel type voxseg does not store (long) and a
// region that does not start at index 0.
TEST(SegmentationImageFilter, MultiChannelInputsInCardOrder) {
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<long, 3>, itk::Image<int, 3>>;
  const auto model = Filter::LoadModel(packIdentity(dir), oneCpuThread());
  const itk::Index<3> start{{5, -3, 2}};
  const auto a = makeImage<long>({20, 18, 10}, 0.0, start);
  const auto b = makeImage<long>({20, 18, 10}, 2.0, start);
  auto filter = Filter::New();
  filter->SetModel(model);
  filter->SetOptions(oneCpuThread());
  filter->SetInput(0, a);
  expectItkError("one input for a two-channel model", "needs 2 input image(s) (a, b), got 1",
                 [&] { filter->Update(); });
  for (const bool swap : {false, true}) {
    filter->SetInput(0, swap ? b : a);
    filter->SetInput(1, swap ? a : b);
    filter->Update();
    const auto* out = filter->GetOutput();
    expectSameGrid(out, a.GetPointer());
    const std::vector<int> got = labelsOf(out);
    const long* pa = (swap ? b : a)->GetBufferPointer();
    const long* pb = (swap ? a : b)->GetBufferPointer();
    std::size_t wrong = 0, sevens = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (pa[i] == pb[i]) continue; // a tie: either label
      wrong += got[i] != (pb[i] > pa[i] ? 7 : 0);
      sevens += got[i] == 7;
    }
    EXPECT_EQ(wrong, 0u) << "swap " << swap;
    EXPECT_GT(sevens, 100u);
    EXPECT_LT(sevens, got.size() - 100);
  }
}

const std::string kNnUNetFolder = "fixtures/nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";

// nnU-Net through the filter: a dataset's results folder (its fold, its post-processing) gives NnUNetPredictor's
// labels on the input's grid; a trained-model folder on an oblique grid that is not the model's spacing too.
TEST(SegmentationImageFilter, NnUNetFoldersThroughSetNnUNet) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kNnUNetFolder));
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<short, 3>, itk::Image<unsigned char, 3>>;
  NnUNetPredictorOptions options;
  options.folders = {makeNnUNetResultsFolder(dir.path(), folder, "[1, 2]").string()};
  options.nnunet.tta = false;
  const Filter::NnUNetPointer nnunet = Filter::LoadNnUNet(options, oneCpuThread());
  const io::Volume phantom = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomB_0000.nii.gz"));
  const auto image = phantom.as<short>();
  auto filter = Filter::New();
  filter->SetNnUNet(nnunet);
  filter->SetOptions(oneCpuThread());
  filter->SetInput(image);
  filter->Update();
  expectSameGrid(filter->GetOutput(), image.GetPointer());
  const NnUNetResult direct = nnunet->segment({phantom}, oneCpuThread(), false);
  EXPECT_GT(direct.postprocessed, 0u) << "the results folder's post-processing changes this case";
  EXPECT_EQ(labelsOf(filter->GetOutput()), labelsOf(direct.labels));

  // another predictor alone (the same image): the filter runs again, without the post-processing
  const Filter::NnUNetPointer plain = Filter::LoadNnUNet(folder, oneCpuThread());
  EXPECT_EQ(plain->members().front()->options.folds, (std::vector<int>{0, 1}));
  filter->SetNnUNet(plain);
  filter->Update();
  const std::vector<int> again = labelsOf(filter->GetOutput());
  EXPECT_EQ(again, labelsOf(plain->segment({phantom}, oneCpuThread(), false).labels));
  EXPECT_NE(again, labelsOf(direct.labels));

  const auto oblique = makeImage<short>({30, 37, 20}, 0.0);
  filter->SetInput(oblique);
  filter->Update();
  expectSameGrid(filter->GetOutput(), oblique.GetPointer());
  const std::vector<int> got = labelsOf(filter->GetOutput());
  EXPECT_EQ(got, labelsOf(plain->segment({volumeOf<short>(oblique)}, oneCpuThread(), false).labels));
  EXPECT_EQ(std::set<int>(got.begin(), got.end()).size(), 3u) << "background and both organs";
}

TEST(SegmentationImageFilter, NnUNetSetupErrorsAreItkExceptions) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kNnUNetFolder));
  VOXSEG_REQUIRE_DATA(net, sharedPath("fixtures/monai/net_unet.pt"));
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned char, 3>>;
  expectItkError("a file that is no nnU-Net folder", dir.file("nowhere"),
                 [&] { Filter::LoadNnUNet(dir.file("nowhere"), oneCpuThread()); });
  NnUNetPredictorOptions options;
  options.folders = {folder};
  options.nnunet.folds = {0};
  options.nnunet.tta = false;
  auto filter = Filter::New();
  filter->SetNnUNet(Filter::LoadNnUNet(options, oneCpuThread()));
  filter->SetOptions(oneCpuThread());
  const auto img = makeImage<float>({30, 37, 20}, 0.0);
  filter->SetInput(0, img);
  filter->SetInput(1, img);
  expectItkError("two inputs for the one-channel dataset", "needs 1 input image(s) (CT), got 2",
                 [&] { filter->Update(); });
  auto one = Filter::New();
  one->SetNnUNet(filter->GetNnUNet());
  one->SetOptions(oneCpuThread());
  one->SetInput(img);
  one->SetModel(Filter::LoadModel(packFixture(dir, net), oneCpuThread()));
  expectItkError("a model and an nnU-Net predictor", "both a model and an nnU-Net predictor are set",
                 [&] { one->Update(); });
  one->SetModel(nullptr);
  one->Update();
  expectSameGrid(one->GetOutput(), img.GetPointer());

  // a cascade stage loaded to be given its previous stage's labels per case: the filter has no input for them
  NnUNetPredictorOptions cascade;
  cascade.folders = {voxseg::testing::writeNnUNetCascadeFolders(dir.file("cascade"), folder,
                                                                voxseg::testing::CascadeLabelWeights::Zero)};
  cascade.nnunet.tta = false;
  cascade.previousStageLabels = "labels of each case";
  one->SetNnUNet(Filter::LoadNnUNet(cascade, oneCpuThread()));
  expectItkError("a predictor waiting for previous-stage labels", "for which the filter has no input",
                 [&] { one->Update(); });
}

TEST(SegmentationImageFilter, AbortStopsTheRun) {
  TempDir dir;
  using Filter = SegmentationImageFilter<itk::Image<float, 3>, itk::Image<unsigned char, 3>>;
  auto filter = Filter::New();
  filter->SetModel(Filter::LoadModel(packIdentity(dir), oneCpuThread()));
  filter->SetOptions(oneCpuThread());
  filter->SetInput(0, makeImage<float>({40, 40, 40}, 0.0)); // 6 x 6 x 6 windows of 16
  filter->SetInput(1, makeImage<float>({40, 40, 40}, 1.0));
  std::size_t events = 0;
  filter->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject&) {
    if (filter->GetProgress() > 0.0f && filter->GetProgress() < 1.0f) {
      ++events;
      filter->AbortGenerateDataOn();
    }
  });
  EXPECT_THROW(filter->Update(), itk::ProcessAborted);
  EXPECT_EQ(events, 1u) << "the run stops at the first batch after the request";
}

} // namespace
} // namespace voxseg::pipeline
