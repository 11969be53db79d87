// Label surfaces: enclosed volume close to the voxel volume, world bounds of the label's physical
// extent under any direction matrix, mesh files that read back with the same bounds.
#include "voxseg/rendering/Surfaces.h"
#include "voxseg/core/Error.h"
#include "voxseg/rendering/MeshFiles.h"
#include "voxseg/testing/Data.h"

#include <vtkOBJReader.h>
#include <vtkPLYReader.h>
#include <vtkPolyData.h>
#include <vtkSTLReader.h>
#include <vtkSmartPointer.h>
#include <vtkXMLPolyDataReader.h>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

namespace voxseg::rendering {
namespace {

// A ball of `radius` mm (label 1) and a box (label 2) on a grid with the given spacing and direction.
Labels phantom(const Vec3& spacing, const Mat3& direction, double radius = 12) {
  Labels l;
  l.geometry.size = {48, 44, 20};
  l.geometry.spacing = spacing;
  l.geometry.origin = {10, -20, 30};
  l.geometry.direction = direction;
  l.voxels.assign(l.geometry.voxelCount(), 0);
  const auto& n = l.geometry.size;
  for (std::size_t z = 0; z < n[2]; ++z)
    for (std::size_t y = 0; y < n[1]; ++y)
      for (std::size_t x = 0; x < n[0]; ++x) {
        const double dx = (double(x) - 20) * spacing[0], dy = (double(y) - 20) * spacing[1],
                     dz = (double(z) - 10) * spacing[2];
        std::uint16_t v = dx * dx + dy * dy + dz * dz <= radius * radius ? 1 : 0;
        if (x >= 38 && x <= 44 && y >= 5 && y <= 12 && z >= 3 && z <= 8) v = 2;
        l.voxels[(z * n[1] + y) * n[0] + x] = v;
      }
  return l;
}

// World bounds of the voxel corners of `label` (the physical extent the surface should span).
std::array<double, 6> extentOf(const Labels& l, int label) {
  std::array<double, 6> b{INFINITY, -INFINITY, INFINITY, -INFINITY, INFINITY, -INFINITY};
  const auto& n = l.geometry.size;
  for (std::size_t z = 0; z < n[2]; ++z)
    for (std::size_t y = 0; y < n[1]; ++y)
      for (std::size_t x = 0; x < n[0]; ++x)
        if (l.voxels[(z * n[1] + y) * n[0] + x] == label) {
          const Vec3 p = l.geometry.indexToWorld({double(x), double(y), double(z)});
          for (int a = 0; a < 3; ++a) b[2 * a] = std::min(b[2 * a], p[a]), b[2 * a + 1] = std::max(b[2 * a + 1], p[a]);
        }
  return b;
}

void expectBoundsNear(const double* got, const std::array<double, 6>& want, double tol) {
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(got[i], want[i], tol) << "bound " << i;
}

TEST(Surfaces, BallVolumeWithinThreePercentUnderObliqueDirections) {
  const Mat3 identity{1, 0, 0, 0, 1, 0, 0, 0, 1};
  const Mat3 flippedPermuted{0, -1, 0, 1, 0, 0, 0, 0, -1}; // det +1, axes swapped and flipped
  const double c = std::cos(0.4), s = std::sin(0.4);
  const Mat3 oblique{c, -s, 0, s, c, 0, 0, 0, 1};
  const Mat3 mirrored{-1, 0, 0, 0, 1, 0, 0, 0, 1}; // det -1
  for (const Mat3& d : {identity, flippedPermuted, oblique, mirrored}) {
    const Labels l = phantom({0.9, 0.9, 2.5}, d);
    const auto surfaces = extractSurfaces(l, {}, SurfaceOptions{});
    ASSERT_EQ(surfaces.size(), 2u);
    const LabelSurface& ball = surfaces[0];
    EXPECT_EQ(ball.label, 1);
    EXPECT_NEAR(ball.enclosedVolumeMm3 / ball.voxelVolumeMm3, 1.0, 0.03);
    EXPECT_NEAR(ball.voxelVolumeMm3, 4.0 / 3.0 * M_PI * 12 * 12 * 12, 0.06 * ball.voxelVolumeMm3);
    // the smoothed surface lies within a voxel of the voxel centres' extent
    expectBoundsNear(ball.worldBounds.data(), extentOf(l, 1), 2.5);
    EXPECT_GT(surfaces[1].surface->GetNumberOfPolys(), 0);
  }
}

TEST(Surfaces, ListedLabelsOnlyAndAbsentOnesSkipped) {
  const Labels l = phantom({1, 1, 1}, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  const auto surfaces = extractSurfaces(l, {2, 7}, SurfaceOptions{}, 1);
  ASSERT_EQ(surfaces.size(), 1u);
  EXPECT_EQ(surfaces[0].label, 2);
  EXPECT_EQ(surfaces[0].voxels, 7u * 8u * 6u);
  // without smoothing the box surface passes through the outer voxels' half-way planes
  SurfaceOptions raw;
  raw.smoothingIterations = 0;
  raw.decimation = 0;
  const auto box = extractSurfaces(l, {2}, raw, 1);
  auto want = extentOf(l, 2);
  for (int a = 0; a < 3; ++a) want[2 * a] -= 0.5, want[2 * a + 1] += 0.5;
  expectBoundsNear(box[0].worldBounds.data(), want, 1e-6);
  EXPECT_NEAR(box[0].enclosedVolumeMm3, box[0].voxelVolumeMm3, 0.12 * box[0].voxelVolumeMm3);
}

// A thin, wide label (3 slices of a 160 x 140 block: large flat faces): decimation reaches its target and keeps the
// shape; the flat faces go first (the time it took is in Documentation/render.md, not tested here).
TEST(Surfaces, ThinWideLabelDecimatedToItsTargetWithItsVolume) {
  Labels l;
  l.geometry.size = {180, 160, 5};
  l.geometry.spacing = {0.8, 0.8, 1.0};
  l.voxels.assign(l.geometry.voxelCount(), 0);
  for (std::size_t z = 1; z <= 3; ++z)
    for (std::size_t y = 10; y < 150; ++y)
      for (std::size_t x = 10; x < 170; ++x) l.voxels[(z * 160 + y) * 180 + x] = 1;
  SurfaceOptions none;
  none.decimation = 0;
  const auto full = extractSurfaces(l, {1}, none, 1);
  const auto half = extractSurfaces(l, {1}, SurfaceOptions{}, 1); // decimation 0.5
  ASSERT_EQ(full.size(), 1u);
  ASSERT_EQ(half.size(), 1u);
  const double before = double(full[0].surface->GetNumberOfPolys()),
               after = double(half[0].surface->GetNumberOfPolys());
  EXPECT_NEAR(after / before, 0.5, 0.01) << before << " -> " << after;
  EXPECT_NEAR(half[0].enclosedVolumeMm3 / full[0].enclosedVolumeMm3, 1.0, 1e-3);
  expectBoundsNear(half[0].worldBounds.data(),
                   {full[0].worldBounds[0], full[0].worldBounds[1], full[0].worldBounds[2], full[0].worldBounds[3],
                    full[0].worldBounds[4], full[0].worldBounds[5]},
                   1e-3);
}

template <class Reader> vtkSmartPointer<vtkPolyData> readBack(const std::string& path) {
  auto r = vtkSmartPointer<Reader>::New();
  r->SetFileName(path.c_str());
  r->Update();
  return r->GetOutput();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(MeshFiles, EveryFormatReadsBackWithTheWorldBounds) {
  voxseg::testing::TempDir dir;
  const Labels l = phantom({0.9, 0.9, 2.5}, {0, -1, 0, 1, 0, 0, 0, 0, -1});
  const auto surfaces = extractSurfaces(l, {}, SurfaceOptions{});
  std::vector<NamedSurface> named{{&surfaces[0], "ball", {200, 40, 40}}, {&surfaces[1], "box", {40, 40, 200}}};
  double lps[6];
  {
    const double* a = surfaces[0].worldBounds.data();
    const double* b = surfaces[1].worldBounds.data();
    for (int i = 0; i < 6; ++i) lps[i] = i % 2 ? std::max(a[i], b[i]) : std::min(a[i], b[i]);
  }
  const std::array<double, 6> lpsBounds{lps[0], lps[1], lps[2], lps[3], lps[4], lps[5]};
  const std::array<double, 6> rasBounds{-lps[1], -lps[0], -lps[3], -lps[2], lps[4], lps[5]};
  for (const std::string f : {"stl", "ply", "vtp", "obj"})
    for (const std::string space : {"lps", "ras"}) {
      const std::string path = dir.file("labels_" + space + "." + f);
      writeMesh(named, parseMeshFormat(f), parseMeshSpace(space), path, false);
      vtkSmartPointer<vtkPolyData> mesh;
      if (f == "stl") mesh = readBack<vtkSTLReader>(path);
      if (f == "ply") mesh = readBack<vtkPLYReader>(path);
      if (f == "vtp") mesh = readBack<vtkXMLPolyDataReader>(path);
      if (f == "obj") mesh = readBack<vtkOBJReader>(path);
      ASSERT_GT(mesh->GetNumberOfPolys(), 0) << path;
      expectBoundsNear(mesh->GetBounds(), space == "lps" ? lpsBounds : rasBounds, 1e-3);
      const std::string marker = "SPACE=" + std::string(space == "lps" ? "LPS" : "RAS");
      if (f != "vtp") {
        EXPECT_NE(slurp(path).find(marker), std::string::npos) << path;
      }
    }
  EXPECT_NE(slurp(dir.file("labels_lps.mtl")).find("Kd 0.7843 0.1569 0.1569"), std::string::npos);
  EXPECT_THROW(writeMesh(named, MeshFormat::Stl, MeshSpace::Lps, dir.file("labels_lps.stl"), false), Error);
  EXPECT_THROW(parseMeshFormat("fbx"), Error);
}

} // namespace
} // namespace voxseg::rendering
