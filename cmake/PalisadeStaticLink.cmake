# palisade_link_static(TARGET exe LIBS lib... [STATIC_PIE])
#
# Links exe against the project libraries `lib...` and everything they
# depend on, with every third-party library taken from its static archive
# (Debian's lib*.a next to the .so) and libstdc++/libgcc linked statically,
# so that exe needs at most glibc at run time (with STATIC_PIE: nothing).
#
# Why: an idle sandbox's host memory (docs/benchmarks.md, idle RSS). Each
# shared library a process maps costs resident pages of its own (ELF
# headers, symbol tables, relocated data, and the 64 KiB the kernel maps
# around every text fault), and the sentry, the stub factory and the gofer
# each paid that for ~35 libraries. Linked in, only the code used is there,
# packed together.
#
# The usage requirements (include dirs, definitions) come from linking the
# object library that holds exe's own sources normally; this function only
# decides what goes on the link line:
#   - project static libraries: their archive files, in one link group;
#   - imported shared libraries (absl::*, protobuf-lite, libseccomp): the
#     .a beside the .so, and their own dependencies, recursively;
#   - spdlog::spdlog and fmt::fmt (no static archive in Debian):
#     palisade_spdlog_fmt (base/spdlog_fmt_static.cc) instead;
#   - Threads::Threads and plain flags: as they are.
# A dependency with no static archive is a configure error naming it.
# With PALISADE_SANITIZE the libraries are linked as usual: the sanitizer
# runtimes need the dynamic loader.
function(palisade_link_static)
  cmake_parse_arguments(A "STATIC_PIE" "TARGET" "LIBS" ${ARGN})
  if(PALISADE_SANITIZE)
    target_link_libraries(${A_TARGET} PRIVATE ${A_LIBS})
    return()
  endif()
  set(todo ${A_LIBS})
  set(seen "")
  set(project_libs "")
  set(archives "")
  set(other "")
  while(todo)
    list(POP_FRONT todo lib)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
    if(lib STREQUAL "" OR lib IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${lib})
    if(lib MATCHES "^\\$<\\$<PLATFORM_ID:[A-Za-z]+>:.*>$" AND NOT lib MATCHES "PLATFORM_ID:Linux>")
      continue()  # for another platform (absl has one for Darwin)
    endif()
    if(lib MATCHES "^\\$<")
      message(FATAL_ERROR "palisade_link_static(${A_TARGET}): cannot map generator expression ${lib}")
    endif()
    if(lib STREQUAL "spdlog::spdlog" OR lib STREQUAL "fmt::fmt")
      list(APPEND todo palisade_spdlog_fmt)
      continue()
    endif()
    if(lib STREQUAL "Threads::Threads")
      list(APPEND other ${lib})
      continue()
    endif()
    if(NOT TARGET ${lib})
      if(lib MATCHES "\\.so(\\.[0-9.]*)?$")
        string(REGEX REPLACE "\\.so(\\.[0-9.]*)?$" ".a" a "${lib}")
        if(NOT EXISTS "${a}")
          message(FATAL_ERROR "palisade_link_static(${A_TARGET}): no static archive for ${lib}")
        endif()
        list(APPEND archives ${a})
      else()
        list(APPEND other ${lib})  # a flag or a system library name
      endif()
      continue()
    endif()
    get_target_property(type ${lib} TYPE)
    get_target_property(imported ${lib} IMPORTED)
    get_target_property(deps ${lib} INTERFACE_LINK_LIBRARIES)
    if(deps)
      list(APPEND todo ${deps})
    endif()
    if(type STREQUAL "INTERFACE_LIBRARY")
      continue()
    endif()
    if(NOT imported)
      if(NOT type STREQUAL "STATIC_LIBRARY")
        message(FATAL_ERROR "palisade_link_static(${A_TARGET}): ${lib} is a ${type}")
      endif()
      list(APPEND project_libs ${lib})
      continue()
    endif()
    # An imported library: its file, with .so(.N...) turned into .a.
    set(loc "")
    foreach(prop IMPORTED_LOCATION_NONE IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_RELWITHDEBINFO
                 IMPORTED_LOCATION)
      get_target_property(l ${lib} ${prop})
      if(l AND NOT loc)
        set(loc ${l})
      endif()
    endforeach()
    string(REGEX REPLACE "\\.so(\\.[0-9.]*)?$" ".a" a "${loc}")
    if(NOT loc OR NOT EXISTS "${a}")
      message(FATAL_ERROR "palisade_link_static(${A_TARGET}): no static archive for ${lib} (${loc})")
    endif()
    list(APPEND archives ${a})
  endwhile()

  set(files "")
  foreach(l IN LISTS project_libs)
    list(APPEND files $<TARGET_FILE:${l}>)
  endforeach()
  add_dependencies(${A_TARGET} ${project_libs})
  list(REMOVE_DUPLICATES archives)
  target_link_libraries(${A_TARGET} PRIVATE
    -Wl,--start-group ${files} ${archives} -Wl,--end-group ${other})
  if(A_STATIC_PIE)
    target_link_options(${A_TARGET} PRIVATE -static-pie)
  else()
    target_link_options(${A_TARGET} PRIVATE -static-libstdc++ -static-libgcc)
  endif()
endfunction()
