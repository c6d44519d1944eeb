/* silver_image: a row image (one value per column of a table) as compact bytes and back, exactly.
 * The silver writer keeps each live row's image in the store so that it can fill unchanged
 * TOASTed values (VALUE_UNAVAILABLE) of later changes and rewrite a row it must close. An image
 * names its columns and their kinds, so it can be read back under a later definition of the same
 * table (columns added, dropped, renamed away, or of a changed type). The format is in the .c.
 * Ownership: encode appends to the caller's buf; decoded text and bytes live in the caller's
 * arena; the image bytes are only read during the call. */
#ifndef SLUICE_SINKS_LAKE_SILVER_IMAGE_H
#define SLUICE_SINKS_LAKE_SILVER_IMAGE_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "pipeline/event.h"

/* Append the image of vals (t->ncols values, any state) to out. 0, or -1 with err (an unknown
 * value kind or state; out is then cut back to what it held). */
int silver_image_encode(const table_def *t, const value *vals, buf *out, char *err, size_t errlen);

/* Rebuild the values of t's columns (t->ncols into vals) from an image written with a possibly
 * older definition of the same table. Columns are matched by name; a column of t missing from the
 * image (added since) gets state VALUE_IS_NULL, and image columns t no longer has are skipped. A
 * column of the same kind is reproduced exactly (text and bytes copied into a, NUL-terminated);
 * one whose kind changed is parsed again from its stored PostgreSQL text (pg_value_parse; bytea
 * as its hex text), and is an error when the image has no text for it (a value a rule set from a
 * number) or the text is not a value of the new kind. Null and unavailable values keep their
 * state whatever the kind. 0, or -1 with err (truncated or malformed image, a failed
 * conversion naming the column); never reads outside [data, data + len). */
int silver_image_decode(const table_def *t, const void *data, size_t len, value *vals, arena *a, char *err,
                        size_t errlen);

#endif
