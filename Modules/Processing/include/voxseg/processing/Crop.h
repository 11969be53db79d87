#pragma once
// Cropping to the non-zero region, as nnU-Net's crop_to_nonzero does before normalization.

#include <array>
#include <cstdint>
#include <vector>

namespace voxseg::processing {

using Shape3 = std::array<std::int64_t, 3>;

/// A box [begin, end) per axis of a C-order (slowest-first) array.
struct Box {
  Shape3 begin{0, 0, 0};
  Shape3 end{0, 0, 0};
  Shape3 size() const { return {end[0] - begin[0], end[1] - begin[1], end[2] - begin[2]}; }
};

/// Bounding box of the voxels that are non-zero in at least one channel (nnU-Net's
/// create_nonzero_mask + get_bbox_from_mask; filling holes cannot change the box). All-zero input:
/// the whole array. On `workers` threads, a few planes each (the box does not depend on their number).
Box nonzeroBox(const std::vector<const float*>& channels, const Shape3& shape, unsigned workers = 1);

/// The non-zero mask of nnU-Net's create_nonzero_mask inside `box`: voxels non-zero in any channel,
/// with holes filled (scipy binary_fill_holes: background connected to the border by faces stays).
std::vector<std::uint8_t> nonzeroMask(const std::vector<const float*>& channels, const Shape3& shape, const Box& box);

/// The box's voxels, C order, copied on `workers` threads (a few planes each).
std::vector<float> crop(const float* data, const Shape3& shape, const Box& box, unsigned workers = 1);

/// The same, from an array the caller hands over: returned as it is when the box is the whole array
/// (no copy; CT in Hounsfield units has no zeros), else cropped and `data` freed.
std::vector<float> crop(std::vector<float>&& data, const Shape3& shape, const Box& box, unsigned workers = 1);

/// Writes `cropped` (box.size()) into `full` (shape), voxels outside the box set to `fill`.
void uncrop(const float* cropped, const Box& box, float* full, const Shape3& shape, float fill);

} // namespace voxseg::processing
