# ctest install.consumer: installs the built voxseg into a fresh prefix, builds Testing/Consumer
# against it (find_package(voxseg)), runs it, runs the installed executables, and builds and runs the installed
# examples folder as a project of its own.
#   cmake -DVOXSEG_BUILD=<build dir> -DSOURCE=<Testing/Consumer> -DWORK=<dir> -DGENERATOR=<gen>
#         -DIMAGE=<image> -DMODEL=<packed model> -DREFERENCE=<labels from the in-tree example> -P RunConsumerTest.cmake
file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "$ ${ARGN}\n${out}${err}")
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "failed (${code}): ${ARGN}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${VOXSEG_BUILD} --prefix ${prefix})
foreach(f bin/voxseg lib/voxseg/cli-modules/VoxsegSegment lib/cmake/voxseg/voxsegConfig.cmake
          include/voxseg/pipeline/SegmentationImageFilter.h include/voxseg/core/Version.h
          share/voxseg/Models/brain-t1/plans.json)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
run(${prefix}/bin/voxseg --version)
# The installed README's Documentation/... references and the installed documents' links to each other resolve.
set(docdir ${prefix}/share/doc/voxseg)
file(READ ${docdir}/README.md readme)
string(REGEX MATCHALL "Documentation/[A-Za-z0-9_./-]*[A-Za-z0-9_]" references "${readme}")
if(NOT references)
  message(FATAL_ERROR "the installed README names no Documentation/ file")
endif()
file(GLOB documents ${docdir}/Documentation/*.md)
foreach(document ${documents})
  file(READ ${document} text)
  string(REPLACE "](" "<link>" text "${text}") # a "]" in a CMake list element would join elements
  string(REGEX MATCHALL "<link>[A-Za-z0-9_-][A-Za-z0-9_/-]*\\.(md|png)" links "${text}")
  foreach(link ${links})
    string(SUBSTRING "${link}" 6 -1 name)
    list(APPEND references Documentation/${name})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES references)
foreach(reference ${references})
  if(NOT EXISTS ${docdir}/${reference})
    message(FATAL_ERROR "the installed documentation refers to ${reference}, which is not installed")
  endif()
endforeach()
run(${prefix}/lib/voxseg/cli-modules/VoxsegSegment --xml)
if(NOT out MATCHES "<executable>")
  message(FATAL_ERROR "the installed Slicer CLI module's --xml gives no module description")
endif()

set(launcher "")
if(CMAKE_CXX_COMPILER_LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
set(sanitize "")
if(SANITIZE) # voxseg's static libraries were built with sanitizers: the program links their runtimes too
  set(sanitize "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${prefix} ${launcher} ${sanitize})
run(${CMAKE_COMMAND} --build ${WORK}/build)
run(${WORK}/build/segment_with_voxseg ${IMAGE} ${MODEL} ${WORK}/labels.nii.gz ${REFERENCE})
if(NOT out MATCHES "same grid as the input.*\n0 voxels differ")
  message(FATAL_ERROR "unexpected output of the consumer")
endif()
# The installed nnU-Net model (share/voxseg/Models/brain-t1) through the filter: the installed voxseg's labels.
set(brain ${prefix}/share/voxseg/Models/brain-t1)
run(${prefix}/bin/voxseg -q segment -m ${brain} -i ${IMAGE} -o ${WORK}/brain_cli.nii.gz)
run(${WORK}/build/segment_with_voxseg ${IMAGE} ${brain} ${WORK}/brain_filter.nii.gz ${WORK}/brain_cli.nii.gz)
if(NOT out MATCHES "same grid as the input[^\n]*labels present: 1\n0 voxels differ")
  message(FATAL_ERROR "unexpected output of the consumer with the installed nnU-Net model")
endif()

# The installed examples folder is a project of its own (its CMakeLists.txt finds voxseg): it builds and runs.
run(${CMAKE_COMMAND} -S ${prefix}/share/doc/voxseg/Documentation/examples -B ${WORK}/examples -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} ${launcher} ${sanitize})
run(${CMAKE_COMMAND} --build ${WORK}/examples)
run(${WORK}/examples/voxsegExampleSegmentImage ${IMAGE} ${MODEL} ${WORK}/example_labels.nii.gz cpu)
if(NOT EXISTS ${WORK}/example_labels.nii.gz)
  message(FATAL_ERROR "the installed example wrote no label map")
endif()
