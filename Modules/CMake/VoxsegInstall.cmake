# `cmake --install`: the module libraries and headers (voxseg_add_module), the executables, the Slicer
# CLI module, the shipped models, the documentation, and the CMake package that find_package(voxseg)
# reads: targets voxseg::Core, voxseg::IO, ... with the dependencies DESIGN.md gives them.
include(CMakePackageConfigHelpers)

get_property(VOXSEG_INSTALLED_MODULES GLOBAL PROPERTY VOXSEG_INSTALLED_MODULES)
get_property(VOXSEG_VTK_RENDERING_COMPONENTS GLOBAL PROPERTY VOXSEG_VTK_RENDERING_COMPONENTS)
set(VOXSEG_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/voxseg)

if(TARGET voxseg)
  install(TARGETS voxseg RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET VoxsegSegment)
  # Slicer scans a folder of CLI modules (Application settings > Modules > Additional module paths).
  install(TARGETS VoxsegSegment RUNTIME DESTINATION ${CMAKE_INSTALL_LIBDIR}/voxseg/cli-modules)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/Models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/voxseg/Models)
# README.md and Documentation/ keep their source layout, so the README's links (Documentation/...) resolve.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/Documentation/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/Documentation
  PATTERN "CMakeLists.txt" EXCLUDE)
# the examples' CMakeLists.txt is a project of its own once installed (find_package(voxseg))
install(FILES ${PROJECT_SOURCE_DIR}/Documentation/examples/CMakeLists.txt
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/Documentation/examples)

install(EXPORT voxsegTargets NAMESPACE voxseg:: DESTINATION ${VOXSEG_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/voxsegConfig.cmake.in
  ${PROJECT_BINARY_DIR}/voxsegConfig.cmake INSTALL_DESTINATION ${VOXSEG_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/voxsegConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/voxsegConfig.cmake ${PROJECT_BINARY_DIR}/voxsegConfigVersion.cmake
  DESTINATION ${VOXSEG_INSTALL_CMAKEDIR})
