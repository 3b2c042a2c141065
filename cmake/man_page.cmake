# Fills a man page template: @VERSION@, and @VERBS@ from `dockctl help --roff`
# (the verb table itself).
cmake_minimum_required(VERSION 3.20)
execute_process(COMMAND ${DOCKCTL} help --roff OUTPUT_VARIABLE VERBS RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dockctl help --roff failed: ${rc}")
endif()
file(READ ${IN} text)
string(REPLACE [[@VERSION@]] "${VERSION}" text "${text}")
string(REPLACE [[@VERBS@]] "${VERBS}" text "${text}")
file(WRITE ${OUT} "${text}")
