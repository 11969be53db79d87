# End-to-end tests of voxseg's executables through RunCliTest.cmake (next to this file), shared by
# Applications/voxseg/test (voxseg_cli_test) and Applications/VoxsegSegment/test (voxseg_slicer_test).
# Included by each directory that uses it (no include guard): it sets VOXSEG_CLI_RUNNER there.
set(VOXSEG_CLI_RUNNER ${CMAKE_CURRENT_LIST_DIR}/RunCliTest.cmake)

# voxseg_add_run_test(<test> <executable target> <work folder> CODE <n> ARGS ... [OUT re] [ERR re] [ABSENT files]
#                     [PRESENT files] [SETUP cmd] [NEEDS paths] [MATCHES "file=~regex" ...]
#                     [IDENTICAL "fileA==fileB" ...])
# Test <test> (label cli) runs the target with ARGS after emptying <work folder> and running SETUP; it checks the
# exit code, stdout and stderr against the regexes, which files exist afterwards, and the first 64 KiB of each
# MATCHES file, and that each IDENTICAL pair has the same bytes. NEEDS: files or folders whose absence skips the test.
function(voxseg_add_run_test test target workdir)
  cmake_parse_arguments(T "" "CODE;OUT;ERR" "ARGS;ABSENT;PRESENT;SETUP;MATCHES;NEEDS;IDENTICAL" ${ARGN})
  # Lists travel to the runner joined with "@@" (it splits them again).
  list(JOIN T_ARGS "@@" args)
  list(JOIN T_ABSENT "@@" absent)
  list(JOIN T_PRESENT "@@" present)
  list(JOIN T_SETUP "@@" setup)
  list(JOIN T_MATCHES "@@" matches)
  list(JOIN T_IDENTICAL "@@" identical)
  set(defs "-DCOMMAND=$<TARGET_FILE:${target}>@@${args}" -DEXPECT_CODE=${T_CODE} -DWORKDIR=${workdir})
  if(DEFINED T_OUT)
    list(APPEND defs "-DOUT_REGEX=${T_OUT}")
  endif()
  if(DEFINED T_ERR)
    list(APPEND defs "-DERR_REGEX=${T_ERR}")
  endif()
  list(APPEND defs "-DMUST_NOT_EXIST=${absent}" "-DMUST_EXIST=${present}" "-DSETUP=${setup}" "-DFILE_MATCHES=${matches}"
       "-DIDENTICAL=${identical}")
  add_test(NAME ${test} COMMAND ${CMAKE_COMMAND} ${defs} -P ${VOXSEG_CLI_RUNNER})
  set_tests_properties(${test} PROPERTIES LABELS "cli")
  if(T_NEEDS)
    # Skipped (not failed) when the real data is absent: ctest reports it as "Not Run".
    set_tests_properties(${test} PROPERTIES REQUIRED_FILES "${T_NEEDS}")
  endif()
endfunction()
