# CMake package of Toron's C API, installed by `make c-install` as <prefix>/lib/cmake/toron/toronConfig.cmake.
#
#   find_package(toron 2.5 REQUIRED)
#   target_link_libraries(app PRIVATE toron::toron)
#
# Imports the shared library (Linux: libtoron.so) with its include directory.
get_filename_component(_toron_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET toron::toron)
  add_library(toron::toron SHARED IMPORTED)
  set_target_properties(toron::toron PROPERTIES
    IMPORTED_LOCATION "${_toron_prefix}/lib/libtoron.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_toron_prefix}/include")
endif()
set(toron_FOUND TRUE)
unset(_toron_prefix)
