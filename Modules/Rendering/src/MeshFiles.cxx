#include "voxseg/rendering/MeshFiles.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"

#include <vtkAppendPolyData.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkPLYWriter.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkSTLWriter.h>
#include <vtkStringArray.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLPolyDataWriter.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace voxseg::rendering {
namespace {

std::string spaceName(MeshSpace s) { return s == MeshSpace::Lps ? "LPS" : "RAS"; }

// One mesh per label in the file's space, with a "Label" cell array and RGB "Colors" per point.
vtkSmartPointer<vtkPolyData> prepared(const NamedSurface& n, MeshSpace space) {
  const vtkSmartPointer<vtkPolyData> mesh = inMeshSpace(n.surface->surface, space);
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->ShallowCopy(mesh);
  vtkNew<vtkIntArray> label;
  label->SetName("Label");
  label->SetNumberOfValues(out->GetNumberOfCells());
  label->Fill(n.surface->label);
  out->GetCellData()->AddArray(label);
  vtkNew<vtkUnsignedCharArray> colors;
  colors->SetName("Colors");
  colors->SetNumberOfComponents(3);
  colors->SetNumberOfTuples(out->GetNumberOfPoints());
  for (int c = 0; c < 3; ++c) colors->FillComponent(c, n.color[c]);
  out->GetPointData()->AddArray(colors);
  return out;
}

vtkSmartPointer<vtkPolyData> combined(const std::vector<NamedSurface>& surfaces, MeshSpace space) {
  vtkNew<vtkAppendPolyData> append;
  for (const auto& n : surfaces) append->AddInputData(prepared(n, space));
  append->Update();
  return append->GetOutput();
}

void writeObj(const std::vector<NamedSurface>& surfaces, MeshSpace space, const std::string& objPath,
              const std::string& tempObj, const std::string& mtlName, const std::string& tempMtl) {
  std::ofstream mtl(tempMtl);
  std::ofstream obj(tempObj);
  obj << "# voxseg label surfaces, SPACE=" << spaceName(space) << " (mm)\nmtllib " << mtlName << "\n";
  mtl << "# voxseg label colors\n";
  vtkIdType base = 1; // OBJ indices count from 1 across the file
  char line[128];
  for (const auto& n : surfaces) {
    const auto mesh = prepared(n, space);
    const std::string material = "label" + std::to_string(n.surface->label);
    std::snprintf(line, sizeof line, "Kd %.4f %.4f %.4f\n", n.color[0] / 255.0, n.color[1] / 255.0, n.color[2] / 255.0);
    mtl << "newmtl " << material << "\n" << line << "Ka 0 0 0\nKs 0.1 0.1 0.1\nNs 10\nd 1\nillum 2\n\n";
    obj << "o " << (n.name.empty() ? material : n.name) << "\nusemtl " << material << "\n";
    double p[3];
    for (vtkIdType i = 0; i < mesh->GetNumberOfPoints(); ++i) {
      mesh->GetPoint(i, p);
      std::snprintf(line, sizeof line, "v %.6g %.6g %.6g\n", p[0], p[1], p[2]);
      obj << line;
    }
    vtkDataArray* normals = mesh->GetPointData()->GetNormals();
    if (normals)
      for (vtkIdType i = 0; i < normals->GetNumberOfTuples(); ++i) {
        normals->GetTuple(i, p);
        std::snprintf(line, sizeof line, "vn %.5f %.5f %.5f\n", p[0], p[1], p[2]);
        obj << line;
      }
    vtkCellArray* polys = mesh->GetPolys();
    vtkIdType npts = 0;
    const vtkIdType* ids = nullptr;
    for (polys->InitTraversal(); polys->GetNextCell(npts, ids);) {
      obj << "f";
      for (vtkIdType k = 0; k < npts; ++k) {
        const vtkIdType v = ids[k] + base;
        obj << ' ' << v;
        if (normals) obj << "//" << v;
      }
      obj << '\n';
    }
    base += mesh->GetNumberOfPoints();
  }
  if (!obj.flush() || !mtl.flush()) throw Error(ExitCode::Output, objPath + ": cannot write the mesh");
}

} // namespace

vtkSmartPointer<vtkPolyData> inMeshSpace(vtkPolyData* surface, MeshSpace space) {
  if (space == MeshSpace::Lps) return surface;
  vtkNew<vtkTransform> flip; // (x, y, z) LPS -> (-x, -y, z) RAS
  flip->Scale(-1, -1, 1);
  vtkNew<vtkTransformPolyDataFilter> f;
  f->SetInputData(surface);
  f->SetTransform(flip);
  f->Update();
  return f->GetOutput();
}

MeshFormat parseMeshFormat(const std::string& name) {
  if (name == "stl") return MeshFormat::Stl;
  if (name == "obj") return MeshFormat::Obj;
  if (name == "ply") return MeshFormat::Ply;
  if (name == "vtp") return MeshFormat::Vtp;
  throw usageError("mesh format '" + name + "': expected stl, obj, ply or vtp");
}

std::string meshExtension(MeshFormat f) {
  switch (f) {
  case MeshFormat::Stl: return ".stl";
  case MeshFormat::Obj: return ".obj";
  case MeshFormat::Ply: return ".ply";
  default: return ".vtp";
  }
}

MeshSpace parseMeshSpace(const std::string& name) {
  if (name == "lps" || name == "LPS") return MeshSpace::Lps;
  if (name == "ras" || name == "RAS") return MeshSpace::Ras;
  throw usageError("mesh space '" + name + "': expected lps or ras");
}

void writeMesh(const std::vector<NamedSurface>& surfaces, MeshFormat format, MeshSpace space, const std::string& path,
               bool overwrite) {
  if (surfaces.empty()) throw usageError(path + ": no surface to write");
  io::AtomicOutput out(path, overwrite);
  const std::string& temp = out.tempPath();
  bool ok = true;
  switch (format) {
  case MeshFormat::Stl: {
    vtkNew<vtkSTLWriter> w;
    w->SetInputData(combined(surfaces, space));
    w->SetFileTypeToBinary();
    const std::string header = "voxseg SPACE=" + spaceName(space); // binary STL header: 80 bytes
    w->SetHeader(header.c_str());
    w->SetFileName(temp.c_str());
    ok = w->Write() == 1;
    break;
  }
  case MeshFormat::Ply: {
    vtkNew<vtkPLYWriter> w;
    w->SetInputData(combined(surfaces, space));
    w->SetFileTypeToBinary();
    w->SetArrayName("Colors");
    w->SetColorModeToDefault();
    w->AddComment("SPACE=" + spaceName(space));
    w->SetFileName(temp.c_str());
    ok = w->Write() == 1;
    break;
  }
  case MeshFormat::Vtp: {
    auto mesh = combined(surfaces, space);
    vtkNew<vtkStringArray> spaceField;
    spaceField->SetName("SPACE");
    spaceField->InsertNextValue(spaceName(space));
    mesh->GetFieldData()->AddArray(spaceField);
    vtkNew<vtkXMLPolyDataWriter> w;
    w->SetInputData(mesh);
    w->SetDataModeToBinary();
    w->SetFileName(temp.c_str());
    ok = w->Write() == 1;
    break;
  }
  case MeshFormat::Obj: {
    const std::filesystem::path p(path);
    const std::string mtlPath = (p.parent_path() / (p.stem().string() + ".mtl")).string();
    io::AtomicOutput mtl(mtlPath, overwrite);
    writeObj(surfaces, space, path, temp, std::filesystem::path(mtlPath).filename().string(), mtl.tempPath());
    mtl.commit();
    break;
  }
  }
  if (!ok || !std::filesystem::exists(temp)) throw Error(ExitCode::Output, path + ": cannot write the mesh");
  out.commit();
}

} // namespace voxseg::rendering
