# Build conventions shared by every voxseg module: ccache, warnings, sanitizers,
# and the module dependency graph of DESIGN.md, enforced at configure time.

find_program(VOXSEG_CCACHE ccache)
if(VOXSEG_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER ${VOXSEG_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${VOXSEG_CCACHE})
endif()

if(VOXSEG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "VOXSEG_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  if(NOT VOXSEG_SANITIZE)
    set(VOXSEG_SANITIZE address,undefined)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link -g -Wno-builtin-macro-redefined)
  if(NOT VOXSEG_MINIMAL) # ITK 5.2's headers refuse clang; see the shim
    string(APPEND CMAKE_CXX_FLAGS " -include ${PROJECT_SOURCE_DIR}/Testing/Fuzz/ItkClangShim.h")
  endif()
endif()
if(VOXSEG_SANITIZE)
  string(REPLACE "," ";" _san "${VOXSEG_SANITIZE}")
  foreach(s IN LISTS _san)
    if(NOT s MATCHES "^(address|undefined|leak|thread)$")
      message(FATAL_ERROR "VOXSEG_SANITIZE: unknown sanitizer '${s}'")
    endif()
  endforeach()
  # Everything aborts on the first report, except pointer-overflow: it must stay recoverable so that
  # Testing/Scripts/ubsan.supp can silence a report inside ITK's headers.
  add_compile_options(-fsanitize=${VOXSEG_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined
                      -fsanitize-recover=pointer-overflow)
  add_link_options(-fsanitize=${VOXSEG_SANITIZE})
endif()

# Warnings apply to voxseg's own targets only (third-party headers are SYSTEM).
function(voxseg_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wno-deprecated-declarations)
  if(VOXSEG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# The only allowed edges between modules (DESIGN.md, "Modules").
set(VOXSEG_ALLOWED_DEPS_Core "")
set(VOXSEG_ALLOWED_DEPS_Inference "Core")
set(VOXSEG_ALLOWED_DEPS_IO "Core")
set(VOXSEG_ALLOWED_DEPS_Processing "Core")
set(VOXSEG_ALLOWED_DEPS_Pipeline "Core;IO;Processing;Inference")
set(VOXSEG_ALLOWED_DEPS_Evaluation "Core;IO;Processing")
set(VOXSEG_ALLOWED_DEPS_Rendering "Core;IO")
set(VOXSEG_ALLOWED_DEPS_Training "Core;IO;Processing;Inference")

# voxseg_add_module(<Name> SOURCES ... [MODULES <voxseg modules>] [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# Creates target voxseg_<Name> with alias voxseg::<Name>; headers in include/voxseg/<name>/.
function(voxseg_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;MODULES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  if(NOT DEFINED VOXSEG_ALLOWED_DEPS_${name})
    message(FATAL_ERROR "voxseg module '${name}' is not in DESIGN.md's module table")
  endif()
  foreach(dep IN LISTS M_MODULES)
    if(NOT dep IN_LIST VOXSEG_ALLOWED_DEPS_${name})
      message(FATAL_ERROR "voxseg module '${name}' may not depend on '${dep}' (DESIGN.md allows: ${VOXSEG_ALLOWED_DEPS_${name}})")
    endif()
  endforeach()
  set(target voxseg_${name})
  add_library(${target} ${M_SOURCES})
  add_library(voxseg::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME voxseg${name} EXPORT_NAME ${name})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  list(TRANSFORM M_MODULES PREPEND "voxseg::" OUTPUT_VARIABLE _mods)
  target_link_libraries(${target} PUBLIC ${_mods} ${M_PUBLIC_LIBS} PRIVATE ${M_PRIVATE_LIBS})
  voxseg_target_warnings(${target})
  if(VOXSEG_INSTALL)
    install(TARGETS ${target} EXPORT voxsegTargets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
      INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
    install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
      FILES_MATCHING PATTERN "*.h")
    set_property(GLOBAL APPEND PROPERTY VOXSEG_INSTALLED_MODULES ${name})
  endif()
endfunction()

# voxseg_add_gtest(<name> SOURCES ... LIBS ...): one GoogleTest executable, tests discovered by ctest.
function(voxseg_add_gtest name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    VOXSEG_SHARED_DIR="${VOXSEG_SHARED_DIR}"
    VOXSEG_DEBIAN_DATA_DIR="${VOXSEG_DEBIAN_DATA_DIR}")
  voxseg_target_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "unit;${T_LABELS}")
endfunction()

# voxseg_link_torch(<target>): LibTorch as a private dependency, its headers as SYSTEM (third-party:
# our warning flags stay off them).
function(voxseg_link_torch target)
  target_link_libraries(${target} PRIVATE ${TORCH_LIBRARIES})
  get_target_property(_torch_inc torch INTERFACE_INCLUDE_DIRECTORIES)
  if(_torch_inc)
    target_include_directories(${target} SYSTEM PRIVATE ${_torch_inc})
  endif()
endfunction()
