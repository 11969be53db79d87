#pragma once
// How label surfaces are made (Surfaces.h); a header without VTK for command-line settings.

namespace voxseg::rendering {

struct SurfaceOptions {
  int smoothingIterations = 20; ///< windowed sinc; 0: no smoothing (labels under 27 voxels are never smoothed)
  double passBand = 0.1;        ///< windowed sinc pass band (smaller smooths more)
  double decimation = 0.5;      ///< fraction of triangles removed (quadric, volume preserving); 0: none
  bool normals = true;          ///< point normals (consistent, pointing outwards)
};

} // namespace voxseg::rendering
