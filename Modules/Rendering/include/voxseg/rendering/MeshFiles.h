#pragma once
// Mesh files from label surfaces: STL (binary), OBJ (+ MTL colors), PLY (binary, vertex colors), VTP.
// Coordinates are LPS mm (what Slicer >= 4.11, ITK and DICOM assume) unless RAS is asked for; every
// format carries the SPACE=LPS / SPACE=RAS marker that 3D Slicer reads (STL header, OBJ and PLY comment,
// VTP field data), so meshes line up with the volume when both are loaded.

#include "voxseg/rendering/Surfaces.h"

#include <array>
#include <string>
#include <vector>

namespace voxseg::rendering {

enum class MeshFormat { Stl, Obj, Ply, Vtp };
enum class MeshSpace { Lps, Ras };

/// "stl", "obj", "ply", "vtp"; throws Error(Usage) for other names.
MeshFormat parseMeshFormat(const std::string& name);
std::string meshExtension(MeshFormat format);      ///< ".stl", ...
MeshSpace parseMeshSpace(const std::string& name); ///< "lps" or "ras"
/// A surface (LPS mm) in `space`: as it is for LPS, turned (x, y, z) -> (-x, -y, z) for RAS (a rotation: normals
/// follow).
vtkSmartPointer<vtkPolyData> inMeshSpace(vtkPolyData* surface, MeshSpace space);

struct NamedSurface {
  const LabelSurface* surface = nullptr;
  std::string name;
  std::array<int, 3> color{128, 128, 128};
};

/// Writes the surfaces into one file (several labels: one combined mesh, with a "Label" cell array in
/// PLY/VTP, one object and material per label in OBJ). OBJ also writes `<stem>.mtl` beside it. Atomic:
/// temporary names, then rename; `overwrite` as io::AtomicOutput.
void writeMesh(const std::vector<NamedSurface>& surfaces, MeshFormat format, MeshSpace space, const std::string& path,
               bool overwrite);

} // namespace voxseg::rendering
