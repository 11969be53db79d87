#include "ResamplingConsumer.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/processing/Resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voxseg::pipeline {

itk::Image<float, 3>::Pointer imageOver(float* voxels, const Geometry& g) {
  auto img = itk::Image<float, 3>::New();
  itk::Image<float, 3>::RegionType region;
  for (unsigned a = 0; a < 3; ++a) region.SetSize(a, g.size[a]);
  img->SetRegions(region);
  setGeometry(*img, g);
  img->GetPixelContainer()->SetImportPointer(voxels, g.voxelCount(), false);
  return img;
}

namespace {

// The grid's rows [begin, end) along `axis`: same spacing and direction, origin at row `begin`.
Geometry rowsOf(const Geometry& g, int axis, std::int64_t begin, std::int64_t end) {
  Geometry part = g;
  part.size[std::size_t(axis)] = std::size_t(end - begin);
  Vec3 index{0, 0, 0};
  index[std::size_t(axis)] = double(begin);
  part.origin = g.indexToWorld(index);
  return part;
}

} // namespace

ResamplingConsumer::ResamplingConsumer(const Geometry& net, const Geometry& work, AxisOrder order,
                                       std::size_t slabBytes, inference::SlabConsumer& next)
    : net_(net), work_(work), order_(order), axis_(order == AxisOrder::ZYX ? 2 : 0), slabBytes_(slabBytes),
      next_(next) {
  for (std::size_t i = 0; i < 9; ++i)
    if (std::fabs(net.direction[i] - work.direction[i]) > 1e-9)
      throw Error(ExitCode::Internal, "resampling logits: the network grid's direction is not the input's");
  const auto a = std::size_t(axis_);
  netRows_ = std::int64_t(net.size[a]);
  workRows_ = std::int64_t(work.size[a]);
  netPlane_ = net.voxelCount() / net.size[a];
  workPlane_ = work.voxelCount() / work.size[a];
  // Per output row, the network rows it interpolates from: the continuous network index of the row's world
  // position along the axis (the grids share their direction), its two neighbours, and one more on each side.
  const Vec3 column{net.direction[a], net.direction[3 + a], net.direction[6 + a]};
  need_.resize(std::size_t(workRows_));
  for (std::int64_t w = 0; w < workRows_; ++w) {
    Vec3 index{0, 0, 0};
    index[a] = double(w);
    const Vec3 p = work.indexToWorld(index);
    const double c =
        ((p[0] - net.origin[0]) * column[0] + (p[1] - net.origin[1]) * column[1] + (p[2] - net.origin[2]) * column[2]) /
        net.spacing[a];
    const double f = std::floor(std::clamp(c, -2.0, double(netRows_) + 2.0));
    need_[std::size_t(w)].lo = std::clamp<std::int64_t>(std::int64_t(f) - 1, 0, netRows_ - 1);
    need_[std::size_t(w)].hi = std::clamp<std::int64_t>(std::int64_t(f) + 3, 1, netRows_);
  }
}

void ResamplingConsumer::consume(const inference::SlabView& slab) {
  if (channels_ == 0) {
    channels_ = slab.channels;
    held_.resize(std::size_t(channels_));
  }
  const inference::Shape3 netShape =
      order_ == AxisOrder::ZYX
          ? inference::Shape3{std::int64_t(net_.size[2]), std::int64_t(net_.size[1]), std::int64_t(net_.size[0])}
          : inference::Shape3{std::int64_t(net_.size[0]), std::int64_t(net_.size[1]), std::int64_t(net_.size[2])};
  if (slab.order != order_ || slab.shape != netShape || slab.channels != channels_)
    throw Error(ExitCode::Internal, "resampling logits: a slab's axis order, shape or channel count is not the "
                                    "network grid's");
  if (slab.begin != heldHi_ || slab.end <= slab.begin || slab.end > netRows_)
    throw Error(ExitCode::Internal, "resampling logits: network rows [" + std::to_string(slab.begin) + ", " +
                                        std::to_string(slab.end) + ") arrived after row " + std::to_string(heldHi_));
  // rows no output row still needs are let go as the new ones come in
  keepRows(nextOutput_ < workRows_ ? need_[std::size_t(nextOutput_)].lo : slab.end, slab);
  emit();
}

void ResamplingConsumer::keepRows(std::int64_t lo, const inference::SlabView& incoming) {
  const std::int64_t hi = incoming.end, newLo = std::min(std::max(lo, heldLo_), hi), rows = hi - newLo;
  const std::int64_t oldRows = heldHi_ - heldLo_;
  const std::int64_t n1 = incoming.shape[1], n2 = incoming.shape[2];
  const std::size_t plane = netPlane_, slabStride = std::size_t(incoming.end - incoming.begin) * plane;
  for (std::int64_t k = 0; k < channels_; ++k) {
    const std::vector<float>& old = held_[std::size_t(k)];
    std::vector<float> now(std::size_t(rows) * plane);
    const float* in = incoming.data + std::size_t(k) * slabStride;
    if (axis_ == 2) { // rows are contiguous planes, in the slab as in ITK's layout
      for (std::int64_t a = std::max(newLo, heldLo_); a < heldHi_; ++a)
        std::memcpy(&now[std::size_t(a - newLo) * plane], &old[std::size_t(a - heldLo_) * plane],
                    plane * sizeof(float));
      for (std::int64_t a = std::max(newLo, incoming.begin); a < hi; ++a)
        std::memcpy(&now[std::size_t(a - newLo) * plane], in + std::size_t(a - incoming.begin) * plane,
                    plane * sizeof(float));
    } else { // rows along ITK x: (x, y, z) of rows [newLo, hi) at ((z * ny + y) * rows + x - newLo)
      for (std::size_t p = 0; p < plane; ++p)
        for (std::int64_t a = std::max(newLo, heldLo_); a < heldHi_; ++a)
          now[p * std::size_t(rows) + std::size_t(a - newLo)] =
              old[p * std::size_t(oldRows) + std::size_t(a - heldLo_)];
      // the slab is [x][y][z] (z fastest): in-plane index i * n2 + j is (y, z) = (i, j), ITK's p = j * n1 + i
      for (std::int64_t a = std::max(newLo, incoming.begin); a < hi; ++a) {
        const float* row = in + std::size_t(a - incoming.begin) * plane;
        for (std::int64_t i = 0; i < n1; ++i)
          for (std::int64_t j = 0; j < n2; ++j)
            now[std::size_t(j * n1 + i) * std::size_t(rows) + std::size_t(a - newLo)] = row[i * n2 + j];
      }
    }
    held_[std::size_t(k)] = std::move(now);
  }
  heldLo_ = newLo;
  heldHi_ = hi;
  peakHeldBytes_ = std::max(peakHeldBytes_, std::size_t(rows) * plane * std::size_t(channels_) * sizeof(float));
}

void ResamplingConsumer::emit() {
  const bool allArrived = heldHi_ == netRows_;
  const std::size_t perRow = workPlane_ * std::size_t(channels_) * sizeof(float);
  const auto maxRows = std::int64_t(std::clamp<std::size_t>(slabBytes_ / perRow, 1, std::size_t(workRows_)));
  const inference::Shape3 workShape =
      order_ == AxisOrder::ZYX
          ? inference::Shape3{std::int64_t(work_.size[2]), std::int64_t(work_.size[1]), std::int64_t(work_.size[0])}
          : inference::Shape3{std::int64_t(work_.size[0]), std::int64_t(work_.size[1]), std::int64_t(work_.size[2])};
  while (nextOutput_ < workRows_) {
    std::int64_t end = nextOutput_;
    while (end < workRows_ && end - nextOutput_ < maxRows && (allArrived || need_[std::size_t(end)].hi <= heldHi_))
      ++end;
    if (end == nextOutput_) return;
    if (need_[std::size_t(nextOutput_)].lo < heldLo_)
      throw Error(ExitCode::Internal, "resampling logits: a network row was let go too early");
    const Geometry held = rowsOf(net_, axis_, heldLo_, heldHi_), part = rowsOf(work_, axis_, nextOutput_, end);
    const std::size_t n = part.voxelCount();
    const std::int64_t rows = end - nextOutput_;
    out_.resize(std::size_t(channels_) * n);
    for (std::int64_t k = 0; k < channels_; ++k) {
      const auto r = processing::resampleLinear(*imageOver(held_[std::size_t(k)].data(), held), part);
      const float* src = r->GetBufferPointer();
      float* dst = out_.data() + std::size_t(k) * n;
      if (axis_ == 2) {
        std::memcpy(dst, src, n * sizeof(float));
        continue;
      }
      // ITK's (x, y, z) of the part at ((z * ny + y) * rows + x) to the slab's [x][y][z]
      const std::int64_t ny = workShape[1], nz = workShape[2];
      for (std::int64_t z = 0; z < nz; ++z)
        for (std::int64_t y = 0; y < ny; ++y)
          for (std::int64_t x = 0; x < rows; ++x) dst[(x * ny + y) * nz + z] = src[(z * ny + y) * rows + x];
    }
    inference::SlabView view;
    view.order = order_;
    view.shape = workShape;
    view.begin = nextOutput_;
    view.end = end;
    view.channels = channels_;
    view.data = out_.data();
    next_.consume(view);
    nextOutput_ = end;
  }
}

void ResamplingConsumer::finish() const {
  if (nextOutput_ != workRows_)
    throw Error(ExitCode::Internal, "resampling logits: " + std::to_string(workRows_ - nextOutput_) + " of " +
                                        std::to_string(workRows_) + " output rows were not made");
}

} // namespace voxseg::pipeline
