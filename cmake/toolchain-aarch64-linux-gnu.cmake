# Cross-compiling xiot for 64-bit Arm Linux (Debian arm64) with Debian's cross
# toolchain (crossbuild-essential-arm64: aarch64-linux-gnu-gcc/g++ 12).
# tools/cross-build arm64 uses it; docs/cross-build.md explains the setup.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
#
# Where the arm64 libraries come from, one of:
# - multiarch (default): the :arm64 -dev packages installed beside the amd64
#   ones (dpkg --add-architecture arm64). Headers are shared in /usr/include,
#   libraries and .pc files are in /usr/lib/aarch64-linux-gnu.
# - a sysroot: -DXIOT_SYSROOT=DIR, a directory with the arm64 packages
#   extracted into it (mmdebstrap --variant=extract --architectures=arm64),
#   for hosts where the :arm64 packages cannot be installed.
# Programs (protoc, pkg-config) always come from the build machine: protoc
# generates source, so the host's protobuf-compiler of the same version as
# the arm64 libprotobuf is what the build needs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(XIOT_CROSS_TRIPLET aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${XIOT_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${XIOT_CROSS_TRIPLET}-g++)
# find_library()/find_package() look in <prefix>/lib/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${XIOT_CROSS_TRIPLET})

# try_compile() projects re-read this file without the cache: pass XIOT_SYSROOT on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES XIOT_SYSROOT)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
if(XIOT_SYSROOT)
  set(CMAKE_SYSROOT ${XIOT_SYSROOT})
  set(CMAKE_FIND_ROOT_PATH ${XIOT_SYSROOT})
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${XIOT_SYSROOT})
  set(ENV{PKG_CONFIG_LIBDIR}
      "${XIOT_SYSROOT}/usr/lib/${XIOT_CROSS_TRIPLET}/pkgconfig:${XIOT_SYSROOT}/usr/share/pkgconfig")
else()
  # Multiarch: only the arm64 .pc files (and the architecture-independent
  # ones), never the build machine's /usr/lib/x86_64-linux-gnu/pkgconfig.
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${XIOT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()
unset(ENV{PKG_CONFIG_PATH})
