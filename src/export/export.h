/*
 * export: turns a finished story document into files a family can keep.
 *
 * Today that is one self-contained HTML page to read the story in any browser
 * (inline CSS, no scripts, no external resources, friendly to print). PDF and
 * EPUB 3 will join it here. Every exporter is a pure function of the story
 * document: the same story gives the same bytes, with no clocks or random ids.
 */
#ifndef SV_EXPORT_H
#define SV_EXPORT_H

#include "base/base.h"

#include <jansson.h>

/* Renders the story document (see src/story/story.h) as a complete HTML page:
 * title, cast and every page with its number. Every string taken from the
 * story is HTML-escaped. Returns a NUL-terminated string the caller frees, or
 * NULL with err filled: code "invalid_value" and err->field naming the member
 * at fault ("title", "pages", "pages[2].text", ...) when the document is not a
 * story, "out_of_memory" when memory runs out. */
char *sv_export_html(const json_t *story, struct sv_err *err);

#endif
