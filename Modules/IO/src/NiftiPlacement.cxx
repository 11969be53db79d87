#include "NiftiPlacement.h"
#include "PayloadCheck.h"
#include "RawBytes.h"

#include "voxseg/core/Error.h"

#include <nifti1_io.h>

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace voxseg::io::detail {
namespace {

// A 4x4 voxel-to-world matrix (RAS, the file's units) as nifticlib computes it.
using Affine = std::array<std::array<double, 4>, 3>;

Affine qformAffine(const NiftiPlacement& p) {
  const auto& q = p.quatern;
  const mat44 m =
      nifti_quatern_to_mat44(q[0], q[1], q[2], q[3], q[4], q[5], p.pixdim[1], p.pixdim[2], p.pixdim[3], p.pixdim[0]);
  Affine a{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) a[r][c] = m.m[r][c];
  return a;
}

Affine sformAffine(const NiftiPlacement& p) {
  Affine a{};
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < 4; ++c) a[r][c] = p.srow[4 * r + c];
  return a;
}

// The eight corner voxels' centres of the grid, as indices.
std::vector<Vec3> corners(const Size3& size) {
  std::vector<Vec3> out;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i)
        out.push_back({i ? double(size[0] - 1) : 0.0, j ? double(size[1] - 1) : 0.0, k ? double(size[2] - 1) : 0.0});
  return out;
}

// RAS position in mm of index `c` under a form.
Vec3 placed(const Affine& a, const Vec3& c, double mm) {
  Vec3 w{};
  for (int r = 0; r < 3; ++r) w[r] = mm * (a[r][0] * c[0] + a[r][1] * c[1] + a[r][2] * c[2] + a[r][3]);
  return w;
}

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

// The largest distance, over the corner voxels, between two placements (RAS mm).
template <typename F, typename G> double largestGap(const Size3& size, F first, G second) {
  double gap = 0;
  for (const Vec3& c : corners(size)) gap = std::max(gap, distance(first(c), second(c)));
  return gap;
}

} // namespace

double niftiMillimetresPerUnit(std::uint8_t spaceUnits) {
  switch (spaceUnits) {
  case NIFTI_UNITS_METER: return 1e3;
  case NIFTI_UNITS_MICRON: return 1e-3;
  default: return 1.0;
  }
}

NiftiPlacement readNiftiPlacement(const std::string& path, const std::string& name, const Geometry& grid) {
  static_assert(sizeof(nifti_1_header) == 348);
  std::array<unsigned char, 348> bytes{};
  bool swap = false;
  if (readNiftiOneHeader(path, bytes, swap) != NiftiOneHeader::Read)
    throw inputError(name, "cannot read the NIfTI-1 header again");
  nifti_1_header h{};
  std::memcpy(&h, bytes.data(), sizeof h);
  if (swap) swap_nifti_header(&h, 1);
  NiftiPlacement p;
  p.qformCode = h.qform_code;
  p.sformCode = h.sform_code;
  for (int i = 0; i < 4; ++i) p.pixdim[std::size_t(i)] = h.pixdim[i];
  p.quatern = {h.quatern_b, h.quatern_c, h.quatern_d, h.qoffset_x, h.qoffset_y, h.qoffset_z};
  for (std::size_t c = 0; c < 4; ++c) {
    p.srow[c] = h.srow_x[c];
    p.srow[4 + c] = h.srow_y[c];
    p.srow[8 + c] = h.srow_z[c];
  }
  p.spaceUnits = std::uint8_t(XYZT_TO_SPACE(h.xyzt_units));
  p.grid = grid;
  return p;
}

std::string niftiFormsDisagreement(const NiftiPlacement& p) {
  if (p.qformCode <= 0 || p.sformCode <= 0) return {};
  const double mm = niftiMillimetresPerUnit(p.spaceUnits);
  const Affine q = qformAffine(p), s = sformAffine(p);
  const auto byQform = [&](const Vec3& c) { return placed(q, c, mm); };
  const auto bySform = [&](const Vec3& c) { return placed(s, c, mm); };
  const double gap = largestGap(p.grid.size, byQform, bySform);
  if (!(gap > 0.01)) return {};
  const auto byGrid = [&](const Vec3& c) {
    const Vec3 lps = p.grid.indexToWorld(c);
    return Vec3{-lps[0], -lps[1], lps[2]};
  };
  const bool sformRead = largestGap(p.grid.size, byGrid, bySform) < largestGap(p.grid.size, byGrid, byQform);
  const std::string readers = sformRead
                                  ? "the sform, as ITK 5.2, nibabel, FSL and FreeSurfer do"
                                  : "the qform, as ITK 5.2 does, while nibabel, FSL and FreeSurfer read the sform";
  return fmt::format("the qform (code {}) and the sform (code {}) place the voxels up to {:.4g} mm apart; voxseg "
                     "reads {}",
                     p.qformCode, p.sformCode, gap, readers);
}

bool placementFits(const NiftiPlacement& p, const Geometry& g) { return g.nearlyEqual(p.grid, 1e-6); }

void writeNiftiWithPlacement(const NiftiPlacement& p, const std::string& plain, const std::string& destination,
                             bool gzip, const std::string& name) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(plain.c_str(), gzip ? "rb" : "r+b"), &std::fclose);
  nifti_1_header h{};
  if (!in || std::fread(&h, sizeof h, 1, in.get()) != 1) throw outputError(name, "cannot read back its NIfTI header");
  if (h.sizeof_hdr != 348) throw outputError(name, "the NIfTI header written is not NIfTI-1 in this byte order");
  h.qform_code = p.qformCode;
  h.sform_code = p.sformCode;
  for (int i = 0; i < 4; ++i) h.pixdim[i] = p.pixdim[std::size_t(i)];
  h.quatern_b = p.quatern[0];
  h.quatern_c = p.quatern[1];
  h.quatern_d = p.quatern[2];
  h.qoffset_x = p.quatern[3];
  h.qoffset_y = p.quatern[4];
  h.qoffset_z = p.quatern[5];
  for (std::size_t c = 0; c < 4; ++c) {
    h.srow_x[c] = p.srow[c];
    h.srow_y[c] = p.srow[4 + c];
    h.srow_z[c] = p.srow[8 + c];
  }
  h.xyzt_units = char(SPACE_TIME_TO_XYZT(p.spaceUnits, XYZT_TO_TIME(h.xyzt_units)));
  if (!gzip) {
    if (std::fseek(in.get(), 0, SEEK_SET) != 0 || std::fwrite(&h, sizeof h, 1, in.get()) != 1 ||
        std::fflush(in.get()) != 0)
      throw outputError(name, "cannot write its NIfTI header (disk full?)");
    return;
  }
  std::vector<char> buffer(1 << 20);
  std::unique_ptr<gzFile_s, GzCloser> out(gzopen(destination.c_str(), "wb6"));
  bool ok = out && gzwrite(out.get(), &h, unsigned(sizeof h)) == int(sizeof h);
  while (ok) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get());
    if (got == 0) break;
    ok = gzwrite(out.get(), buffer.data(), unsigned(got)) == int(got);
  }
  if (!ok || std::ferror(in.get()) || gzclose(out.release()) != Z_OK)
    throw outputError(name, "cannot write (disk full?)");
}

} // namespace voxseg::io::detail
