/* assets: the console's static files (web/static), compiled into the binary by web/embed.cmake.
 * web_assets[] is terminated by an all-zero entry; path is the URL path ("/index.html"). */
#ifndef SLUICE_API_ASSETS_H
#define SLUICE_API_ASSETS_H

typedef struct web_asset {
    const char *path;
    const char *mime;
    const unsigned char *data;
    unsigned long len;
} web_asset;

extern const web_asset web_assets[];

#endif
