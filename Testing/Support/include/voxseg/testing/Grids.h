#pragma once
// Grids for tests that write and read volumes: every field must come back exactly.

#include "voxseg/core/Geometry.h"

namespace voxseg::testing {

/// A 5x4x3 grid with three different spacings, an origin off zero, and `direction` (rotated or flipped, so that
/// a reader or writer that drops the direction, or transposes it, is seen).
inline Geometry obliqueGeometry(const Mat3& direction) {
  Geometry g;
  g.size = {5, 4, 3};
  g.spacing = {0.75, 1.25, 2.5};
  g.origin = {-10.5, 20.25, 3.125};
  g.direction = direction;
  return g;
}

} // namespace voxseg::testing
