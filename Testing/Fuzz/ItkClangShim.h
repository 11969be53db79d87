// Forced include (-include) of the clang fuzz build: Debian's ITK 5.2 was configured with GCC only, so
// its itk_compiler_detection.h stops with "Unsupported compiler" under clang. The header is read once
// here with the GCC 12 identity that built ITK (same feature macros, so the same declarations), then
// clang's own macros come back. Its include guard makes every later #include a no-op.
#pragma once
#pragma push_macro("__clang__")
#pragma push_macro("__GNUC__")
#pragma push_macro("__GNUC_MINOR__")
#undef __clang__
#undef __GNUC__
#undef __GNUC_MINOR__
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#include <itk_compiler_detection.h>
#pragma pop_macro("__GNUC_MINOR__")
#pragma pop_macro("__GNUC__")
#pragma pop_macro("__clang__")
