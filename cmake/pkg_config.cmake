# ipcfault_pkg_config(MODULE FILE DESCRIPTION ids...): writes a pkg-config
# file for the libraries `ids` (Bazel ids, "inject:faults") and everything
# they need: ipcfault's static libraries in link order (alwayslink ones
# between --whole-archive and --no-whole-archive), Abseil's modules as
# Requires, and their link options.
function(ipcfault_pkg_config module file description)
  ipcfault_library_closure(ids ${ARGN})
  set(libs "")
  set(requires "")
  set(extra "")
  foreach(id IN LISTS ids)
    get_property(archive GLOBAL PROPERTY "IPCF|${id}|archive")
    if(NOT archive)
      continue()   # header-only
    endif()
    get_property(alwayslink GLOBAL PROPERTY "IPCF|${id}|alwayslink")
    string(REGEX REPLACE "^.*:" "" name "${id}")
    if(alwayslink STREQUAL "True")
      list(APPEND libs "-Wl,--whole-archive -lipcfault_${name} -Wl,--no-whole-archive")
    else()
      list(APPEND libs "-lipcfault_${name}")
    endif()
    get_property(linkopts GLOBAL PROPERTY "IPCF|${id}|linkopts")
    list(APPEND extra ${linkopts})
  endforeach()
  ipcfault_external_deps(external ${ids})
  foreach(t IN LISTS external)
    if(t MATCHES "^absl::(.+)$")
      list(APPEND requires "absl_${CMAKE_MATCH_1}")
    elseif(t STREQUAL "GTest::gmock")
      list(APPEND requires gmock)
    else()
      message(FATAL_ERROR "ipcfault_pkg_config: no pkg-config module for ${t}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES extra)
  list(JOIN libs " " libs)
  list(JOIN requires ", " requires)
  list(JOIN extra " " extra)
  # Relocatable: the prefix is found from where the .pc file is.
  string(REGEX REPLACE "[^/]+" ".." up "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  file(GENERATE OUTPUT "${file}" CONTENT
"# pkg-config --cflags --libs ${module}
prefix=\${pcfiledir}/${up}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}

Name: ${module}
Description: ${description}
Version: ${PROJECT_VERSION}
Requires: ${requires}
Cflags: -I\${includedir} -std=c++20
Libs: -L\${libdir} ${libs} ${extra} -pthread
")
endfunction()
