#include "voxseg/processing/Crop.h"
#include "voxseg/core/ModelCard.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/processing/Intensity.h"
#include "voxseg/processing/NnUNetResampling.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstring>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <iostream>

namespace voxseg::processing {
namespace {

using voxseg::testing::sharedPath;

TEST(Crop, BoxCropAndUncrop) {
  const Shape3 shape{2, 3, 4};
  std::vector<float> a(24, 0.0f), b(24, 0.0f);
  a[1 * 12 + 1 * 4 + 2] = 5.0f;  // (1, 1, 2)
  b[0 * 12 + 2 * 4 + 1] = -1.0f; // (0, 2, 1), second channel
  const Box box = nonzeroBox({a.data(), b.data()}, shape);
  EXPECT_EQ(box.begin, (Shape3{0, 1, 1}));
  EXPECT_EQ(box.end, (Shape3{2, 3, 3}));
  const auto c = crop(a.data(), shape, box);
  ASSERT_EQ(c.size(), 8u);
  EXPECT_EQ(c[1 * 4 + 0 * 2 + 1], 5.0f);
  std::vector<float> back(24);
  uncrop(c.data(), box, back.data(), shape, 0.0f);
  EXPECT_EQ(back, a);
  std::vector<float> zeros(24, 0.0f);
  const Box all = nonzeroBox({zeros.data()}, shape);
  EXPECT_EQ(all.end, shape);
}

// The row scan against the definition (every voxel tested), on sparse random channels with -0, NaN
// and all-zero rows, columns and channels.
TEST(Crop, NonzeroBoxEqualsTestingEveryVoxel) {
  std::uint32_t seed = 12345;
  const auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (int trial = 0; trial < 200; ++trial) {
    const Shape3 shape{1 + std::int64_t(next() % 6), 1 + std::int64_t(next() % 7), 1 + std::int64_t(next() % 9)};
    const std::size_t n = std::size_t(shape[0] * shape[1] * shape[2]);
    const int nChannels = 1 + int(next() % 3);
    std::vector<std::vector<float>> channels(std::size_t(nChannels), std::vector<float>(n, 0.0f));
    const std::uint32_t density = next() % 4; // 0: all zero .. 3: about 3 in 40
    for (auto& c : channels)
      for (auto& v : c) {
        const std::uint32_t r = next() % 40;
        v = r < density ? (r == 0 ? std::nanf("") : float(r) - 1.5f) : (r == 39 ? -0.0f : 0.0f);
      }
    Box want{{shape[0], shape[1], shape[2]}, {-1, -1, -1}};
    for (std::int64_t z = 0; z < shape[0]; ++z)
      for (std::int64_t y = 0; y < shape[1]; ++y)
        for (std::int64_t x = 0; x < shape[2]; ++x) {
          bool nonzero = false;
          for (const auto& c : channels) nonzero = nonzero || c[std::size_t((z * shape[1] + y) * shape[2] + x)] != 0.0f;
          if (!nonzero) continue;
          const Shape3 p{z, y, x};
          for (std::size_t a = 0; a < 3; ++a) {
            want.begin[a] = std::min(want.begin[a], p[a]);
            want.end[a] = std::max(want.end[a], p[a] + 1);
          }
        }
    if (want.end[0] < 0) want = Box{{0, 0, 0}, shape};
    std::vector<const float*> ptrs;
    for (const auto& c : channels) ptrs.push_back(c.data());
    for (const unsigned workers : {1u, 2u, 5u}) { // planes shared out in pieces; the box is the same
      const Box got = nonzeroBox(ptrs, shape, workers);
      EXPECT_EQ(got.begin, want.begin) << "trial " << trial << ", " << workers << " workers";
      EXPECT_EQ(got.end, want.end) << "trial " << trial << ", " << workers << " workers";
      if (workers == 1 || want.end[0] < 0) continue;
      // the copy of the box on several threads is the one-thread copy, bit for bit (NaN included)
      const auto many = crop(channels[0].data(), shape, got, workers), one = crop(channels[0].data(), shape, got, 1);
      ASSERT_EQ(many.size(), one.size());
      EXPECT_EQ(std::memcmp(many.data(), one.data(), one.size() * sizeof(float)), 0) << "trial " << trial;
    }
  }
}

TEST(Crop, HandedOverArrayIsKeptWhenTheBoxIsWhole) {
  const Shape3 shape{2, 3, 4};
  std::vector<float> a(24, 1.0f);
  const float* storage = a.data();
  const auto whole = crop(std::move(a), shape, nonzeroBox({storage}, shape));
  EXPECT_EQ(whole.data(), storage); // moved, not copied
  std::vector<float> b(24, 0.0f);
  b[13] = 7.0f; // (1, 0, 1)
  const Box box = nonzeroBox({b.data()}, shape);
  const auto expected = crop(b.data(), shape, box);
  const auto part = crop(std::move(b), shape, box);
  EXPECT_EQ(part, expected);
  EXPECT_EQ(part, std::vector<float>{7.0f});
  EXPECT_TRUE(b.empty()); // freed  NOLINT(bugprone-use-after-move)
}

TEST(Crop, NonzeroMaskFillsHoles) {
  const Shape3 shape{5, 5, 5};
  std::vector<float> v(125, 0.0f);
  for (std::int64_t z = 1; z < 4; ++z) // hollow 3x3x3 cube
    for (std::int64_t y = 1; y < 4; ++y)
      for (std::int64_t x = 1; x < 4; ++x)
        if (z != 2 || y != 2 || x != 2) v[std::size_t((z * 5 + y) * 5 + x)] = 1.0f;
  const Box box = nonzeroBox({v.data()}, shape);
  const auto mask = nonzeroMask({v.data()}, shape, box);
  ASSERT_EQ(mask.size(), 27u);
  EXPECT_EQ(mask[13], 1); // the centre hole is filled
  EXPECT_EQ(std::count(mask.begin(), mask.end(), 1), 27);
}

// nnU-Net's DefaultPreprocessor on the fixture inputs: crop box, CT normalization and resampling
// (phantomA: separate z; phantomB: already at the model spacing; phantomC: oblique, plain 3-D).
TEST(NnUNetPreprocessing, CropNormalizeResampleMatchNnUNet) {
  const std::string fx = "fixtures/nnunet/";
  VOXSEG_REQUIRE_DATA(plansPath,
                      sharedPath(fx + "model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres/plans.json"));
  const auto plans = nlohmann::json::parse(std::ifstream(plansPath));
  const auto& stats = plans["foreground_intensity_properties_per_channel"]["0"];
  Normalization ct;
  ct.type = Normalization::Type::CT;
  ct.mean = stats["mean"].get<double>();
  ct.std = stats["std"].get<double>();
  ct.lower = stats["percentile_00_5"].get<double>();
  ct.upper = stats["percentile_99_5"].get<double>();
  for (const std::string name : {"phantomA", "phantomB", "phantomC"}) {
    const auto props =
        nlohmann::json::parse(std::ifstream(sharedPath(fx + "preprocessed/" + name + ".json")))["properties"];
    const io::Volume v = io::readVolume(sharedPath(fx + "inputs/" + name + "_0000.nii.gz"));
    const Geometry g = v.geometry();
    const Shape3 zyx{std::int64_t(g.size[2]), std::int64_t(g.size[1]),
                     std::int64_t(g.size[0])}; // nnU-Net's transposed array
    EXPECT_EQ(std::vector<std::int64_t>(zyx.begin(), zyx.end()),
              props["shape_before_cropping"].get<std::vector<std::int64_t>>());
    const auto f = v.toFloat();
    const Box box = nonzeroBox({f->GetBufferPointer()}, zyx);
    for (int a = 0; a < 3; ++a) {
      EXPECT_EQ(box.begin[a], props["bbox_used_for_cropping"][a][0].get<std::int64_t>()) << name;
      EXPECT_EQ(box.end[a], props["bbox_used_for_cropping"][a][1].get<std::int64_t>()) << name;
    }
    auto cropped = crop(f->GetBufferPointer(), zyx, box);
    normalize(cropped.data(), cropped.size(), ct);
    // nnU-Net's spacing is NIfTI's zooms reversed (z, y, x); resampling order 3, separate z with order 0.
    const Spacing3 spacing{g.spacing[2], g.spacing[1], g.spacing[0]};
    const Spacing3 target{2.5, 0.9, 0.9};
    const Shape3 newShape = nnunetNewShape(box.size(), spacing, target);
    const SeparateZ sep = nnunetSeparateZ(spacing, target);
    EXPECT_EQ(sep.separate, name == "phantomA") << name;
    const auto resampled = nnunetResample(cropped.data(), box.size(), newShape, 3, sep, 0);
    const auto want = voxseg::testing::readNpy(sharedPath(fx + "preprocessed/" + name + ".npy"));
    EXPECT_EQ((std::vector<std::int64_t>{1, newShape[0], newShape[1], newShape[2]}), want.shape) << name;
    ASSERT_EQ(resampled.size(), want.data.size());
    double d = 0;
    for (std::size_t i = 0; i < resampled.size(); ++i) d = std::max(d, double(std::fabs(resampled[i] - want.data[i])));
    EXPECT_LE(d, 1e-4) << name;
    std::cout << name << ": preprocessed " << want.shape[1] << "x" << want.shape[2] << "x" << want.shape[3]
              << ", max abs diff " << d << (sep.separate ? " (separate z)" : "") << "\n";
  }
}

} // namespace
} // namespace voxseg::processing

namespace voxseg::processing {
namespace {

TEST(NnUNetExport, RoundToHalf) {
  EXPECT_EQ(roundToHalf(1.0f), 1.0f);
  EXPECT_EQ(roundToHalf(1.0f + 1.0f / 4096), 1.0f);               // below half a step
  EXPECT_EQ(roundToHalf(1.0f + 3.0f / 2048), 1.0f + 2.0f / 1024); // ties to even
  EXPECT_EQ(roundToHalf(-70.1f), -70.125f);
  EXPECT_EQ(roundToHalf(1e-7f), 1.1920929e-07f); // subnormal step 2^-24
  EXPECT_EQ(roundToHalf(65519.0f), 65504.0f);
  EXPECT_EQ(roundToHalf(-65520.0f), -INFINITY);
  // The same as rounding by the definition (step 2^(e-10), subnormals 2^-24, ties to even), everywhere.
  auto byDefinition = [](float x) {
    const float a = std::fabs(x);
    int e = 0;
    std::frexp(a, &e);
    const float step = std::ldexp(1.0f, std::max(e - 1, -14) - 10);
    return std::copysign(std::nearbyint(a / step) * step, x);
  };
  std::uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    const float x = std::ldexp(float(state >> 8) / float(1 << 24) - 0.5f, int(state % 40) - 25);
    ASSERT_EQ(roundToHalf(x), byDefinition(x)) << x;
  }
}

// numpy's a.transpose(perm): out[i0, i1, i2] = in[j] with j[perm[a]] = i[a], for all six permutations,
// converted element by element (an int16 array to float, float labels to uint8).
TEST(NnUNetTranspose, AllPermutationsMatchTheIndexDefinition) {
  const Shape3 shape{2, 3, 5};
  std::vector<std::int16_t> in(30);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int16_t>(int(i * 7) - 100);
  std::array<int, 3> perm{0, 1, 2};
  int count = 0;
  do {
    const auto out = transposed<float>(in.data(), shape, perm);
    static_assert(std::is_same_v<decltype(out), const std::vector<float>>);
    const Shape3 outShape{shape[std::size_t(perm[0])], shape[std::size_t(perm[1])], shape[std::size_t(perm[2])]};
    ASSERT_EQ(out.size(), in.size());
    for (std::int64_t a = 0; a < outShape[0]; ++a)
      for (std::int64_t b = 0; b < outShape[1]; ++b)
        for (std::int64_t c = 0; c < outShape[2]; ++c) {
          std::array<std::int64_t, 3> j{};
          j[std::size_t(perm[0])] = a;
          j[std::size_t(perm[1])] = b;
          j[std::size_t(perm[2])] = c;
          ASSERT_EQ(out[std::size_t((a * outShape[1] + b) * outShape[2] + c)],
                    float(in[std::size_t((j[0] * shape[1] + j[1]) * shape[2] + j[2])]));
        }
    // the inverse permutation brings the array back, here into another type
    std::array<int, 3> inverse{};
    for (int a = 0; a < 3; ++a) inverse[std::size_t(perm[std::size_t(a)])] = a;
    std::vector<std::int32_t> back(in.size());
    transposeInto(out.data(), outShape, inverse, back.data());
    EXPECT_TRUE(std::equal(back.begin(), back.end(), in.begin()));
    ++count;
  } while (std::next_permutation(perm.begin(), perm.end()));
  EXPECT_EQ(count, 6);
  EXPECT_EQ(transposed(in.data(), shape, {0, 1, 2}), in); // Out defaults to the input's type
}

// Threads share rows, lines and planes, each value computed by the same operations: any number of
// workers gives the same bits (and a number that does not divide the work evenly, too).
TEST(NnUNetResampling, SameResultForAnyNumberOfWorkers) {
  std::uint32_t seed = 99;
  const auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (int trial = 0; trial < 40; ++trial) {
    const Shape3 shape{1 + std::int64_t(next() % 11), 1 + std::int64_t(next() % 23), 1 + std::int64_t(next() % 29)};
    const Shape3 to{1 + std::int64_t(next() % 17), 1 + std::int64_t(next() % 19), 1 + std::int64_t(next() % 31)};
    const int order = std::array<int, 3>{0, 1, 3}[next() % 3];
    SeparateZ sep;
    if (next() % 2) {
      sep.separate = true;
      sep.axis = int(next() % 3);
    }
    const int orderZ = int(next() % 2);
    std::vector<float> v(std::size_t(shape[0] * shape[1] * shape[2]));
    for (auto& x : v) x = float(int(next() % 2001) - 1000) / 37.0f;
    const auto one = nnunetResample(v.data(), shape, to, order, sep, orderZ, 1);
    ASSERT_EQ(one.size(), std::size_t(to[0] * to[1] * to[2]));
    for (unsigned workers : {2u, 3u, 7u})
      ASSERT_EQ(nnunetResample(v.data(), shape, to, order, sep, orderZ, workers), one)
          << "trial " << trial << ", " << workers << " workers";
  }
  // the clipping range: a maximum of zero held by both -0 and +0 (spline overshoots take its sign), and NaN
  {
    const Shape3 shape{7, 9, 11}, to{5, 13, 6};
    std::vector<float> v(std::size_t(shape[0] * shape[1] * shape[2]));
    for (auto& x : v) {
      const std::uint32_t r = next() % 5;
      x = r == 0 ? -0.0f : r == 1 ? 0.0f : -float(next() % 100) / 7.0f;
    }
    v[3] = -0.0f; // the first zero is negative
    const auto one = nnunetResample(v.data(), shape, to, 3, {}, 0, 1);
    for (unsigned workers : {2u, 5u})
      for (std::size_t i = 0; i < one.size(); ++i)
        ASSERT_EQ(std::signbit(nnunetResample(v.data(), shape, to, 3, {}, 0, workers)[i]), std::signbit(one[i]))
            << i << ", " << workers << " workers";
  }
  // the export (resampling of each channel, then labels) too, on random logits of 3 channels
  const Shape3 net{9, 14, 12}, full{16, 20, 21};
  const Box box{{1, 2, 3}, {14, 19, 20}};
  std::vector<float> logits(std::size_t(3 * net[0] * net[1] * net[2]));
  for (auto& x : logits) x = float(int(next() % 2001) - 1000) / 100.0f;
  const auto a = nnunetExport(logits, 3, net, box, full, {2.5, 0.9, 0.9}, {1.0, 0.9, 0.9}, {}, 1);
  const auto b = nnunetExport(logits, 3, net, box, full, {2.5, 0.9, 0.9}, {1.0, 0.9, 0.9}, {}, 4);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.probabilities, b.probabilities);
  EXPECT_GT(std::count(a.labels.begin(), a.labels.end(), 2), 0); // not all background
}

// nnU-Net's own logits through our export: its probabilities and its written label map.
TEST(NnUNetExport, ProbabilitiesAndLabelsFromNnUNetLogits) {
  const std::string fx = "fixtures/nnunet/";
  VOXSEG_REQUIRE_DATA(dir, sharedPath(fx + "predictions"));
  for (const std::string mode : {"fold0_mirror", "folds01_nomirror"})
    for (const std::string name : {"phantomA", "phantomB", "phantomC"}) {
      const auto info = nlohmann::json::parse(std::ifstream(dir + "/" + mode + "/" + name + ".json"));
      const auto& props = info["properties_from_nnunet_pkl"];
      const auto logits = voxseg::testing::readNpy(dir + "/" + mode + "/" + name + "_logits.npy");
      const auto probs = voxseg::testing::readNpy(dir + "/" + mode + "/" + name + "_probabilities.npy");
      Box box;
      Shape3 full{}, net{logits.shape[1], logits.shape[2], logits.shape[3]};
      Spacing3 spacing{};
      for (int a = 0; a < 3; ++a) {
        box.begin[a] = props["bbox_used_for_cropping"][a][0];
        box.end[a] = props["bbox_used_for_cropping"][a][1];
        full[a] = props["shape_before_cropping"][a];
        spacing[a] = props["spacing"][a];
      }
      const ExportResult r = nnunetExport(logits.data, logits.shape[0], net, box, full, {2.5, 0.9, 0.9}, spacing);
      ASSERT_EQ(r.probabilities.size(), probs.data.size());
      double d = 0;
      for (std::size_t i = 0; i < probs.data.size(); ++i)
        d = std::max(d, double(std::fabs(r.probabilities[i] - probs.data[i])));
      EXPECT_LE(d, 1e-3) << mode << " " << name;
      const io::Volume seg = io::readVolume(dir + "/" + mode + "/" + name + ".nii.gz");
      const auto* want = seg.as<std::uint8_t>()->GetBufferPointer();
      std::size_t same = 0;
      for (std::size_t i = 0; i < r.labels.size(); ++i) same += r.labels[i] == want[i];
      const double frac = double(same) / double(r.labels.size());
      EXPECT_GE(frac, 0.9999) << mode << " " << name;
      std::cout << mode << " " << name << ": probabilities max diff " << d << ", labels equal " << 100 * frac << "%\n";
    }
}

} // namespace
} // namespace voxseg::processing
