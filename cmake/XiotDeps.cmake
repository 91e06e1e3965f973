# Finds the Debian packages xiot is built on and exposes them as imported targets:
#   xiot::strophe  xiot::mbedtls  protobuf::libprotobuf-lite  xiot::cjson  xiot::systemd
#   xiot::gpiod
find_package(PkgConfig REQUIRED)
pkg_check_modules(STROPHE REQUIRED IMPORTED_TARGET libstrophe>=0.12)
add_library(xiot::strophe ALIAS PkgConfig::STROPHE)

# mbedTLS 2.28 ships no pkg-config or CMake file on Debian.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/version.h REQUIRED)
find_library(MBEDTLS_LIB mbedtls REQUIRED)
find_library(MBEDX509_LIB mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIB mbedcrypto REQUIRED)
add_library(xiot_mbedtls INTERFACE)
target_include_directories(xiot_mbedtls SYSTEM INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(xiot_mbedtls INTERFACE ${MBEDTLS_LIB} ${MBEDX509_LIB} ${MBEDCRYPTO_LIB})
add_library(xiot::mbedtls ALIAS xiot_mbedtls)

find_package(Protobuf 3.21 REQUIRED)

# libsystemd: sd_notify for a Type=notify service (hal/linux/systemd_notifier.cpp).
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
add_library(xiot::systemd ALIAS PkgConfig::LIBSYSTEMD)

# libgpiod 1.6 (v1 API): the GPIO character device (hal/linux/gpiod_controller.cpp).
pkg_check_modules(LIBGPIOD REQUIRED IMPORTED_TARGET libgpiod>=1.6)
add_library(xiot::gpiod ALIAS PkgConfig::LIBGPIOD)

find_package(cJSON REQUIRED)
add_library(xiot_cjson INTERFACE)
target_include_directories(xiot_cjson SYSTEM INTERFACE ${CJSON_INCLUDE_DIRS})
target_link_libraries(xiot_cjson INTERFACE ${CJSON_LIBRARIES})
add_library(xiot::cjson ALIAS xiot_cjson)

if(XIOT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(XIOT_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
