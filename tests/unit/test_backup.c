/* Unit tests for backup and restore, run twice: on SQLite files and on a real
 * PostgreSQL server (pg_support, two fresh databases per test), with file
 * blobs. A store with stories in every state, awkward text, pages, jobs and
 * media is backed up and restored into a fresh store and blob folder, and
 * must come back field for field and byte for byte; a restore into a store
 * that holds stories, or from a damaged, foreign or hostile archive, must
 * fail with a clear code and change nothing. */
#include "pg_support.h"
#include "store/store.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define NSTORIES 5

struct side {
	char url[160];
	char blobs_url[96];
	struct sv_store *s;
	struct sv_blobs *b;
};

struct fixture {
	char dir[64]; /* blobs, archives and (sqlite) databases */
	char archive[96];
	struct side src, dst;
	bool postgres;
};

static const char *id_of(int i)
{
	static char ids[16][33];
	snprintf(ids[i], sizeof(ids[i]), "%032x", i + 1);
	return ids[i];
}

/* Text that COPY and SQLite must carry exactly: tabs, newlines, backslashes,
 * quotes, a "\N" that is not NULL, and characters outside ASCII. */
static const char awkward[] = "{\"t\":\"tab\\there\",\"raw\":\"a\tb\nc\\\\N \\\\. \\\" é 🐉 \r\"}";

static int open_side(struct fixture *f, struct side *side, const char *name)
{
	struct sv_err err;
	if (!f->postgres)
		snprintf(side->url, sizeof(side->url), "sqlite:%s/%s.db", f->dir, name);
	else if (pg_support_create_db(&pg_support_server, side->url, sizeof(side->url)) < 0)
		return -1;
	snprintf(side->blobs_url, sizeof(side->blobs_url), "file:%s/%s-blobs", f->dir, name);
	side->s = sv_store_open(side->url, &err);
	side->b = side->s ? sv_store_blobs_open(side->blobs_url, &err) : NULL;
	if (!side->b) {
		fprintf(stderr, "cannot open %s: %s\n", side->url, err.message);
		return -1;
	}
	return 0;
}

static int setup(void **state, bool postgres)
{
	struct fixture *f = calloc(1, sizeof(*f));
	*state = f;
	f->postgres = postgres;
	strcpy(f->dir, "/tmp/sv-backup-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->archive, sizeof(f->archive), "%s/backup.tar.gz", f->dir);
	return open_side(f, &f->src, "src") < 0 || open_side(f, &f->dst, "dst") < 0 ? -1 : 0;
}

static int setup_sqlite(void **state)
{
	return setup(state, false);
}

static int setup_postgres(void **state)
{
	return setup(state, true);
}

static void close_side(struct side *side)
{
	sv_store_close(side->s);
	sv_store_blobs_close(side->b);
	side->s = NULL;
	side->b = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close_side(&f->src);
	close_side(&f->dst);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int rc = system(cmd) == 0 ? 0 : -1;
	free(f);
	return rc;
}

static void put_media(struct side *side, const char *id, const char *name, const char *type,
                      const void *data, size_t len)
{
	struct sv_err err;
	struct sv_store_media m = {.size = (int64_t)len};
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.content_type, sizeof(m.content_type), "%s", type);
	assert_int_equal(sv_store_blob_put(side->b, data, len, m.blob, &err), 0);
	assert_int_equal(sv_store_media_put(side->s, id, &m, &err), 0);
}

/* Stories in every state: 0 queued, 1 ready with pages and two media,
 * 2 failed (dead letter), 3 generating with a leased job and one page, 4 held
 * for review (awkward text in its reason, and a next kind). */
static void fill(struct side *side)
{
	struct sv_err err;
	struct sv_store_job job;
	for (int i = 0; i < NSTORIES; i++)
		assert_int_equal(sv_store_story_create(side->s, id_of(i), i == 1 ? awkward : "{}",
		                                       "text", i == 2 ? 1 : 3, 1000 + i, &err),
		                 0);
	assert_int_equal(sv_store_job_claim(side->s, "text", "w", 2000, 60000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(0)); /* oldest first */
	/* Story 0 goes back to the queue: its job is queued again with a failure noted. */
	assert_int_equal(sv_store_job_fail(side->s, &job, "w", "try again", 2001, 2002, &err), 0);
	assert_int_equal(sv_store_job_claim(side->s, "text", "w", 2003, 60000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(1));
	for (int p = 1; p <= 3; p++)
		assert_int_equal(sv_store_page_put(side->s, id_of(1), p, awkward, &err), 0);
	static const char html[] = "<!doctype html><p>Once upon a time…</p>\n";
	put_media(side, id_of(1), "story.html", "text/html; charset=utf-8", html, strlen(html));
	size_t n = 200000;
	unsigned char *bin = malloc(n);
	for (size_t i = 0; i < n; i++)
		bin[i] = (unsigned char)(i * 7919u >> 3); /* every byte value, NULs included */
	put_media(side, id_of(1), "picture.png", "image/png", bin, n);
	free(bin);
	put_media(side, id_of(1), "empty.txt", "text/plain", "", 0);
	assert_int_equal(sv_store_job_succeed(side->s, &job, "w", "The Title", awkward, 2004, &err),
	                 0);
	assert_int_equal(sv_store_job_claim(side->s, "text", "w", 2005, 60000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(2));
	assert_int_equal(sv_store_job_fail(side->s, &job, "w", "boom\tbang\\", 2006, 2007, &err),
	                 0);
	assert_int_equal(sv_store_job_claim(side->s, "text", "w", 2008, 60000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(3));
	assert_int_equal(sv_store_page_put(side->s, id_of(3), 1, "{\"p\":1}", &err), 0);
	assert_int_equal(sv_store_job_claim(side->s, "text", "w", 2009, 60000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(4));
	assert_int_equal(
	    sv_store_job_hold(side->s, &job, "w", "Held", "{}", awkward, "image", 2010, &err), 0);
}

static void assert_same_string(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_same_story(struct side *a, struct side *b, const char *id)
{
	struct sv_err err;
	struct sv_store_story x = {0}, y = {0};
	assert_int_equal(sv_store_story_get(a->s, id, &x, &err), 0);
	assert_int_equal(sv_store_story_get(b->s, id, &y, &err), 0);
	assert_string_equal(x.id, y.id);
	assert_string_equal(x.status, y.status);
	assert_int_equal(x.seq, y.seq);
	assert_int_equal(x.created_at, y.created_at);
	assert_int_equal(x.updated_at, y.updated_at);
	assert_same_string(x.params, y.params);
	assert_same_string(x.title, y.title);
	assert_same_string(x.story, y.story);
	assert_same_string(x.error, y.error);
	assert_same_string(x.review, y.review);
	sv_store_story_clear(&x);
	sv_store_story_clear(&y);
	int64_t pa = -1, pb = -2;
	assert_int_equal(sv_store_page_count(a->s, id, &pa, &err), 0);
	assert_int_equal(sv_store_page_count(b->s, id, &pb, &err), 0);
	assert_int_equal(pa, pb);
}

static void assert_same_blob(struct side *a, struct side *b, const char *key)
{
	struct sv_err err;
	struct sv_buf x, y;
	sv_buf_init(&x);
	sv_buf_init(&y);
	assert_int_equal(sv_store_blob_get(a->b, key, &x, &err), 0);
	assert_int_equal(sv_store_blob_get(b->b, key, &y, &err), 0);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.len ? x.data : "", y.len ? y.data : "", x.len);
	sv_buf_free(&x);
	sv_buf_free(&y);
}

static void assert_same_media(struct side *a, struct side *b, const char *id)
{
	struct sv_err err;
	struct sv_store_media x[8], y[8];
	int nx = -1, ny = -2;
	assert_int_equal(sv_store_media_list(a->s, id, x, 8, &nx, &err), 0);
	assert_int_equal(sv_store_media_list(b->s, id, y, 8, &ny, &err), 0);
	assert_int_equal(nx, ny);
	for (int i = 0; i < nx; i++) {
		assert_string_equal(x[i].name, y[i].name);
		assert_string_equal(x[i].blob, y[i].blob);
		assert_string_equal(x[i].content_type, y[i].content_type);
		assert_int_equal(x[i].size, y[i].size);
		assert_same_blob(a, b, x[i].blob);
	}
}

static int count_key(void *ctx, const char *key)
{
	++*(int *)ctx;
	return 0;
}

static int blob_count(struct side *side)
{
	struct sv_err err;
	int n = 0;
	assert_int_equal(sv_store_blob_list(side->b, count_key, &n, &err), 0);
	return n;
}

static int64_t story_total(struct side *side)
{
	struct sv_err err;
	int64_t c[SV_STORE_NSTATUSES], n = 0;
	assert_int_equal(sv_store_story_counts(side->s, c, &err), 0);
	for (int i = 0; i < SV_STORE_NSTATUSES; i++)
		n += c[i];
	return n;
}

/* The staging folders under TMPDIR must all be gone after every call. */
static int staging_left(const char *tmpdir)
{
	DIR *d = opendir(tmpdir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "sv-backup-", 10) == 0;
	closedir(d);
	return n;
}

static void backup_src(struct fixture *f, struct sv_store_backup_info *info)
{
	struct sv_err err;
	sv_err_clear(&err);
	int rc = sv_store_backup(f->src.s, f->src.b, f->archive, info, &err);
	if (rc != 0)
		fprintf(stderr, "backup: %s\n", err.message);
	assert_int_equal(rc, 0);
}

static void round_trip_is_identical(void **state)
{
	struct fixture *f = *state;
	char tmp[96];
	snprintf(tmp, sizeof(tmp), "%s/tmp", f->dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	setenv("TMPDIR", tmp, 1);
	fill(&f->src);
	struct sv_store_backup_info info;
	backup_src(f, &info);
	assert_string_equal(info.backend, f->postgres ? "postgres" : "sqlite");
	assert_int_equal(info.schema_version, SV_STORE_SCHEMA_VERSION);
	assert_int_equal(info.stories, NSTORIES);
	assert_int_equal(info.blobs, 3);
	assert_int_equal(staging_left(tmp), 0);
	char tmpfile[128];
	snprintf(tmpfile, sizeof(tmpfile), "%s.tmp", f->archive);
	assert_int_equal(access(tmpfile, F_OK), -1); /* renamed into place */

	struct sv_store_backup_info peek;
	struct sv_err err;
	assert_int_equal(sv_store_backup_info(f->archive, &peek, &err), 0);
	assert_string_equal(peek.backend, info.backend);
	assert_int_equal(peek.blobs, 3);

	struct sv_store_backup_info got;
	int rc = sv_store_restore(f->dst.s, f->dst.b, f->archive, &got, &err);
	if (rc != 0)
		fprintf(stderr, "restore: %s\n", err.message);
	assert_int_equal(rc, 0);
	assert_int_equal(got.stories, NSTORIES);
	assert_int_equal(got.blobs, 3);
	assert_int_equal(staging_left(tmp), 0);
	unsetenv("TMPDIR");
	for (int i = 0; i < NSTORIES; i++) {
		assert_same_story(&f->src, &f->dst, id_of(i));
		assert_same_media(&f->src, &f->dst, id_of(i));
	}
	assert_int_equal(blob_count(&f->dst), 3);
	int64_t counts_a[SV_STORE_NSTATUSES], counts_b[SV_STORE_NSTATUSES], qa, qb;
	assert_int_equal(sv_store_story_counts(f->src.s, counts_a, &err), 0);
	assert_int_equal(sv_store_story_counts(f->dst.s, counts_b, &err), 0);
	assert_memory_equal(counts_a, counts_b, sizeof(counts_a));
	assert_int_equal(sv_store_jobs_queued(f->src.s, "text", &qa, &err), 0);
	assert_int_equal(sv_store_jobs_queued(f->dst.s, "text", &qb, &err), 0);
	assert_int_equal(qa, qb);
}

/* The restored queue carries on: the queued job is claimable, the leased one
 * lapses and is taken over, and new stories and jobs get fresh numbers. */
static void restored_store_carries_on(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	fill(&f->src);
	backup_src(f, NULL);
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, f->archive, NULL, &err), 0);
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f->dst.s, "text", "w2", 3000, 100000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(0));
	assert_int_equal(job.attempts, 2);
	assert_int_equal(sv_store_job_claim(f->dst.s, "text", "w2", 70000, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(3));
	assert_int_equal(sv_store_story_create(f->dst.s, id_of(9), "{}", "text", 3, 5000, &err), 0);
	struct sv_store_story last = {0}, s = {0};
	assert_int_equal(sv_store_story_get(f->dst.s, id_of(NSTORIES - 1), &last, &err), 0);
	assert_int_equal(sv_store_story_get(f->dst.s, id_of(9), &s, &err), 0);
	assert_true(s.seq > last.seq);
	sv_store_story_clear(&s);
	sv_store_story_clear(&last);
	assert_int_equal(sv_store_job_claim(f->dst.s, "text", "w2", 70001, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(9));
	/* The review queue carries on too: the held story, with its reason and
	 * its next kind, is decided there. */
	struct sv_store_story held = {0};
	int n = 0;
	assert_int_equal(sv_store_review_list(f->dst.s, &held, 1, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(held.id, id_of(4));
	assert_string_equal(held.review, awkward);
	sv_store_story_clear(&held);
	assert_int_equal(sv_store_review_decide(f->dst.s, id_of(4), true, NULL, 70002, &err), 0);
	assert_int_equal(sv_store_job_claim(f->dst.s, "image", "w2", 70003, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(4));
}

static void restore_into_nonempty_conflicts(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	fill(&f->src);
	backup_src(f, NULL);
	assert_int_equal(sv_store_story_create(f->dst.s, id_of(9), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, f->archive, NULL, &err), -1);
	assert_string_equal(err.code, "conflict");
	assert_non_null(strstr(err.message, "empty database"));
	assert_int_equal(story_total(&f->dst), 1);
	assert_int_equal(blob_count(&f->dst), 0);
	/* And into the very store it came from. */
	assert_int_equal(sv_store_restore(f->src.s, f->src.b, f->archive, NULL, &err), -1);
	assert_string_equal(err.code, "conflict");
	assert_int_equal(story_total(&f->src), NSTORIES);
}

/* The backend's own check, for a story that arrives after the front's. */
static void load_checks_emptiness_itself(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	fill(&f->src);
	char stage[96];
	snprintf(stage, sizeof(stage), "%s/stage", f->dir);
	assert_int_equal(mkdir(stage, 0700), 0);
	assert_int_equal(sv_store_dump(f->src.s, stage, &err), NSTORIES);
	assert_int_equal(sv_store_story_create(f->dst.s, id_of(9), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_load(f->dst.s, stage, &err), -1);
	assert_string_equal(err.code, "conflict");
	assert_int_equal(story_total(&f->dst), 1);
	assert_int_equal(sv_store_story_delete(f->dst.s, id_of(9), &err), 0);
	assert_int_equal(sv_store_load(f->dst.s, stage, &err), NSTORIES);
	assert_same_story(&f->src, &f->dst, id_of(1));
}

struct entry {
	const char *name;
	const char *data;
	size_t len;
};

/* Writes a gzip'd pax tar of the given entries, as a hostile or mistaken
 * writer might. */
static void write_tar(const char *path, const struct entry *entries, int n)
{
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (int i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, entries[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)entries[i].len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, entries[i].data, entries[i].len),
		                 (la_ssize_t)entries[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *data = malloc(*len + 1);
	assert_int_equal(fread(data, 1, *len, fp), *len);
	fclose(fp);
	return data;
}

/* Restores path into the empty dst and expects code; dst must stay empty. */
static void expect_refused(struct fixture *f, const char *path, const char *code)
{
	struct sv_err err;
	sv_err_clear(&err);
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, path, NULL, &err), -1);
	if (strcmp(err.code, code) != 0)
		fprintf(stderr, "expected %s, got %s: %s\n", code, err.code, err.message);
	assert_string_equal(err.code, code);
	assert_true(err.message[0] != '\0');
	assert_null(strchr(err.message, '\n'));
	assert_int_equal(story_total(&f->dst), 0);
}

static void damaged_archives_fail_cleanly(void **state)
{
	struct fixture *f = *state;
	fill(&f->src);
	backup_src(f, NULL);
	size_t len;
	char *whole = read_file(f->archive, &len);
	char bad[128];
	snprintf(bad, sizeof(bad), "%s/bad.tar.gz", f->dir);
	/* Cut short at several places: inside the manifest, the database, the blobs. */
	size_t cuts[] = {10, 100, len / 3, len / 2, len - 40, len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_file(bad, whole, cuts[i]);
		expect_refused(f, bad, "invalid_backup");
	}
	free(whole);
	struct sv_err err;
	/* Not an archive at all; an empty file; no file. */
	write_file(bad, "hello, world\n", 13);
	expect_refused(f, bad, "invalid_backup");
	write_file(bad, "", 0);
	expect_refused(f, bad, "invalid_backup");
	snprintf(bad, sizeof(bad), "%s/missing.tar.gz", f->dir);
	expect_refused(f, bad, "io");
	struct sv_store_backup_info info;
	assert_int_equal(sv_store_backup_info(bad, &info, &err), -1);
}

/* A manifest listing one database file, "x", holding the byte 'x'. */
/* Reads every entry of an archive into e (names and bytes malloc'd). */
static int read_tar(const char *path, struct entry *e, int max)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
	struct archive_entry *ae;
	int n = 0;
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		assert_true(n < max);
		size_t len = (size_t)archive_entry_size(ae);
		char *data = malloc(len + 1);
		assert_int_equal(archive_read_data(a, data, len), (la_ssize_t)len);
		e[n++] = (struct entry){strdup(archive_entry_pathname(ae)), data, len};
	}
	archive_read_free(a);
	return n;
}

static void free_entries(struct entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		free((char *)e[i].name);
		free((char *)e[i].data);
	}
}

/* The first entry whose name starts with prefix. */
static int entry_index(const struct entry *e, int n, const char *prefix)
{
	for (int i = 0; i < n; i++)
		if (strncmp(e[i].name, prefix, strlen(prefix)) == 0)
			return i;
	fail_msg("no entry %s", prefix);
	return -1;
}

/* A real backup with one thing changed: a byte of the database or of a blob
 * (gzip's checksum never gets read: the tar ends first), or an entry left out. */
static void tampered_archives_fail(void **state)
{
	struct fixture *f = *state;
	fill(&f->src);
	backup_src(f, NULL);
	struct entry e[16];
	int n = read_tar(f->archive, e, 16);
	char path[128];
	snprintf(path, sizeof(path), "%s/t.tar.gz", f->dir);
	int db = entry_index(e, n, "database/");
	int blob = db; /* the largest blob */
	for (int i = 0; i < n; i++)
		if (strncmp(e[i].name, "blobs/", 6) == 0 && (blob == db || e[i].len > e[blob].len))
			blob = i;
	int flips[] = {db, blob};
	for (int i = 0; i < 2; i++) {
		char *byte = (char *)e[flips[i]].data + e[flips[i]].len / 2;
		*byte ^= 0x01;
		write_tar(path, e, n);
		expect_refused(f, path, "corrupt");
		*byte ^= 0x01;
	}
	/* Each entry left out in turn, then the database given twice. */
	struct entry some[17];
	for (int skip = 1; skip < n; skip++) {
		int m = 0;
		for (int i = 0; i < n; i++)
			if (i != skip)
				some[m++] = e[i];
		write_tar(path, some, m);
		expect_refused(f, path, "invalid_backup");
	}
	memcpy(some, e, n * sizeof(e[0]));
	some[n] = e[db];
	write_tar(path, some, n + 1);
	expect_refused(f, path, "invalid_backup");
	/* As it was, the rewritten archive restores: the changes alone were refused. */
	write_tar(path, e, n);
	struct sv_err err;
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, path, NULL, &err), 0);
	assert_int_equal(story_total(&f->dst), NSTORIES);
	free_entries(e, n);
}

static void manifest(char *out, size_t n, int format, const char *backend, int version, int blobs)
{
	char key[SV_BLOB_KEY_LEN + 1];
	sv_store_blob_key("x", 1, key);
	snprintf(out, n,
	         "{\"format\":%d,\"backend\":\"%s\",\"schema_version\":%d,\"stories\":0,"
	         "\"blobs\":%d,\"database\":{\"x\":\"%s\"}}",
	         format, backend, version, blobs, key);
}

static void foreign_and_hostile_archives_fail(void **state)
{
	struct fixture *f = *state;
	char path[128], m[256];
	snprintf(path, sizeof(path), "%s/x.tar.gz", f->dir);
	const char *mine = f->postgres ? "postgres" : "sqlite";
	const char *other = f->postgres ? "sqlite" : "postgres";
	struct entry e[3] = {{"storyverse-backup.json", m, 0}, {"database/x", "x", 1}};

	manifest(m, sizeof(m), 1, other, SV_STORE_SCHEMA_VERSION, 0);
	e[0].len = strlen(m);
	write_tar(path, e, 2);
	expect_refused(f, path, "incompatible");
	struct sv_err err;
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, path, NULL, &err), -1);
	assert_non_null(strstr(err.message, other));
	assert_non_null(strstr(err.message, mine));

	manifest(m, sizeof(m), 1, mine, SV_STORE_SCHEMA_VERSION + 1, 0);
	e[0].len = strlen(m);
	write_tar(path, e, 2);
	expect_refused(f, path, "incompatible");

	manifest(m, sizeof(m), 2, mine, SV_STORE_SCHEMA_VERSION, 0);
	e[0].len = strlen(m);
	write_tar(path, e, 2);
	expect_refused(f, path, "incompatible");

	/* Manifests that are not one: JSON of the wrong shape, not JSON, too big. */
	const char *junk[] = {"[]", "{\"format\":1}", "{", "{\"format\":\"1\"}"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		e[0] = (struct entry){"storyverse-backup.json", junk[i], strlen(junk[i])};
		write_tar(path, e, 2);
		expect_refused(f, path, "invalid_backup");
	}
	size_t big = 70000;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	e[0] = (struct entry){"storyverse-backup.json", huge, big};
	write_tar(path, e, 1);
	expect_refused(f, path, "invalid_backup");
	free(huge);

	/* The manifest must come first. */
	manifest(m, sizeof(m), 1, mine, SV_STORE_SCHEMA_VERSION, 0);
	struct entry late[2] = {{"database/x", "x", 1}, {"storyverse-backup.json", m, strlen(m)}};
	write_tar(path, late, 2);
	expect_refused(f, path, "invalid_backup");

	/* Names that reach outside, or are no blob key. */
	const char *names[] = {"database/../../evil", "database/.hidden", "../evil",
	                       "/etc/evil",           "blobs/abc",        "blobs/../x",
	                       "other/thing",         "database/"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		e[0] = (struct entry){"storyverse-backup.json", m, strlen(m)};
		e[1] = (struct entry){names[i], "x", 1};
		write_tar(path, e, 2);
		expect_refused(f, path, "invalid_backup");
	}
	char evil[160];
	snprintf(evil, sizeof(evil), "%s/../evil", f->dir);
	assert_int_equal(access(evil, F_OK), -1);

	/* A blob whose bytes are not what its name says: nothing is stored. */
	char name[80];
	char key[SV_BLOB_KEY_LEN + 1];
	sv_store_blob_key("good", 4, key);
	snprintf(name, sizeof(name), "blobs/%s", key);
	manifest(m, sizeof(m), 1, mine, SV_STORE_SCHEMA_VERSION, 1);
	e[0] = (struct entry){"storyverse-backup.json", m, strlen(m)};
	e[1] = (struct entry){"database/x", "x", 1};
	e[2] = (struct entry){name, "evil", 4};
	write_tar(path, e, 3);
	expect_refused(f, path, "corrupt");
	assert_int_equal(blob_count(&f->dst), 0);

	/* A blob count that does not match the manifest: entries went missing. */
	manifest(m, sizeof(m), 1, mine, SV_STORE_SCHEMA_VERSION, 2);
	e[2] = (struct entry){name, "good", 4};
	write_tar(path, e, 3);
	expect_refused(f, path, "invalid_backup");

	/* Right manifest, but the database part is not what the backend wrote. */
	manifest(m, sizeof(m), 1, mine, SV_STORE_SCHEMA_VERSION, 0);
	e[0].len = strlen(m);
	write_tar(path, e, 2);
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, path, NULL, &err), -1);
	assert_int_equal(story_total(&f->dst), 0);
}

/* A backup that cannot be written leaves no file, and no half file. */
static void failed_backup_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	fill(&f->src);
	char path[128];
	snprintf(path, sizeof(path), "%s/no-such-dir/b.tar.gz", f->dir);
	assert_int_equal(sv_store_backup(f->src.s, f->src.b, path, NULL, &err), -1);
	assert_string_equal(err.code, "io");
	/* A blob that went bad on disk stops the backup; the old archive stays. */
	backup_src(f, NULL);
	size_t before;
	free(read_file(f->archive, &before));
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "for f in %s/src-blobs/*/*; do echo x >> $f; break; done",
	         f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sv_store_backup(f->src.s, f->src.b, f->archive, NULL, &err), -1);
	assert_string_equal(err.code, "corrupt");
	size_t after;
	free(read_file(f->archive, &after));
	assert_int_equal(before, after);
	char tmpfile[128];
	snprintf(tmpfile, sizeof(tmpfile), "%s.tmp", f->archive);
	assert_int_equal(access(tmpfile, F_OK), -1);
}

static void empty_store_round_trips(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_store_backup_info info;
	backup_src(f, &info);
	assert_int_equal(info.stories, 0);
	assert_int_equal(info.blobs, 0);
	assert_int_equal(sv_store_restore(f->dst.s, f->dst.b, f->archive, &info, &err), 0);
	assert_int_equal(info.stories, 0);
	assert_int_equal(sv_store_story_create(f->dst.s, id_of(0), "{}", "text", 3, 1, &err), 0);
}

#define BACKUP_TESTS(setup)                                                                        \
	cmocka_unit_test_setup_teardown(round_trip_is_identical, setup, teardown),                 \
	    cmocka_unit_test_setup_teardown(restored_store_carries_on, setup, teardown),           \
	    cmocka_unit_test_setup_teardown(restore_into_nonempty_conflicts, setup, teardown),     \
	    cmocka_unit_test_setup_teardown(load_checks_emptiness_itself, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(damaged_archives_fail_cleanly, setup, teardown),       \
	    cmocka_unit_test_setup_teardown(foreign_and_hostile_archives_fail, setup, teardown),   \
	    cmocka_unit_test_setup_teardown(tampered_archives_fail, setup, teardown),              \
	    cmocka_unit_test_setup_teardown(failed_backup_leaves_nothing, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(empty_store_round_trips, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {BACKUP_TESTS(setup_sqlite)};
	const struct CMUnitTest postgres_tests[] = {BACKUP_TESTS(setup_postgres)};
	int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("postgres", postgres_tests, pg_support_group_setup,
	                                      pg_support_group_teardown);
	return failed;
}
