# install(): what a package build (debian/rules via dh's cmake buildsystem,
# tools/package) ships, the layout of docs/packaging.md:
#   ${prefix}/bin/xiot-agent                         the daemon
#   ${prefix}/bin/xiotctl                            the operator tool
#   ${prefix}/share/xiot/boards/<name>/board.json    every shipped board, with
#                                                    its fixture tree (boards/sim/sysfs)
#   ${prefix}/share/doc/xiot-agent/examples/agent.json   the commented example config
# Components: "agent" (all but xiotctl) and "xiotctl", so one package can be
# installed on its own (cmake --install BUILD --component agent).
include(GNUInstallDirs)

install(TARGETS xiot-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
install(TARGETS xiotctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT xiotctl)

# A board is a folder of boards/ holding a board.json; boards/src and
# boards/include are the code that reads them, not boards.
file(GLOB xiot_board_files RELATIVE ${PROJECT_SOURCE_DIR}/boards
     CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/boards/*/board.json)
foreach(f ${xiot_board_files})
  get_filename_component(board ${f} DIRECTORY)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/boards/${board}
          DESTINATION ${CMAKE_INSTALL_DATADIR}/xiot/boards
          COMPONENT agent
          FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
          DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/docs/examples/agent.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/xiot-agent/examples
        COMPONENT agent)
