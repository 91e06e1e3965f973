# XIOT_DEVICE_RELEASE: the release configuration for devices (docs/footprint.md).
# One switch, for a native build and for a cross build (tools/cross-build,
# cmake/toolchain-aarch64-linux-gnu.cmake) alike:
#   cmake -S . -B build-device -DXIOT_DEVICE_RELEASE=ON     (or: cmake --preset device)
#   cmake --build build-device --target xiot-agent
# What it turns on, each step measured in docs/footprint.md:
#   -Os                                 size over speed (after CMAKE_<LANG>_FLAGS, so
#                                       it wins over a build type's or dpkg's -O2)
#   -ffunction-sections -fdata-sections one section per function and object ...
#   -Wl,--gc-sections                   ... so the linker drops the unreferenced ones
#   -Wl,-O1 -Wl,--as-needed             tail-merged strings; only the shared libraries
#                                       the binary calls become NEEDED
#   -Wl,-z,pack-relative-relocs         the PIE's relative relocations as DT_RELR (a bitmap)
#                                       instead of 24-byte .rela.dyn entries; needs glibc
#                                       2.36 on the target (Debian 12), which the linker
#                                       records (GLIBC_ABI_DT_RELR), so an older one refuses
#                                       to start it with a clear error; only where the
#                                       linker can (binutils 2.40: x86, not aarch64)
#   link-time optimisation              CMAKE_INTERPROCEDURAL_OPTIMIZATION (-flto),
#                                       unless XIOT_DEVICE_LTO=OFF (tools/footprint's
#                                       per-module link map needs it off)
#   -fno-asynchronous-unwind-tables     only for the -fno-exceptions targets (xiot_embedded:
#   -fno-unwind-tables                  agent, hal, drivers, boards): no exception can pass
#                                       through them, so their .eh_frame serves nothing
#   -static-libstdc++ -static-libgcc   xiot-agent only (agent/app/CMakeLists.txt), unless
#                                       XIOT_DEVICE_STATIC_LIBSTDCXX=OFF: on a device the
#                                       agent is usually the only C++ program, and the shared
#                                       libstdc++ costs ~1 MB of RSS (all of it PSS there) for
#                                       the ~45 KB of it (with libgcc's unwinder) the agent
#                                       uses (docs/footprint.md); agent/app/device_terminate.cpp
#                                       keeps the demangler (48 KB) out
#   -Wl,-Map=<target>.map               a link map beside each executable's objects
#                                       (tools/footprint attributes sections to libraries)
#   XIOT_STRIP ON (default)             xiot-agent stripped after linking, symbols in
#                                       xiot-agent.debug
# Tests and benchmarks default to OFF (the device-side targets only). Hardening
# flags (PIE, RELRO, stack protector, _FORTIFY_SOURCE from dpkg-buildflags) are
# left as they are.
if(NOT XIOT_DEVICE_RELEASE)
  return()
endif()
option(XIOT_DEVICE_LTO "XIOT_DEVICE_RELEASE with link-time optimisation" ON)
option(XIOT_DEVICE_STATIC_LIBSTDCXX "XIOT_DEVICE_RELEASE links libstdc++ and libgcc statically" ON)
add_compile_options(-Os -ffunction-sections -fdata-sections)
add_link_options(-Wl,--gc-sections -Wl,-O1 -Wl,--as-needed -Wl,-Map=$<TARGET_PROPERTY:NAME>.map)
# binutils 2.40 packs relative relocations for x86 only (aarch64 from 2.41): it
# warns "ignored" elsewhere, which --fatal-warnings turns into a failed check.
include(CheckLinkerFlag)
check_linker_flag(CXX "LINKER:--fatal-warnings,-z,pack-relative-relocs" XIOT_LINKER_RELR)
if(XIOT_LINKER_RELR)
  add_link_options(-Wl,-z,pack-relative-relocs)
endif()
if(XIOT_DEVICE_LTO)
  include(CheckIPOSupported)
  check_ipo_supported(RESULT xiot_ipo OUTPUT xiot_ipo_out LANGUAGES C CXX)
  if(NOT xiot_ipo)
    message(FATAL_ERROR "XIOT_DEVICE_RELEASE: the compiler cannot do link-time optimisation: ${xiot_ipo_out}")
  endif()
  set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
endif()
set(XIOT_STRIP ON CACHE BOOL "Strip xiot-agent after linking (debug symbols in xiot-agent.debug)")
message(STATUS "xiot: device release (-Os, sections + gc-sections, LTO ${XIOT_DEVICE_LTO}, "
               "static libstdc++ ${XIOT_DEVICE_STATIC_LIBSTDCXX})")
