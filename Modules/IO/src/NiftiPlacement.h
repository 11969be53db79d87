#pragma once
// The fields that place a NIfTI-1 volume in the world, kept from an input and written into the NIfTI outputs
// on its grid, so that every reader (ITK, nibabel, FSL, FreeSurfer) places an output as it places the input.
// Private to IO; Volume and WriteOptions carry it as an opaque pointer.

#include "voxseg/core/Geometry.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace voxseg::io {

struct NiftiPlacement {
  std::int16_t qformCode = 0;
  std::int16_t sformCode = 0;
  std::array<float, 4> pixdim{};  ///< pixdim[0] (qfac) to pixdim[3], in the file's units
  std::array<float, 6> quatern{}; ///< quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z
  std::array<float, 12> srow{};   ///< srow_x, srow_y, srow_z
  std::uint8_t spaceUnits = 0;    ///< xyzt_units & 7 (0 unknown, 1 metre, 2 mm, 3 micrometre)
  Geometry grid;                  ///< the grid voxseg read from these fields (LPS, mm)
};

namespace detail {

/// Millimetres per unit of a NIfTI space-units code (metre 1000, micrometre 0.001, anything else 1).
double niftiMillimetresPerUnit(std::uint8_t spaceUnits);

/// The placement fields of the NIfTI-1 file `path` with `grid`, the grid voxseg read from it. Throws
/// Error(Input) naming `name` when the header cannot be read.
NiftiPlacement readNiftiPlacement(const std::string& path, const std::string& name, const Geometry& grid);

/// For a header whose qform and sform are both set and place the voxels more than 0.01 mm apart: a warning
/// that says how far apart, which of the two `p.grid` follows and which tools read the other; "" otherwise.
/// What outputs do about it is for the caller to add.
std::string niftiFormsDisagreement(const NiftiPlacement& p);

/// True when `g` is the grid the placement was read as (same size; spacing, origin and direction within 1e-6).
bool placementFits(const NiftiPlacement& p, const Geometry& g);

/// Puts the placement fields of `p` into the header of `plain`, an uncompressed NIfTI-1 file in this machine's
/// byte order as ITK writes it: in place when `gzip` is false, else into a gzip-compressed copy at
/// `destination`. Throws Error(Output) naming `name`.
void writeNiftiWithPlacement(const NiftiPlacement& p, const std::string& plain, const std::string& destination,
                             bool gzip, const std::string& name);

} // namespace detail
} // namespace voxseg::io
