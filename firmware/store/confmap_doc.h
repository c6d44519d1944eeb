/* confmap_doc: the configuration reference (docs/CONFIGURATION.md) generated from the config maps. */
#ifndef SLUICE_STORE_CONFMAP_DOC_H
#define SLUICE_STORE_CONFMAP_DOC_H

#include "core/buf.h"

/* Append the Markdown reference of every module's settings to out. */
void confmap_doc_markdown(buf *out);

#endif
