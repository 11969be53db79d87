#pragma once
// Private helper: a render window's pixels to a PNG, through an atomic output.

#include <string>

class vtkRenderWindow;
class vtkImageData;

namespace voxseg::rendering {

/// Renders the window and writes its RGB pixels to `path` (temporary name, then rename).
void writeViewPng(vtkRenderWindow* window, const std::string& path, bool overwrite);

/// Writes an RGB(A) image to `path` as PNG (temporary name, then rename).
void writeImagePng(vtkImageData* image, const std::string& path, bool overwrite);

} // namespace voxseg::rendering
