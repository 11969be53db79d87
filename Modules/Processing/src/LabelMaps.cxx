#include "voxseg/processing/LabelMaps.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelExtents.h"

#include <itkBinaryFillholeImageFilter.h>
#include <itkBinaryThresholdImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkRegionOfInterestImageFilter.h>
#include <itkRelabelComponentImageFilter.h>

#include <algorithm>
#include <array>

namespace voxseg::processing {
namespace {

using Mask = itk::Image<unsigned char, 3>;
using Components = itk::Image<unsigned int, 3>;

// A label's bounding box (labelExtents) as an ITK region: the steps below work on it only, since the label's
// mask is empty outside (components, holes and sizes are the same as on the whole grid, at a box's cost).
LabelImage::RegionType boxOf(const LabelExtent& b) {
  LabelImage::RegionType region;
  for (unsigned a = 0; a < 3; ++a) {
    region.SetIndex(a, static_cast<itk::IndexValueType>(b.lo[a]));
    region.SetSize(a, b.hi[a] - b.lo[a] + 1);
  }
  return region;
}

std::vector<LabelExtent> extentsOf(const LabelImage& image) {
  const auto size = image.GetLargestPossibleRegion().GetSize();
  return labelExtents(image.GetBufferPointer(), {size[0], size[1], size[2]});
}

// The mask of one label inside `box` (index 0 at the box's corner).
Mask::Pointer maskOf(const LabelImage& image, int label, const LabelImage::RegionType& box) {
  auto crop = itk::RegionOfInterestImageFilter<LabelImage, LabelImage>::New();
  crop->SetInput(&image);
  crop->SetRegionOfInterest(box);
  auto t = itk::BinaryThresholdImageFilter<LabelImage, Mask>::New();
  t->SetInput(crop->GetOutput());
  t->SetLowerThreshold(static_cast<unsigned short>(label));
  t->SetUpperThreshold(static_cast<unsigned short>(label));
  t->SetInsideValue(1);
  t->SetOutsideValue(0);
  t->Update();
  return t->GetOutput();
}

// The 26-connected components of a mask, numbered 1..n from the largest down (GetSizeOfObjectsInPixels: their
// sizes in that order).
using Relabel = itk::RelabelComponentImageFilter<Components, Components>;
Relabel::Pointer componentsOfMask(const Mask::Pointer& mask) {
  auto cc = itk::ConnectedComponentImageFilter<Mask, Components>::New();
  cc->SetInput(mask);
  cc->SetFullyConnected(true);
  auto relabel = Relabel::New();
  relabel->SetInput(cc->GetOutput());
  relabel->Update();
  return relabel;
}

// Components of one label inside `box`, numbered 1..n from the largest down.
Components::Pointer componentsOf(const LabelImage& image, int label, const LabelImage::RegionType& box,
                                 std::size_t& count) {
  const auto relabel = componentsOfMask(maskOf(image, label, box));
  count = relabel->GetNumberOfObjects();
  return relabel->GetOutput();
}

// f(j, i) for every voxel of `box`: j its index in a box-sized buffer, i its index in the image's buffer.
template <typename F> void forEachInBox(const LabelImage& image, const LabelImage::RegionType& box, F f) {
  const auto size = image.GetLargestPossibleRegion().GetSize();
  const auto lo = box.GetIndex();
  const auto extent = box.GetSize();
  std::size_t j = 0;
  for (std::size_t z = 0; z < extent[2]; ++z)
    for (std::size_t y = 0; y < extent[1]; ++y) {
      const std::size_t row =
          ((std::size_t(lo[2]) + z) * size[1] + std::size_t(lo[1]) + y) * size[0] + std::size_t(lo[0]);
      for (std::size_t x = 0; x < extent[0]; ++x) f(j++, row + x);
    }
}

std::vector<int> presentLabels(const LabelImage& image) {
  return voxseg::presentLabels(image.GetBufferPointer(), image.GetLargestPossibleRegion().GetNumberOfPixels());
}

double voxelMl(const LabelImage& image) {
  const auto s = image.GetSpacing();
  return s[0] * s[1] * s[2] / 1000.0;
}

std::size_t voxelCount(const LabelImage& image) { return image.GetLargestPossibleRegion().GetNumberOfPixels(); }

} // namespace

std::size_t keepLargestComponent(LabelImage& image, const std::vector<int>& labels) {
  std::size_t removed = 0;
  unsigned short* p = image.GetBufferPointer();
  const auto extents = extentsOf(image);
  for (int label : labels) {
    if (label < 1 || label > 65535 || !extents[std::size_t(label)].voxels) continue;
    const auto box = boxOf(extents[std::size_t(label)]);
    std::size_t objects = 0;
    const auto comp = componentsOf(image, label, box, objects); // 1 = largest
    if (objects < 2) continue;
    const unsigned int* c = comp->GetBufferPointer();
    forEachInBox(image, box, [&](std::size_t j, std::size_t i) {
      if (c[j] > 1) {
        p[i] = 0;
        ++removed;
      }
    });
  }
  return removed;
}

std::size_t keepLargestComponentOfUnion(LabelImage& image, const std::vector<int>& labels, int background) {
  const auto extents = extentsOf(image);
  std::vector<unsigned char> in(65536, 0);
  LabelExtent all;
  for (int label : labels) {
    if (label < 1 || label > 65535 || !extents[std::size_t(label)].voxels) continue;
    const auto& e = extents[std::size_t(label)];
    in[std::size_t(label)] = 1;
    all.voxels += e.voxels;
    for (std::size_t a = 0; a < 3; ++a)
      all.lo[a] = std::min(all.lo[a], e.lo[a]), all.hi[a] = std::max(all.hi[a], e.hi[a]);
  }
  if (!all.voxels) return 0;
  const auto box = boxOf(all);
  auto mask = Mask::New();
  Mask::RegionType region;
  region.SetSize(box.GetSize());
  mask->SetRegions(region);
  mask->Allocate();
  unsigned short* p = image.GetBufferPointer();
  unsigned char* m = mask->GetBufferPointer();
  forEachInBox(image, box, [&](std::size_t j, std::size_t i) { m[j] = in[p[i]]; });
  const auto relabel = componentsOfMask(mask);
  const auto& sizes = relabel->GetSizeOfObjectsInPixels();
  std::size_t kept = 0; // components of the largest size: 1..kept
  while (kept < sizes.size() && sizes[kept] == sizes.front()) ++kept;
  const unsigned int* c = relabel->GetOutput()->GetBufferPointer();
  std::size_t changed = 0;
  forEachInBox(image, box, [&](std::size_t j, std::size_t i) {
    if (c[j] > kept && p[i] != background) {
      p[i] = static_cast<unsigned short>(background);
      ++changed;
    }
  });
  return changed;
}

std::vector<LabelInfo> remapLabels(const std::vector<LabelInfo>& labels, const std::map<int, int>& remap) {
  std::map<int, LabelInfo> out;
  for (const auto& l : labels) {
    const auto it = remap.find(l.value);
    LabelInfo m = l;
    if (it != remap.end()) m.value = it->second;
    if (l.value != 0 && m.value == 0) continue;
    out.emplace(m.value, m); // the first one keeps a shared value
  }
  std::vector<LabelInfo> v;
  for (auto& [value, l] : out) v.push_back(l);
  return v;
}

PostprocessingCounts postprocess(LabelImage& image, const Postprocessing& steps) {
  PostprocessingCounts counts;
  const std::size_t n = voxelCount(image);
  unsigned short* p = image.GetBufferPointer();
  for (const auto& step : steps.largestOfUnions)
    counts.unionsRemoved += keepLargestComponentOfUnion(image, step.labels, step.background);
  if (!steps.keepLargest.empty()) counts.largestRemoved = keepLargestComponent(image, steps.keepLargest);
  if (!steps.fillHoles.empty()) {
    // a hole is enclosed by its label, so it lies in the label's box; background reaching the box's faces
    // reaches the grid's border through the voxels outside, where the label is absent
    const auto extents = extentsOf(image);
    for (int label : steps.fillHoles) {
      if (label < 1 || label > 65535 || !extents[std::size_t(label)].voxels) continue;
      const auto box = boxOf(extents[std::size_t(label)]);
      auto fill = itk::BinaryFillholeImageFilter<Mask>::New();
      fill->SetInput(maskOf(image, label, box));
      fill->SetForegroundValue(1);
      fill->SetFullyConnected(false); // background face-connected to the border stays
      fill->Update();
      const unsigned char* m = fill->GetOutput()->GetBufferPointer();
      forEachInBox(image, box, [&](std::size_t j, std::size_t i) {
        if (m[j] && p[i] == 0) {
          p[i] = static_cast<unsigned short>(label);
          ++counts.holesFilled;
        }
      });
    }
  }
  if (steps.minVoxels > 0 || steps.minMl > 0) {
    const double ml = voxelMl(image);
    const auto extents = extentsOf(image);
    for (int label = 1; label < 65536; ++label) {
      if (!extents[std::size_t(label)].voxels) continue;
      const auto box = boxOf(extents[std::size_t(label)]);
      std::size_t objects = 0;
      const auto comp = componentsOf(image, label, box, objects);
      std::vector<std::size_t> sizes(objects + 1, 0);
      const unsigned int* c = comp->GetBufferPointer();
      const std::size_t inBox = box.GetNumberOfPixels();
      for (std::size_t j = 0; j < inBox; ++j) ++sizes[c[j]];
      forEachInBox(image, box, [&](std::size_t j, std::size_t i) {
        if (c[j] != 0 && (std::int64_t(sizes[c[j]]) < steps.minVoxels || double(sizes[c[j]]) * ml < steps.minMl)) {
          p[i] = 0;
          ++counts.smallRemoved;
        }
      });
    }
  }
  if (!steps.remap.empty())
    for (std::size_t i = 0; i < n; ++i) {
      const auto it = steps.remap.find(p[i]);
      if (it != steps.remap.end() && it->second != p[i]) {
        p[i] = static_cast<unsigned short>(it->second);
        ++counts.remapped;
      }
    }
  return counts;
}

std::vector<LabelStatistics> labelStatistics(const LabelImage& image) {
  // One pass for voxel counts and bounding boxes; components are counted on each label's box only
  // (the mask is empty outside it, so the count is the same as on the whole grid).
  const auto boxes = extentsOf(image);
  std::vector<LabelStatistics> out;
  const double ml = voxelMl(image);
  for (int label = 1; label < 65536; ++label) {
    const LabelExtent& b = boxes[label];
    if (!b.voxels) continue;
    auto cc = itk::ConnectedComponentImageFilter<Mask, Components>::New();
    cc->SetInput(maskOf(image, label, boxOf(b)));
    cc->SetFullyConnected(true);
    cc->Update();
    LabelStatistics s;
    s.label = label;
    s.voxels = b.voxels;
    s.components = cc->GetObjectCount();
    s.ml = double(s.voxels) * ml;
    out.push_back(s);
  }
  return out;
}

std::vector<Instance> labelInstances(const LabelImage& labels, const std::vector<int>& classes,
                                     LabelImage::Pointer& instances) {
  instances = LabelImage::New();
  instances->CopyInformation(&labels);
  instances->SetRegions(labels.GetLargestPossibleRegion());
  instances->Allocate(true);
  unsigned short* out = instances->GetBufferPointer();
  const auto size = labels.GetLargestPossibleRegion().GetSize();
  const double ml = voxelMl(labels);
  const auto extents = extentsOf(labels);
  std::vector<int> wanted = classes;
  if (wanted.empty()) {
    const auto present = presentLabels(labels);
    wanted.assign(present.begin(), present.end());
  }
  std::vector<Instance> table;
  for (int label : wanted) {
    if (label < 1 || label > 65535 || !extents[std::size_t(label)].voxels) continue;
    const auto box = boxOf(extents[std::size_t(label)]);
    std::size_t objects = 0;
    const auto comp = componentsOf(labels, label, box, objects);
    if (table.size() + objects > 65535)
      throw Error(ExitCode::Input, "more than 65535 instances: the instance map cannot hold them");
    const int first = int(table.size()) + 1;
    std::vector<Instance> mine(objects);
    std::vector<std::array<double, 3>> sums(objects, {0, 0, 0});
    for (std::size_t k = 0; k < objects; ++k) {
      mine[k].id = first + int(k);
      mine[k].label = label;
      mine[k].begin = {std::int64_t(size[0]), std::int64_t(size[1]), std::int64_t(size[2])};
    }
    const unsigned int* c = comp->GetBufferPointer();
    forEachInBox(labels, box, [&](std::size_t j, std::size_t i) {
      if (c[j] == 0) return;
      Instance& in = mine[c[j] - 1];
      out[i] = static_cast<unsigned short>(in.id);
      const std::array<std::int64_t, 3> idx{std::int64_t(i % size[0]), std::int64_t((i / size[0]) % size[1]),
                                            std::int64_t(i / (size[0] * size[1]))};
      ++in.voxels;
      for (std::size_t a = 0; a < 3; ++a) {
        sums[c[j] - 1][a] += double(idx[a]);
        in.begin[a] = std::min(in.begin[a], idx[a]);
        in.end[a] = std::max(in.end[a], idx[a] + 1);
      }
    });
    for (std::size_t k = 0; k < objects; ++k) {
      Instance& in = mine[k];
      in.ml = double(in.voxels) * ml;
      itk::ContinuousIndex<double, 3> ci;
      for (unsigned a = 0; a < 3; ++a) ci[a] = sums[k][a] / double(in.voxels);
      itk::Point<double, 3> world;
      labels.TransformContinuousIndexToPhysicalPoint(ci, world);
      for (unsigned a = 0; a < 3; ++a) in.centroid[a] = world[a];
      table.push_back(in);
    }
  }
  return table;
}

} // namespace voxseg::processing
