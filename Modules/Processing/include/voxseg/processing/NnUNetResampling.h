#pragma once
// nnU-Net v2's resampling (default_resampling.resample_data_or_seg_to_shape) reproduced without
// Python: skimage.transform.resize (scipy.ndimage.zoom, grid mode, spline order 0/1/3, edge mode,
// output clipped to the input range) and the separate-z rule for anisotropic data.

#include "voxseg/processing/Crop.h"

#include <array>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace voxseg::processing {

using Spacing3 = std::array<double, 3>;

/// nnU-Net compute_new_shape: round(spacing / newSpacing * shape) per axis (round half to even).
Shape3 nnunetNewShape(const Shape3& shape, const Spacing3& spacing, const Spacing3& newSpacing);

/// nnU-Net determine_do_sep_z_and_axis (threshold 3): separate z when the current spacing, else the
/// new spacing, is anisotropic with exactly one low-resolution axis. axis = -1 when not separate.
struct SeparateZ {
  bool separate = false;
  int axis = -1;
};
SeparateZ nnunetSeparateZ(const Spacing3& current, const Spacing3& target);

/// One channel (C order, `shape`) resampled to `newShape` with spline `order` (0, 1 or 3); with
/// separate z: per slice along `sep.axis` with `order`, then along that axis with `orderZ` (0 or 1).
/// Computed in double precision, returned as float, as nnU-Net does for float32 data. `workers` threads
/// share the work; the result is the same for any number of them.
std::vector<float> nnunetResample(const float* data, const Shape3& shape, const Shape3& newShape, int order,
                                  const SeparateZ& sep, int orderZ, unsigned workers = 1);

/// One label's mask (0/1, C order) resampled as batchgenerators' resize_segmentation resamples each label of a
/// segmentation (nnU-Net's resampling_fn_seg with `order`; with separate z, `orderZ` 0 along that axis): the mask
/// as doubles through nnunetResample's arithmetic, then >= 0.5. The caller lets larger labels win where several
/// masks reach 0.5, as resize_segmentation's loop over the sorted labels does.
std::vector<std::uint8_t> nnunetResampleMask(const std::uint8_t* mask, const Shape3& shape, const Shape3& newShape,
                                             int order, const SeparateZ& sep, int orderZ, unsigned workers = 1);

/// A label map (C order) resampled as nnU-Net's resampling_fn_seg (resize_segmentation): each value's mask through
/// nnunetResampleMask, larger values winning where several reach 0.5, 0 where none does.
std::vector<std::uint16_t> nnunetResampleLabels(const std::uint16_t* labels, const Shape3& shape,
                                                const Shape3& newShape, int order, const SeparateZ& sep, int orderZ,
                                                unsigned workers = 1);

/// skimage.transform.resize of one 2-D plane (h x w, C order) to outH x outW with spline `order`,
/// in double precision, clipped to the plane's range: the in-plane step of nnunetResample.
std::vector<double> nnunetResizePlane(const double* plane, std::int64_t h, std::int64_t w, std::int64_t outH,
                                      std::int64_t outW, int order);

/// Rounds to the nearest float16 value (ties to even), as a cast to torch.float16 does.
float roundToHalf(float x);

/// nnU-Net's LabelManager for one voxel of float16-rounded logits (K values `stride` apart): softmax and
/// argmax; or, for a region-based model (`regionsClassOrder` not empty), sigmoid per channel and
/// `seg[p[i] > 0.5] = regionsClassOrder[i]` in order. Writes the K probabilities to `probs` (stride
/// `probStride`) unless null; returns the label.
int nnunetVoxelLabel(const float* logits, std::int64_t stride, std::int64_t channels,
                     const std::vector<int>& regionsClassOrder, float* probs, std::int64_t probStride);

/// nnU-Net's export of logits (convert_predicted_logits_to_segmentation_with_correct_shape): each
/// channel resampled from the network grid (`netShape`) to the cropped grid (order 1, separate z with
/// order 0 by the rule applied to (target, original spacing)), rounded to float16 as nnU-Net keeps its
/// logits, nnunetVoxelLabel, then put back into the full array (outside the box: background, i.e.
/// probability 1 for channel 0 of a softmax model and 0 for every region).
struct ExportResult {
  std::vector<float> probabilities;  ///< [K][full shape]
  std::vector<std::uint16_t> labels; ///< full shape
};
ExportResult nnunetExport(const std::vector<float>& logits, std::int64_t channels, const Shape3& netShape,
                          const Box& box, const Shape3& fullShape, const Spacing3& targetSpacing,
                          const Spacing3& originalSpacing, const std::vector<int>& regionsClassOrder = {},
                          unsigned workers = 1);

/// numpy's a.transpose(perm) of a C-order array, written into `out` converted element by element
/// (static_cast): out[i0, i1, i2] = in[j] with j[perm[a]] = i[a]. `out` holds
/// {shape[perm[0]], shape[perm[1]], shape[perm[2]]} elements and does not overlap `in`.
template <class Out, class In>
void transposeInto(const In* in, const Shape3& shape, const std::array<int, 3>& perm, Out* out) {
  const Shape3 size{shape[std::size_t(perm[0])], shape[std::size_t(perm[1])], shape[std::size_t(perm[2])]};
  const Shape3 stride{shape[1] * shape[2], shape[2], 1};
  const std::int64_t s0 = stride[std::size_t(perm[0])], s1 = stride[std::size_t(perm[1])],
                     s2 = stride[std::size_t(perm[2])];
  std::size_t o = 0;
  for (std::int64_t i = 0; i < size[0]; ++i)
    for (std::int64_t j = 0; j < size[1]; ++j)
      for (std::int64_t k = 0; k < size[2]; ++k) out[o++] = static_cast<Out>(in[i * s0 + j * s1 + k * s2]);
}

/// numpy's a.transpose(perm) of a C-order array, copied (and converted to Out, T by default).
/// The shape of the result is {shape[perm[0]], shape[perm[1]], shape[perm[2]]}.
template <class Out = void, class T> auto transposed(const T* in, const Shape3& shape, const std::array<int, 3>& perm) {
  using R = std::conditional_t<std::is_void_v<Out>, T, Out>;
  std::vector<R> r(std::size_t(shape[0] * shape[1] * shape[2]));
  transposeInto(in, shape, perm, r.data());
  return r;
}

} // namespace voxseg::processing
