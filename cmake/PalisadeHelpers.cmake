# One helper per kind of target, as Abseil does, so each directory's
# CMakeLists.txt is a short list of libraries and tests.

# palisade_cc_library(NAME n SRCS a.cc b.cc DEPS x y)
function(palisade_cc_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${A_NAME} STATIC ${A_SRCS})
  target_link_libraries(${A_NAME} PUBLIC ${A_DEPS})
endfunction()

# palisade_cc_test(NAME n SRCS a_test.cc DEPS x y): a unit test run by ctest.
function(palisade_cc_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME unit.${A_NAME} COMMAND ${A_NAME})
  set_tests_properties(unit.${A_NAME} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
