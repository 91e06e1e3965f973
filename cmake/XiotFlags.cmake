# Compiler flags shared by every xiot target.
#   xiot_warnings(tgt)  - the warning set (errors when XIOT_WERROR is ON)
#   xiot_embedded(tgt)  - agent, hal and drivers: no exceptions, no RTTI
#   xiot_sanitizers(list) - every target from here on built with -fsanitize=<list>
function(xiot_warnings tgt)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                         -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2)
  if(XIOT_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
endfunction()

function(xiot_embedded tgt)
  xiot_warnings(${tgt})
  target_compile_options(${tgt} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
  # The device release (cmake/XiotDevice.cmake): no exception passes through
  # these targets, so no unwind tables either.
  if(XIOT_DEVICE_RELEASE)
    target_compile_options(${tgt} PRIVATE -fno-asynchronous-unwind-tables -fno-unwind-tables)
  endif()
endfunction()

# ASan/UBSan/... for the whole tree (CI runs the suite once without and once
# with address,undefined). Any finding aborts the process (no recovery), so a
# test fails on it. UBSan's vptr check needs RTTI, which the embedded targets
# do not have: it is left out.
function(xiot_sanitizers list)
  if(NOT list)
    return()
  endif()
  # GCC 12's flow analysis under ASan reports -Wmaybe-uninitialized inside
  # libstdc++ (std::regex, std::function) that plain builds do not: that
  # warning alone is off in sanitized builds.
  set(opts -fsanitize=${list} -fno-omit-frame-pointer -fno-sanitize-recover=all -Wno-maybe-uninitialized)
  if(list MATCHES "undefined")
    list(APPEND opts -fno-sanitize=vptr)
  endif()
  add_compile_options(${opts})
  add_link_options(-fsanitize=${list})
  message(STATUS "xiot: sanitizers ${list}")
endfunction()
