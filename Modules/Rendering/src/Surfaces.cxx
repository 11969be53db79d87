#include "voxseg/rendering/Surfaces.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelExtents.h"
#include "voxseg/core/Parallel.h"
#include "voxseg/core/PixelType.h"

#include <vtkDecimatePro.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkMassProperties.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkPolyDataNormals.h>
#include <vtkQuadricDecimation.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkTriangleFilter.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <cmath>

namespace voxseg::rendering {
namespace {

constexpr std::size_t kSmallestSmoothed = 27; // voxels: labels below keep their raw surface

using Box = LabelExtent;

// The label's mask on its bounding box plus one voxel of background all round (closed surfaces).
vtkSmartPointer<vtkImageData> paddedMask(const Labels& l, int label, const Box& b) {
  const auto& n = l.geometry.size;
  int dims[3];
  for (int a = 0; a < 3; ++a) dims[a] = int(b.hi[a] - b.lo[a] + 3);
  auto img = vtkSmartPointer<vtkImageData>::New();
  img->SetDimensions(dims);
  img->SetOrigin(double(b.lo[0]) - 1, double(b.lo[1]) - 1, double(b.lo[2]) - 1); // index space
  img->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
  auto* p = static_cast<unsigned char*>(img->GetScalarPointer());
  std::fill(p, p + std::size_t(dims[0]) * dims[1] * dims[2], 0);
  for (std::size_t z = b.lo[2]; z <= b.hi[2]; ++z)
    for (std::size_t y = b.lo[1]; y <= b.hi[1]; ++y) {
      const std::uint16_t* row = l.voxels.data() + (z * n[1] + y) * n[0];
      unsigned char* out = p + ((z - b.lo[2] + 1) * std::size_t(dims[1]) + (y - b.lo[1] + 1)) * dims[0] + 1;
      for (std::size_t x = b.lo[0]; x <= b.hi[0]; ++x) out[x - b.lo[0]] = row[x] == label;
    }
  return img;
}

// Index space -> world (LPS mm): origin + direction * diag(spacing) * index.
vtkSmartPointer<vtkTransform> indexToWorld(const Geometry& g) {
  vtkNew<vtkMatrix4x4> m;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) m->SetElement(r, c, g.direction[3 * r + c] * g.spacing[c]);
    m->SetElement(r, 3, g.origin[r]);
  }
  auto t = vtkSmartPointer<vtkTransform>::New();
  t->SetMatrix(m);
  return t;
}

LabelSurface surfaceOf(const Labels& l, int label, const Box& b, const SurfaceOptions& o) {
  LabelSurface s;
  s.label = label;
  s.voxels = b.voxels;
  const auto& sp = l.geometry.spacing;
  s.voxelVolumeMm3 = double(b.voxels) * sp[0] * sp[1] * sp[2];
  vtkNew<vtkDiscreteFlyingEdges3D> edges;
  edges->SetInputData(paddedMask(l, label, b));
  edges->SetValue(0, 1);
  edges->ComputeNormalsOff();
  edges->ComputeGradientsOff();
  edges->ComputeScalarsOff();
  // into world space first, so that smoothing and decimation see true (anisotropic) distances
  vtkNew<vtkTransformPolyDataFilter> world;
  world->SetInputConnection(edges->GetOutputPort());
  world->SetTransform(indexToWorld(l.geometry));
  world->Update();
  vtkSmartPointer<vtkPolyData> mesh = world->GetOutput();
  if (o.smoothingIterations > 0 && b.voxels >= kSmallestSmoothed) { // smoothing collapses a few-voxel blob
    vtkNew<vtkWindowedSincPolyDataFilter> smooth;
    smooth->SetInputData(mesh);
    smooth->SetNumberOfIterations(o.smoothingIterations);
    smooth->SetPassBand(o.passBand);
    smooth->NormalizeCoordinatesOn();
    smooth->BoundarySmoothingOff();
    smooth->FeatureEdgeSmoothingOff();
    smooth->NonManifoldSmoothingOn();
    smooth->Update();
    mesh = smooth->GetOutput();
  }
  if (o.decimation > 0 && mesh->GetNumberOfPolys() > 100) {
    // Flat patches first, by vertex removal at most 1e-6 mm off the surface (the same shape): on a plane every edge
    // collapse of vtkQuadricDecimation costs 0 and they pile up into ever larger fans. A 3-slice label of 152,636
    // triangles took 7.3 s that way and 0.29 s this way (Documentation/render.md).
    const double target = double(mesh->GetNumberOfPolys()) * (1 - o.decimation);
    vtkNew<vtkDecimatePro> flat;
    flat->SetInputData(mesh);
    flat->SetTargetReduction(o.decimation);
    flat->PreserveTopologyOn();
    flat->SplittingOff();
    flat->BoundaryVertexDeletionOff();
    flat->SetErrorIsAbsolute(1);
    flat->SetAbsoluteError(1e-6);
    flat->Update();
    mesh = flat->GetOutput();
    if (double(mesh->GetNumberOfPolys()) > target + 1) {
      vtkNew<vtkQuadricDecimation> decimate;
      decimate->SetInputData(mesh);
      decimate->SetTargetReduction(1 - target / double(mesh->GetNumberOfPolys()));
      decimate->VolumePreservationOn();
      decimate->Update();
      mesh = decimate->GetOutput();
    }
  }
  if (o.normals) {
    vtkNew<vtkPolyDataNormals> normals;
    normals->SetInputData(mesh);
    normals->SplittingOff();
    normals->ConsistencyOn();
    normals->AutoOrientNormalsOn(); // outwards, whatever the direction matrix's handedness
    normals->ComputePointNormalsOn();
    normals->ComputeCellNormalsOff();
    normals->Update();
    mesh = normals->GetOutput();
  }
  mesh->GetBounds(s.worldBounds.data());
  vtkNew<vtkMassProperties> mass;
  mass->SetInputData(mesh);
  mass->Update();
  s.enclosedVolumeMm3 = mass->GetVolume();
  s.surface = mesh;
  return s;
}

} // namespace

Labels toLabels(const io::Volume& volume) {
  Labels out;
  out.geometry = volume.geometry();
  out.voxels = io::labelValues(volume);
  return out;
}

std::vector<int> presentLabels(const Labels& labels) {
  return voxseg::presentLabels(labels.voxels.data(), labels.voxels.size());
}

std::vector<LabelSurface> extractSurfaces(const Labels& labels, const std::vector<int>& which,
                                          const SurfaceOptions& options, int threads) {
  if (labels.voxels.size() != labels.geometry.voxelCount())
    throw usageError("label buffer does not match its grid size");
  const auto box = labelExtents(labels.voxels.data(), labels.geometry.size); // also tells which are present
  std::vector<int> todo;
  if (which.empty()) {
    for (int l = 1; l < 65536; ++l)
      if (box[l].voxels > 0) todo.push_back(l);
  } else {
    for (int l : which)
      if (l > 0 && l < 65536 && box[l].voxels > 0) todo.push_back(l);
  }
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  std::vector<LabelSurface> out(todo.size());
  parallelFor(todo.size(), workerCount(threads, todo.size()),
              [&](std::size_t i) { out[i] = surfaceOf(labels, todo[i], box[todo[i]], options); });
  return out;
}

} // namespace voxseg::rendering
