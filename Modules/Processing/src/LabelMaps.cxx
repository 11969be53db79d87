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

Mask::Pointer maskOf(const LabelImage& image, int label) {
  auto t = itk::BinaryThresholdImageFilter<LabelImage, Mask>::New();
  t->SetInput(&image);
  t->SetLowerThreshold(static_cast<unsigned short>(label));
  t->SetUpperThreshold(static_cast<unsigned short>(label));
  t->SetInsideValue(1);
  t->SetOutsideValue(0);
  t->Update();
  return t->GetOutput();
}

// Components of one label, numbered 1..n from the largest down.
Components::Pointer componentsOf(const LabelImage& image, int label, std::size_t& count) {
  auto cc = itk::ConnectedComponentImageFilter<Mask, Components>::New();
  cc->SetInput(maskOf(image, label));
  cc->SetFullyConnected(true);
  auto relabel = itk::RelabelComponentImageFilter<Components, Components>::New();
  relabel->SetInput(cc->GetOutput());
  relabel->Update();
  count = relabel->GetNumberOfObjects();
  return relabel->GetOutput();
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
  const std::size_t n = voxelCount(image);
  unsigned short* p = image.GetBufferPointer();
  for (int label : labels) {
    std::size_t objects = 0;
    const auto comp = componentsOf(image, label, objects); // 1 = largest
    if (objects < 2) continue;
    const unsigned int* c = comp->GetBufferPointer();
    for (std::size_t i = 0; i < n; ++i)
      if (c[i] > 1) {
        p[i] = 0;
        ++removed;
      }
  }
  return removed;
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
  if (!steps.keepLargest.empty()) counts.largestRemoved = keepLargestComponent(image, steps.keepLargest);
  for (int label : steps.fillHoles) {
    auto fill = itk::BinaryFillholeImageFilter<Mask>::New();
    fill->SetInput(maskOf(image, label));
    fill->SetForegroundValue(1);
    fill->SetFullyConnected(false); // background face-connected to the border stays
    fill->Update();
    const unsigned char* m = fill->GetOutput()->GetBufferPointer();
    for (std::size_t i = 0; i < n; ++i)
      if (m[i] && p[i] == 0) {
        p[i] = static_cast<unsigned short>(label);
        ++counts.holesFilled;
      }
  }
  if (steps.minVoxels > 0 || steps.minMl > 0) {
    const double ml = voxelMl(image);
    for (int label : presentLabels(image)) {
      std::size_t objects = 0;
      const auto comp = componentsOf(image, label, objects);
      std::vector<std::size_t> sizes(objects + 1, 0);
      const unsigned int* c = comp->GetBufferPointer();
      for (std::size_t i = 0; i < n; ++i) ++sizes[c[i]];
      for (std::size_t i = 0; i < n; ++i)
        if (c[i] != 0 && (std::int64_t(sizes[c[i]]) < steps.minVoxels || double(sizes[c[i]]) * ml < steps.minMl)) {
          p[i] = 0;
          ++counts.smallRemoved;
        }
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
  const auto size = image.GetLargestPossibleRegion().GetSize();
  const auto boxes = labelExtents(image.GetBufferPointer(), {size[0], size[1], size[2]});
  std::vector<LabelStatistics> out;
  const double ml = voxelMl(image);
  for (int label = 1; label < 65536; ++label) {
    const LabelExtent& b = boxes[label];
    if (!b.voxels) continue;
    LabelImage::RegionType region;
    for (unsigned a = 0; a < 3; ++a) {
      region.SetIndex(a, static_cast<itk::IndexValueType>(b.lo[a]));
      region.SetSize(a, b.hi[a] - b.lo[a] + 1);
    }
    auto crop = itk::RegionOfInterestImageFilter<LabelImage, LabelImage>::New();
    crop->SetInput(&image);
    crop->SetRegionOfInterest(region);
    auto cc = itk::ConnectedComponentImageFilter<Mask, Components>::New();
    auto mask = itk::BinaryThresholdImageFilter<LabelImage, Mask>::New();
    mask->SetInput(crop->GetOutput());
    mask->SetLowerThreshold(static_cast<unsigned short>(label));
    mask->SetUpperThreshold(static_cast<unsigned short>(label));
    mask->SetInsideValue(1);
    mask->SetOutsideValue(0);
    cc->SetInput(mask->GetOutput());
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
  const std::size_t n = voxelCount(labels);
  const double ml = voxelMl(labels);
  std::vector<int> wanted = classes;
  if (wanted.empty()) {
    const auto present = presentLabels(labels);
    wanted.assign(present.begin(), present.end());
  }
  std::vector<Instance> table;
  for (int label : wanted) {
    std::size_t objects = 0;
    const auto comp = componentsOf(labels, label, objects);
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
    for (std::size_t i = 0; i < n; ++i) {
      if (c[i] == 0) continue;
      Instance& in = mine[c[i] - 1];
      out[i] = static_cast<unsigned short>(in.id);
      const std::array<std::int64_t, 3> idx{std::int64_t(i % size[0]), std::int64_t((i / size[0]) % size[1]),
                                            std::int64_t(i / (size[0] * size[1]))};
      ++in.voxels;
      for (std::size_t a = 0; a < 3; ++a) {
        sums[c[i] - 1][a] += double(idx[a]);
        in.begin[a] = std::min(in.begin[a], idx[a]);
        in.end[a] = std::max(in.end[a], idx[a] + 1);
      }
    }
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
