#include "SurfelAreas.h"

#include <vtkHexahedron.h>
#include <vtkMarchingCubesTriangleCases.h>
#include <vtkNew.h>

#include <cmath>

namespace voxseg::evaluation::detail {
namespace {

using Vec = std::array<double, 3>;

// One triangle of a neighbourhood code, as its area vector in unit-cube coordinates (half the cross
// product of two edges).
struct Triangle {
  Vec normal;
};

// The triangles of every code (in this module's bit order), from VTK's marching-cubes case table with
// the vertex and edge numbering of vtkHexahedron, which that table is written for.
std::array<std::vector<Triangle>, 256> triangulations() {
  vtkNew<vtkHexahedron> hex;
  const double* pcoords = hex->GetParametricCoords();
  std::array<int, 8> vertexBit{};
  for (int v = 0; v < 8; ++v) {
    const auto a = static_cast<int>(pcoords[3 * v]), b = static_cast<int>(pcoords[3 * v + 1]),
               c = static_cast<int>(pcoords[3 * v + 2]);
    vertexBit[v] = cornerBit(a, b, c);
  }
  std::array<Vec, 12> midpoint{};
  for (int e = 0; e < 12; ++e) {
    const vtkIdType* ends = vtkHexahedron::GetEdgeArray(e);
    for (int i = 0; i < 3; ++i) midpoint[e][i] = 0.5 * (pcoords[3 * ends[0] + i] + pcoords[3 * ends[1] + i]);
  }
  const vtkMarchingCubesTriangleCases* cases = vtkMarchingCubesTriangleCases::GetCases();

  std::array<std::vector<Triangle>, 256> out;
  for (int code = 0; code < 256; ++code) {
    int inside = 0;
    for (int bit = 0; bit < 8; ++bit) inside += (code >> bit) & 1;
    // The side with fewer inside voxels is triangulated: marching cubes' ambiguous configurations are
    // then resolved the same way for a code and its complement.
    const int used = inside > 4 ? 255 - code : code;
    int vtkCase = 0;
    for (int v = 0; v < 8; ++v)
      if ((used >> vertexBit[v]) & 1) vtkCase |= 1 << v;
    const EDGE_LIST* edges = cases[vtkCase].edges;
    for (int t = 0; t < 16 && edges[t] >= 0; t += 3) {
      const Vec& p = midpoint[edges[t]];
      const Vec& q = midpoint[edges[t + 1]];
      const Vec& r = midpoint[edges[t + 2]];
      const Vec u{q[0] - p[0], q[1] - p[1], q[2] - p[2]};
      const Vec w{r[0] - p[0], r[1] - p[1], r[2] - p[2]};
      out[code].push_back(Triangle{
          {0.5 * (u[1] * w[2] - u[2] * w[1]), 0.5 * (u[2] * w[0] - u[0] * w[2]), 0.5 * (u[0] * w[1] - u[1] * w[0])}});
    }
  }
  return out;
}

const std::array<std::vector<Triangle>, 256>& cachedTriangulations() {
  static const std::array<std::vector<Triangle>, 256> table = triangulations();
  return table;
}

} // namespace

std::array<double, 256> surfelAreaTable(const Vec3& spacing, DistancePrecision precision) {
  const auto& tri = cachedTriangulations();
  std::array<double, 256> areas{};
  // A triangle's area vector scales with the products of the other two axes' spacings.
  const Vec3 scale{spacing[1] * spacing[2], spacing[0] * spacing[2], spacing[0] * spacing[1]};
  for (int code = 0; code < 256; ++code) {
    if (precision == DistancePrecision::Float64) {
      double sum = 0;
      for (const Triangle& t : tri[code]) {
        const double x = t.normal[0] * spacing[1] * spacing[2];
        const double y = t.normal[1] * spacing[0] * spacing[2];
        const double z = t.normal[2] * spacing[0] * spacing[1];
        sum += std::sqrt(x * x + y * y + z * z);
      }
      areas[code] = sum;
    } else {
      float sum = 0;
      for (const Triangle& t : tri[code]) {
        const float x = static_cast<float>(t.normal[0]) * static_cast<float>(scale[0]);
        const float y = static_cast<float>(t.normal[1]) * static_cast<float>(scale[1]);
        const float z = static_cast<float>(t.normal[2]) * static_cast<float>(scale[2]);
        sum += std::sqrt(x * x + y * y + z * z);
      }
      areas[code] = sum;
    }
  }
  return areas;
}

} // namespace voxseg::evaluation::detail
