# Included by the top-level CMakeLists.txt: turns the console's static files into a C table
# (path, MIME type, bytes) linked into sluice. Sets SLUICE_WEB_ASSETS_C.
set(web_dir ${CMAKE_CURRENT_SOURCE_DIR}/web)
file(GLOB SLUICE_WEB_FILES CONFIGURE_DEPENDS ${web_dir}/static/*)
set(SLUICE_WEB_ASSETS_C ${CMAKE_CURRENT_BINARY_DIR}/web_assets.c)
add_custom_command(OUTPUT ${SLUICE_WEB_ASSETS_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${SLUICE_WEB_ASSETS_C} -DDIR=${web_dir}/static -P ${web_dir}/embed.cmake
  DEPENDS ${SLUICE_WEB_FILES} ${web_dir}/embed.cmake
  COMMENT "Embedding console assets")
