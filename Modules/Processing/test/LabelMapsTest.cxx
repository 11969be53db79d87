#include "voxseg/processing/LabelMaps.h"

#include <gtest/gtest.h>

namespace voxseg::processing {
namespace {

// 10 x 8 x 6 image, spacing 2 x 1 x 0.5 mm (1 ml = 1000 voxels), origin (10, -5, 3).
LabelImage::Pointer makeImage() {
  auto img = LabelImage::New();
  LabelImage::RegionType region;
  region.SetSize({10, 8, 6});
  img->SetRegions(region);
  img->SetSpacing(itk::Vector<double, 3>(std::array<double, 3>{2.0, 1.0, 0.5}.data()));
  img->SetOrigin(itk::Point<double, 3>(std::array<double, 3>{10.0, -5.0, 3.0}.data()));
  img->Allocate(true);
  return img;
}

void box(LabelImage& img, int label, std::array<long, 3> lo, std::array<long, 3> hi) {
  for (long z = lo[2]; z < hi[2]; ++z)
    for (long y = lo[1]; y < hi[1]; ++y)
      for (long x = lo[0]; x < hi[0]; ++x) img.SetPixel({x, y, z}, static_cast<unsigned short>(label));
}

std::size_t count(const LabelImage& img, int label) {
  std::size_t c = 0;
  const auto* p = img.GetBufferPointer();
  for (std::size_t i = 0; i < img.GetLargestPossibleRegion().GetNumberOfPixels(); ++i) c += p[i] == label;
  return c;
}

TEST(LabelMaps, StatisticsCountVoxelsVolumeAndComponents) {
  auto img = makeImage();
  box(*img, 1, {0, 0, 0}, {2, 2, 2}); // 8 voxels
  box(*img, 1, {5, 5, 4}, {6, 6, 5}); // 1 voxel, separate
  box(*img, 3, {3, 0, 0}, {4, 3, 1}); // 3 voxels
  const auto s = labelStatistics(*img);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].label, 1);
  EXPECT_EQ(s[0].voxels, 9u);
  EXPECT_EQ(s[0].components, 2u);
  EXPECT_DOUBLE_EQ(s[0].ml, 9 * 1.0 / 1000);
  EXPECT_EQ(s[1].label, 3);
  EXPECT_EQ(s[1].components, 1u);
}

TEST(LabelMaps, FillHolesOnlyFillsEnclosedBackground) {
  auto img = makeImage();
  box(*img, 2, {1, 1, 1}, {6, 6, 5}); // solid 5x5x4
  img->SetPixel({3, 3, 2}, 0);        // enclosed hole
  img->SetPixel({3, 3, 3}, 4);        // another label inside: kept
  img->SetPixel({1, 3, 2}, 0);        // on the surface: open to the outside, stays
  Postprocessing p;
  p.fillHoles = {2};
  const auto c = postprocess(*img, p);
  EXPECT_EQ(c.holesFilled, 1u);
  EXPECT_EQ(img->GetPixel({3, 3, 2}), 2);
  EXPECT_EQ(img->GetPixel({3, 3, 3}), 4);
  EXPECT_EQ(img->GetPixel({1, 3, 2}), 0);
}

TEST(LabelMaps, SmallComponentsAndRemap) {
  auto img = makeImage();
  box(*img, 1, {0, 0, 0}, {3, 3, 3}); // 27 voxels
  box(*img, 1, {8, 6, 4}, {9, 8, 5}); // 2 voxels
  box(*img, 2, {5, 0, 0}, {6, 1, 1}); // 1 voxel
  Postprocessing p;
  p.minVoxels = 3;
  p.remap = {{1, 7}};
  const auto c = postprocess(*img, p);
  EXPECT_EQ(c.smallRemoved, 3u);
  EXPECT_EQ(c.remapped, 27u);
  EXPECT_EQ(count(*img, 7), 27u);
  EXPECT_EQ(count(*img, 1) + count(*img, 2), 0u);
  // by volume: 27 voxels = 0.027 ml survive 0.02 ml, not 0.03 ml
  Postprocessing byMl;
  byMl.minMl = 0.02;
  EXPECT_EQ(postprocess(*img, byMl).smallRemoved, 0u);
  byMl.minMl = 0.03;
  EXPECT_EQ(postprocess(*img, byMl).smallRemoved, 27u);
}

// The label table follows the voxels: moved values keep their names and colors, swapped values swap,
// erased labels go, merged labels keep the first name.
TEST(LabelMaps, RemapLabelsMovesTheTableWithTheVoxels) {
  const auto label = [](int v, const char* name) {
    LabelInfo l;
    l.value = v;
    l.name = name;
    l.color = {v, v, v};
    return l;
  };
  const std::vector<LabelInfo> table{label(0, "background"), label(1, "liver"), label(2, "spleen"), label(3, "kidney")};
  const auto names = [](const std::vector<LabelInfo>& t) {
    std::vector<std::pair<int, std::string>> v;
    for (const auto& l : t) v.emplace_back(l.value, l.name);
    return v;
  };
  using Rows = std::vector<std::pair<int, std::string>>;
  EXPECT_EQ(names(remapLabels(table, {})), names(table));
  const auto moved = remapLabels(table, {{1, 5}});
  EXPECT_EQ(names(moved), (Rows{{0, "background"}, {2, "spleen"}, {3, "kidney"}, {5, "liver"}}));
  EXPECT_EQ(moved.back().color, (std::array<int, 3>{1, 1, 1}));
  EXPECT_EQ(names(remapLabels(table, {{1, 2}, {2, 1}, {3, 0}})),
            (Rows{{0, "background"}, {1, "spleen"}, {2, "liver"}}));
  EXPECT_EQ(names(remapLabels(table, {{3, 1}})), (Rows{{0, "background"}, {1, "liver"}, {2, "spleen"}}));
}

TEST(LabelMaps, KeepLargestThroughPostprocess) {
  auto img = makeImage();
  box(*img, 1, {0, 0, 0}, {2, 2, 2});
  box(*img, 1, {6, 6, 4}, {7, 7, 5});
  Postprocessing p;
  p.keepLargest = {1};
  EXPECT_EQ(postprocess(*img, p).largestRemoved, 1u);
  EXPECT_EQ(count(*img, 1), 8u);
}

// nnU-Net's remove_all_but_largest_component_from_segmentation: one mask of several labels; components touching
// through a corner are one (26-connectivity); a tie keeps every component of the largest size.
TEST(LabelMaps, LargestComponentOfAUnionOfLabelsKeepsTiesAsNnUNetDoes) {
  auto img = makeImage();
  box(*img, 1, {0, 0, 0}, {2, 2, 2});  // 8 voxels of 1
  box(*img, 2, {2, 2, 2}, {3, 3, 3});  // 1 voxel of 2, corner to corner with them: one component of 9
  box(*img, 2, {6, 0, 0}, {9, 3, 1});  // 9 voxels of 2 elsewhere: a tie
  box(*img, 1, {6, 6, 4}, {7, 7, 5});  // 1 voxel of 1: removed
  box(*img, 3, {9, 7, 5}, {10, 8, 6}); // label 3 is not in the union: kept
  Postprocessing p;
  p.largestOfUnions = {{{1, 2}, 0}};
  EXPECT_EQ(postprocess(*img, p).unionsRemoved, 1u);
  EXPECT_EQ(count(*img, 1), 8u);
  EXPECT_EQ(count(*img, 2), 10u);
  EXPECT_EQ(count(*img, 3), 1u);
  // without the tie the smaller one goes, to the background asked for
  box(*img, 2, {6, 0, 1}, {7, 1, 2});
  EXPECT_EQ(keepLargestComponentOfUnion(*img, {2, 1}, 3), 9u);
  EXPECT_EQ(count(*img, 3), 10u);
  EXPECT_EQ(count(*img, 1), 0u);
  EXPECT_EQ(count(*img, 2), 10u);
  EXPECT_EQ(keepLargestComponentOfUnion(*img, {7, 0, 70000}), 0u); // absent and impossible labels
}

TEST(LabelMaps, InstancesGetIdsByClassThenSizeWithWorldCentroids) {
  auto img = makeImage();
  box(*img, 1, {0, 0, 0}, {1, 1, 1});  // 1 voxel at index (0,0,0)
  box(*img, 1, {4, 4, 2}, {6, 6, 4});  // 8 voxels, centroid index (4.5, 4.5, 2.5)
  box(*img, 2, {8, 0, 0}, {10, 1, 1}); // 2 voxels
  LabelImage::Pointer inst;
  const auto table = labelInstances(*img, {}, inst);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[0].id, 1);
  EXPECT_EQ(table[0].label, 1);
  EXPECT_EQ(table[0].voxels, 8u); // largest first
  EXPECT_DOUBLE_EQ(table[0].centroid[0], 10.0 + 4.5 * 2.0);
  EXPECT_DOUBLE_EQ(table[0].centroid[1], -5.0 + 4.5);
  EXPECT_DOUBLE_EQ(table[0].centroid[2], 3.0 + 2.5 * 0.5);
  EXPECT_EQ(table[0].begin, (std::array<std::int64_t, 3>{4, 4, 2}));
  EXPECT_EQ(table[0].end, (std::array<std::int64_t, 3>{6, 6, 4}));
  EXPECT_EQ(table[1].voxels, 1u);
  EXPECT_EQ(table[2].label, 2);
  EXPECT_EQ(inst->GetPixel({5, 5, 3}), 1);
  EXPECT_EQ(inst->GetPixel({0, 0, 0}), 2);
  EXPECT_EQ(inst->GetPixel({9, 0, 0}), 3);
  EXPECT_EQ(inst->GetSpacing(), img->GetSpacing());
  EXPECT_EQ(inst->GetOrigin(), img->GetOrigin());
  // only class 2
  const auto only = labelInstances(*img, {2}, inst);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(inst->GetPixel({5, 5, 3}), 0);
}

} // namespace
} // namespace voxseg::processing
