# Compiler flags shared by every xiot target.
#   xiot_warnings(tgt)  - the warning set (errors when XIOT_WERROR is ON)
#   xiot_embedded(tgt)  - agent, hal and drivers: no exceptions, no RTTI
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
endfunction()
