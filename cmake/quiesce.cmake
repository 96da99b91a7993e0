# One library per sim/ folder, declared the same way everywhere (abseil's absl_cc_library
# style): quiesce_cc_library(NAME core SRCS a.cpp DEPS quiesce::base) makes quiesce::core.
function(quiesce_cc_library)
  cmake_parse_arguments(Q "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(quiesce_${Q_NAME} STATIC ${Q_SRCS})
  add_library(quiesce::${Q_NAME} ALIAS quiesce_${Q_NAME})
  target_include_directories(quiesce_${Q_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(quiesce_${Q_NAME} PUBLIC ${Q_DEPS})
endfunction()

# The sanitizer build compiles at -O1, so that the suite runs about twice as fast as at -O0;
# the tests' own code is compiled at -O0 there: it is a quarter of that build's compile time
# at -O1 and half that at -O0, while the code the tests drive stays at -O1 (a test that does
# heavy work of its own, such as std::regex over every output file, should not). The
# normal build is not affected.
function(quiesce_test_code target)
  if(QUIESCE_SANITIZE)
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()

# The entry point every test binary shares (tests/test_main.cpp), compiled once.
function(quiesce_test_main)
  add_library(quiesce_test_main OBJECT ${PROJECT_SOURCE_DIR}/tests/test_main.cpp)
  target_link_libraries(quiesce_test_main PUBLIC quiesce::run GTest::gtest)
  quiesce_test_code(quiesce_test_main)
endfunction()

# A GoogleTest binary whose tests ctest runs one per process: SystemC elaborates once per
# process, so every TEST that builds modules needs a fresh one.
function(quiesce_cc_test)
  cmake_parse_arguments(Q "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${Q_NAME} ${Q_SRCS})
  target_link_libraries(${Q_NAME} PRIVATE ${Q_DEPS} quiesce_test_main)
  set_target_properties(${Q_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  quiesce_test_code(${Q_NAME})
  gtest_discover_tests(${Q_NAME} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "QUIESCE_ROOT=${PROJECT_SOURCE_DIR}")
endfunction()
