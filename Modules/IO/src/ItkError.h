#pragma once
// One-line text of an ITK exception: its description without file/line noise.

#include <itkMacro.h>

#include <string>

namespace voxseg::io::detail {

inline std::string itkMessage(const itk::ExceptionObject& e) {
  std::string d = e.GetDescription();
  for (char& c : d)
    if (c == '\n' || c == '\r') c = ' ';
  while (!d.empty() && d.back() == ' ') d.pop_back();
  return d.empty() ? std::string("unknown ITK error") : d;
}

} // namespace voxseg::io::detail
