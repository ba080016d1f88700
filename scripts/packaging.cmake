# What `cmake --install` and `cpack -G DEB` install beyond the two programs:
# the man pages, the systemd unit, the example unit, the README and the state
# directory; and the Debian package (README "Installing as a Debian
# package"). Included at the end of the top-level CMakeLists.txt, after every
# subdirectory, so that files they configure already exist.
include(GNUInstallDirs)

# --- Man pages: gzipped at build time (gzip -9n: no name, no time stamp, so
# the bytes depend on the page alone).
set(SYSCG_MAN_PAGES syscgfs.8 syscg.1)
set(SYSCG_MAN_GZ)
foreach(page IN LISTS SYSCG_MAN_PAGES)
  set(src ${PROJECT_SOURCE_DIR}/docs/man/${page})
  set(gz ${CMAKE_BINARY_DIR}/man/${page}.gz)
  add_custom_command(
    OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "gzip -9n < \"$1\" > \"$2\"" gzip ${src} ${gz}
    DEPENDS ${src}
    COMMENT "gzip ${page}"
    VERBATIM)
  list(APPEND SYSCG_MAN_GZ ${gz})
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(syscg_man ALL DEPENDS ${SYSCG_MAN_GZ})

# --- The systemd unit, configured by scripts/systemd/CMakeLists.txt (none
# without FUSE: OPTIONAL).
set(SYSCG_UNIT ${CMAKE_BINARY_DIR}/syscgfs.service)
set(SYSCG_UNIT_DIR lib/systemd/system)
install(FILES ${SYSCG_UNIT} DESTINATION ${SYSCG_UNIT_DIR} OPTIONAL)
# The unit names the programs by the prefix of the configure step; the
# install may use another one (cpack: /usr; cmake --install --prefix P).
# Rewrite the unit's bindir to the installing prefix's.
install(CODE "
  set(unit \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SYSCG_UNIT_DIR}/syscgfs.service\")
  if(EXISTS \"\${unit}\")
    file(READ \"\${unit}\" text)
    string(REPLACE \"${CMAKE_INSTALL_FULL_BINDIR}/\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/\" text \"\${text}\")
    file(WRITE \"\${unit}\" \"\${text}\")
  endif()")

# An example of a service confined to a group, and the README the
# man pages refer to.
set(SYSCG_DOC_DIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/syscg)
if(EXISTS ${PROJECT_SOURCE_DIR}/scripts/systemd/syscg-example-web.service)
  install(FILES ${PROJECT_SOURCE_DIR}/scripts/systemd/syscg-example-web.service DESTINATION ${SYSCG_DOC_DIR}/examples)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${SYSCG_DOC_DIR})

# The state directory syscgfs uses by default (fs/state.h, kDefaultStatePath):
# absolute, whatever the prefix, and 0700 (the database holds every policy).
install(
  DIRECTORY
  DESTINATION /var/lib/syscg
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

# --- The Debian package: cpack -G DEB in the build directory (or
# scripts/package.sh, which builds Release first).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME syscg)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "syscg")
set(SYSCG_PACKAGE_CONTACT "syscg maintainers <maintainers@users.noreply.h-seed-9525597c.example>"
    CACHE STRING "The Debian package's Maintainer")
set(CPACK_PACKAGE_CONTACT ${SYSCG_PACKAGE_CONTACT})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "system call groups: a cgroupfs-like hierarchy that limits system calls")
# (One line each in the control file: cpack indents the lines after the first.)
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "syscgfs mounts a hierarchy of groups at /run/syscg that looks and behaves\n"
  "like a cgroup v2 hierarchy with one controller: the system calls the\n"
  "processes of a group may make. Each group's set is compiled into a\n"
  "seccomp-BPF filter given to its members, at launch and to running\n"
  "processes (ptrace injection); denies reach running members at once, and\n"
  "allows give calls back through a seccomp user-notification supervisor.\n"
  "syscg is its command-line client: exec, tree, show, ps, import\n"
  "(OCI/Docker profiles), record (learn a program's calls) and restart.")
# The package installs to /usr, whatever CMAKE_INSTALL_PREFIX says, and
# through DESTDIR, so that /var/lib/syscg lands in the package, not on the
# building machine.
# (With CPACK_SET_DESTDIR, the install step's prefix is CPACK_INSTALL_PREFIX.)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps (dpkg-dev) adds the shared libraries; fuse3 gives
# fusermount3 (the unit, unmounting) and mount.fuse3 (mount -t fuse.syscgfs).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/scripts/debian/postinst ${PROJECT_SOURCE_DIR}/scripts/debian/prerm
    ${PROJECT_SOURCE_DIR}/scripts/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
