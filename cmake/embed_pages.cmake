# Writes OUT: each web page file as a C string, dockd_page_<name>.
set(body "/* generated from daemon/dockd/pages/ by cmake/embed_pages.cmake */\n")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" text "${text}")
  string(APPEND body "const char dockd_page_${name}[] = \"${text}\";\n")
endforeach()
file(WRITE ${OUT} "${body}")
