#include "PngOutput.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkRenderWindow.h>
#include <vtkWindowToImageFilter.h>

#include <filesystem>

namespace voxseg::rendering {

void writeImagePng(vtkImageData* image, const std::string& path, bool overwrite) {
  io::AtomicOutput out(path, overwrite);
  vtkNew<vtkPNGWriter> writer;
  writer->SetInputData(image);
  writer->SetFileName(out.tempPath().c_str());
  writer->Write();
  if (writer->GetErrorCode() != 0 || !std::filesystem::exists(out.tempPath()) ||
      std::filesystem::file_size(out.tempPath()) == 0)
    throw Error(ExitCode::Output, path + ": cannot write the PNG");
  out.commit();
}

void writeViewPng(vtkRenderWindow* window, const std::string& path, bool overwrite) {
  window->Render();
  vtkNew<vtkWindowToImageFilter> grab;
  grab->SetInput(window);
  grab->SetInputBufferTypeToRGB();
  grab->ReadFrontBufferOff();
  grab->Update();
  writeImagePng(grab->GetOutput(), path, overwrite);
}

} // namespace voxseg::rendering
