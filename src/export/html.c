/*
 * The HTML exporter: one self-contained page to read a story in any browser.
 *
 * The document is checked first (check_story), so rendering never meets a
 * surprise; then the page is written top to bottom into one buffer through a
 * small writer that remembers the first allocation failure, which keeps the
 * rendering code a straight list of "put this". Every string that comes from
 * the story passes through sv_buf_html. The few words the page adds itself
 * ("Page", "The end", ...) come from a table per language.
 */
#include "export/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The words the page adds around the story, per language; the first entry is the fallback. */
struct labels {
	const char *lang;
	const char *cast_heading; /* heading above the list of characters */
	const char *for_child;    /* before the child's name under the title */
	const char *page;         /* before a page number */
	const char *the_end;
	const char *words;     /* after the word count */
	const char *made_with; /* footer */
};

static const struct labels label_table[] = {
    {"en", "Who is in this story", "A story for", "Page", "The end", "words",
     "Made with StoryVerse"},
};

static const struct labels *labels_for(const char *lang)
{
	for (size_t i = 0; i < sizeof(label_table) / sizeof(label_table[0]); i++) {
		if (lang && strcmp(lang, label_table[i].lang) == 0)
			return &label_table[i];
	}
	return &label_table[0];
}

/* Inline so the page stands alone: a warm paper colour, a book face from the
 * reader's own system fonts, generous spacing, one page per sheet in print. */
static const char page_css[] =
    ":root{color-scheme:light;--paper:#fffaf0;--ink:#3b2f2a;--soft:#8a6d5a;"
    "--accent:#c8553d;--line:#ecdcc4}\n"
    "*{box-sizing:border-box}\n"
    "html{background:#f6ead7}\n"
    "body{margin:0;padding:2rem 1rem 3rem;color:var(--ink);"
    "font-family:Georgia,'Iowan Old Style','Palatino Linotype',Palatino,'DejaVu Serif',serif;"
    "font-size:1.2rem;line-height:1.7}\n"
    ".book{max-width:40rem;margin:0 auto}\n"
    "header{text-align:center;margin-bottom:2rem}\n"
    "h1{font-size:2.3rem;line-height:1.2;margin:0 0 .5rem;color:var(--accent)}\n"
    ".for{margin:0;color:var(--soft);font-style:italic}\n"
    ".cast,.page{background:var(--paper);border:1px solid var(--line);border-radius:14px;"
    "box-shadow:0 2px 10px rgba(80,50,20,.08);padding:1.5rem 1.75rem;margin:0 0 1.5rem}\n"
    ".cast h2{font-size:1.1rem;margin:0 0 .5rem;color:var(--soft);font-weight:normal;"
    "letter-spacing:.04em;text-transform:uppercase}\n"
    ".cast ul{list-style:none;margin:0;padding:0}\n"
    ".cast li{padding:.3rem 0}\n"
    ".cast .looks{display:block;font-size:.95rem;font-style:italic;color:var(--soft)}\n"
    ".cast .name{font-weight:bold}\n"
    ".cast .about{color:var(--soft)}\n"
    ".page p{margin:0 0 1rem}\n"
    "img.picture,img.cover{display:block;width:100%;height:auto;border-radius:10px;"
    "margin:0 0 1rem}\n"
    "img.cover{max-width:28rem;margin:0 auto 1.5rem}\n"
    "audio{display:block;width:100%;margin:0.5rem 0 1rem}\n"
    "h2.chapter{text-align:center;color:var(--accent);font-size:1.5rem;margin:2.5rem 0 1rem}\n"
    ".page p:last-of-type{margin-bottom:0}\n"
    ".page .number{display:block;text-align:center;color:var(--soft);font-size:.9rem;"
    "margin-top:1rem}\n"
    ".end{text-align:center;font-size:1.4rem;font-style:italic;color:var(--accent);"
    "margin:2rem 0 .5rem}\n"
    "footer{text-align:center;color:var(--soft);font-size:.9rem}\n"
    "@media (max-width:30rem){body{font-size:1.1rem;padding:1rem .5rem 2rem}"
    "h1{font-size:1.8rem}.cast,.page{padding:1.1rem 1.2rem}}\n"
    "@media print{html,body{background:#fff}body{padding:0}"
    ".cast,.page{box-shadow:none;border:none;break-inside:avoid}"
    ".page{break-after:page}}\n";

/* Accumulates the page; after the first failed append every call does nothing. */
struct writer {
	struct sv_buf buf;
	int failed;
};

static void put(struct writer *w, const char *s)
{
	if (!w->failed && sv_buf_puts(&w->buf, s) < 0)
		w->failed = 1;
}

static void put_escaped(struct writer *w, const char *s)
{
	if (!w->failed && sv_buf_html(&w->buf, s) < 0)
		w->failed = 1;
}

static void put_int(struct writer *w, json_int_t n)
{
	if (!w->failed && sv_buf_printf(&w->buf, "%" JSON_INTEGER_FORMAT, n) < 0)
		w->failed = 1;
}

/* Escapes the bytes s[0..len) (which hold no NUL) as one text node. */
static void put_escaped_n(struct writer *w, const char *s, size_t len)
{
	char *copy = strndup(s, len);
	if (!copy) {
		w->failed = 1;
		return;
	}
	put_escaped(w, copy);
	free(copy);
}

/* Each non-blank line of the page text becomes one paragraph. */
static void put_paragraphs(struct writer *w, const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		size_t start = 0, end = len;
		while (start < end && strchr(" \t\r", text[start]))
			start++;
		while (end > start && strchr(" \t\r", text[end - 1]))
			end--;
		if (end > start) {
			put(w, "<p>");
			put_escaped_n(w, text + start, end - start);
			put(w, "</p>\n");
		}
		text += len;
		if (*text == '\n')
			text++;
	}
}

static const char *string_member(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Checks what rendering relies on; the rest of the document is optional. */
static int check_story(const json_t *story, struct sv_err *err)
{
	if (!json_is_object(story))
		return sv_err_set(err, "invalid_value", "", "the story is not a JSON object");
	const char *title = string_member(story, "title");
	if (!title || !*title)
		return sv_err_set(err, "invalid_value", "title", "the story has no title");

	const json_t *cast = json_object_get(story, "cast");
	if (cast && !json_is_array(cast))
		return sv_err_set(err, "invalid_value", "cast", "the cast is not a list");
	size_t i;
	const json_t *item;
	json_array_foreach(cast, i, item)
	{
		const char *name = string_member(item, "name");
		if (!name || !*name) {
			char field[48];
			snprintf(field, sizeof(field), "cast[%zu].name", i);
			return sv_err_set(err, "invalid_value", field,
			                  "character %zu of the cast has no name", i + 1);
		}
	}

	const json_t *pages = json_object_get(story, "pages");
	if (!pages)
		return sv_err_set(err, "invalid_value", "pages", "the story has no pages");
	if (!json_is_array(pages))
		return sv_err_set(err, "invalid_value", "pages", "the pages are not a list");
	if (json_array_size(pages) == 0)
		return sv_err_set(err, "invalid_value", "pages", "the story has no pages");
	json_array_foreach(pages, i, item)
	{
		char field[48];
		if (!string_member(item, "text")) {
			snprintf(field, sizeof(field), "pages[%zu].text", i);
			return sv_err_set(err, "invalid_value", field, "page %zu has no text",
			                  i + 1);
		}
		const json_t *number = json_object_get(item, "number");
		if (number && (!json_is_integer(number) || json_integer_value(number) < 1)) {
			snprintf(field, sizeof(field), "pages[%zu].number", i);
			return sv_err_set(
			    err, "invalid_value", field,
			    "page %zu has a number that is not a whole number above 0", i + 1);
		}
	}
	return 0;
}

static void put_cast(struct writer *w, const json_t *cast, const struct labels *l)
{
	if (json_array_size(cast) == 0)
		return;
	put(w,
	    "<section class=\"cast\" aria-labelledby=\"cast-heading\">\n<h2 id=\"cast-heading\">");
	put_escaped(w, l->cast_heading);
	put(w, "</h2>\n<ul>\n");
	size_t i;
	const json_t *c;
	json_array_foreach(cast, i, c)
	{
		const char *species = string_member(c, "species");
		const char *role = string_member(c, "role");
		const char *looks = string_member(c, "looks");
		if (species && role && strcmp(species, role) == 0)
			role = NULL; /* "(child)", not "(child, child)" */
		put(w, "<li><span class=\"name\">");
		put_escaped(w, string_member(c, "name"));
		put(w, "</span>");
		if ((species && *species) || (role && *role)) {
			put(w, " <span class=\"about\">(");
			if (species && *species)
				put_escaped(w, species);
			if (species && *species && role && *role)
				put(w, ", ");
			if (role && *role)
				put_escaped(w, role);
			put(w, ")</span>");
		}
		if (looks && *looks) {
			put(w, "<span class=\"looks\">");
			put_escaped(w, looks);
			put(w, "</span>");
		}
		put(w, "</li>\n");
	}
	put(w, "</ul>\n</section>\n");
}

/* A picture the story names ({"image","alt"}): only a plain relative path
 * beside the page, so the page can show nothing from elsewhere. */
static bool picture_path_ok(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n > 0 && n < 128 && path[0] != '/' && !strstr(path, "..") &&
	       strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789._/-") == n;
}

static void put_picture(struct writer *w, const json_t *picture, const char *cls, int width,
                        int height)
{
	const char *image = string_member(picture, "image");
	const char *alt = string_member(picture, "alt");
	if (!picture_path_ok(image))
		return;
	put(w, "<img class=\"");
	put(w, cls);
	put(w, "\" src=\"");
	put_escaped(w, image);
	put(w, "\" alt=\"");
	put_escaped(w, alt ? alt : "");
	put(w, "\" width=\"");
	put_int(w, width);
	put(w, "\" height=\"");
	put_int(w, height);
	put(w, "\">\n");
}

/* A player for a sound the story names ({"file"}), under the same rule as pictures. */
static void put_audio(struct writer *w, const json_t *audio, const char *cls)
{
	const char *file = string_member(audio, "file");
	if (!picture_path_ok(file))
		return;
	put(w, "<audio class=\"");
	put(w, cls);
	put(w, "\" controls preload=\"none\" src=\"");
	put_escaped(w, file);
	put(w, "\"></audio>\n");
}

static void put_pages(struct writer *w, const json_t *pages, const struct labels *l)
{
	size_t i;
	const json_t *p;
	json_array_foreach(pages, i, p)
	{
		const json_t *number = json_object_get(p, "number");
		json_int_t n = number ? json_integer_value(number) : (json_int_t)i + 1;
		const char *chapter = json_string_value(json_object_get(p, "chapter_title"));
		if (chapter) {
			put(w, "<h2 class=\"chapter\">");
			put_escaped(w, chapter);
			put(w, "</h2>\n");
		}
		put(w, "<section class=\"page\" id=\"page-");
		put_int(w, n);
		put(w, "\" aria-label=\"");
		put_escaped(w, l->page);
		put(w, " ");
		put_int(w, n);
		put(w, "\">\n");
		put_picture(w, json_object_get(p, "picture"), "picture", 1024, 768);
		put_audio(w, json_object_get(p, "audio"), "page-audio");
		put_paragraphs(w, string_member(p, "text"));
		put(w, "<span class=\"number\" aria-hidden=\"true\">");
		put_int(w, n);
		put(w, "</span>\n</section>\n");
	}
}

char *sv_export_html(const json_t *story, struct sv_err *err)
{
	if (check_story(story, err) < 0)
		return NULL;

	const char *lang = string_member(story, "language");
	if (!lang || !*lang)
		lang = "en";
	const struct labels *l = labels_for(lang);
	const char *title = string_member(story, "title");
	const char *child = string_member(json_object_get(story, "parameters"), "child_name");
	const json_t *word_count = json_object_get(story, "word_count");

	struct writer w = {.failed = 0};
	sv_buf_init(&w.buf);

	put(&w, "<!DOCTYPE html>\n<html lang=\"");
	put_escaped(&w, lang);
	put(&w, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<meta http-equiv=\"Content-Security-Policy\" "
	        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
	        "file:; media-src 'self' file:\">\n<title>");
	put_escaped(&w, title);
	put(&w, "</title>\n<style>\n");
	put(&w, page_css);
	put(&w, "</style>\n</head>\n<body>\n<main class=\"book\">\n<header>\n<h1>");
	put_escaped(&w, title);
	put(&w, "</h1>\n");
	if (child && *child) {
		put(&w, "<p class=\"for\">");
		put_escaped(&w, l->for_child);
		put(&w, " ");
		put_escaped(&w, child);
		put(&w, "</p>\n");
	}
	put(&w, "</header>\n");
	put_picture(&w, json_object_get(story, "cover"), "cover", 768, 1024);
	put_audio(&w, json_object_get(story, "audio"), "story-audio");
	put_cast(&w, json_object_get(story, "cast"), l);
	put_pages(&w, json_object_get(story, "pages"), l);
	put(&w, "<p class=\"end\">");
	put_escaped(&w, l->the_end);
	put(&w, "</p>\n</main>\n<footer>");
	if (json_is_integer(word_count) && json_integer_value(word_count) >= 0) {
		put_int(&w, json_integer_value(word_count));
		put(&w, " ");
		put_escaped(&w, l->words);
		put(&w, " &middot; ");
	}
	put_escaped(&w, l->made_with);
	put(&w, "</footer>\n</body>\n</html>\n");

	if (w.failed) {
		sv_buf_free(&w.buf);
		sv_err_set(err, "out_of_memory", "", "ran out of memory while writing the page");
		return NULL;
	}
	return sv_buf_steal(&w.buf);
}
