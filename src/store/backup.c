/*
 * Backup and restore: a gzip'd pax tar written and read with libarchive.
 *
 *   storyverse-backup.json   first: {"format", "backend", "schema_version",
 *                            "stories", "blobs", "database": {part: sha256}},
 *                            so a reader can refuse an archive before it
 *                            touches anything
 *   database/<part>          the backend's snapshot files (see dump in store.h)
 *   blobs/<key>              each blob's bytes, named by their key
 *
 * The backend writes its snapshot into a staging folder first (its own
 * format, consistent by its own means), then the archive is streamed from
 * there and from the blob store, one blob in memory at a time. Restore reads
 * the archive as untrusted input: every name is checked, the manifest is
 * bounded, every blob must hash to its name and every database file to the
 * hash its manifest gives (a tar reader stops at the end-of-archive blocks,
 * before gzip's own checksum, so that alone would not catch a damaged
 * file), and the database goes in last, in one transaction of the
 * backend's, so a failed restore stores no rows.
 */
#include "store/store.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_NAME  "storyverse-backup.json"
#define FORMAT         1
#define MANIFEST_MAX   65536 /* far more than a manifest needs */
#define MAX_PARTS      16    /* database files: a backend writes a handful */
#define PART_NAME_MAX  64
#define MAX_BLOB_BYTES ((size_t)1 << 30) /* one blob is held in memory to be stored */
#define CHUNK          65536

/* ---- the staging folder ---- */

static int staging_make(char dir[PATH_MAX], struct sv_err *err)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	int n = snprintf(dir, PATH_MAX, "%s/sv-backup-XXXXXX", tmp);
	if (n < 0 || n >= PATH_MAX - PART_NAME_MAX - 16)
		return sv_err_set(err, "io", "", "the temporary folder path is too long");
	if (!mkdtemp(dir))
		return sv_err_set(err, "io", "", "cannot create a folder in %s: %s", tmp,
		                  strerror(errno));
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0; /* remove what can be removed, whatever fails */
}

static void staging_remove(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A database part's name: one plain file name, as a backend would choose it. */
static bool part_name_valid(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < PART_NAME_MAX && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
	           n;
}

/* dir/name for a staging folder (its length checked by staging_make) and a
 * part name (checked by part_name_valid). */
static void part_path(char out[PATH_MAX], const char *dir, const char *name)
{
	snprintf(out, PATH_MAX, "%.*s/%.*s", PATH_MAX - PART_NAME_MAX - 2, dir, PART_NAME_MAX - 1,
	         name);
}

/* A database file of the snapshot and the hex SHA-256 of its bytes. */
struct part {
	char name[PART_NAME_MAX];
	char hash[SV_BLOB_KEY_LEN + 1];
	bool seen; /* restore: extracted already */
};

/* What the first entry of an archive says. */
struct manifest {
	struct sv_store_backup_info info;
	struct part parts[MAX_PARTS];
	int nparts;
};

static void hash_hex(crypto_hash_sha256_state *h, char out[SV_BLOB_KEY_LEN + 1])
{
	unsigned char bin[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(h, bin);
	sodium_bin2hex(out, SV_BLOB_KEY_LEN + 1, bin, sizeof(bin));
}

/* ---- writing ---- */

struct keys {
	char (*v)[SV_BLOB_KEY_LEN + 1];
	size_t n, cap;
	bool nomem;
};

static int keys_add(void *ctx, const char *key)
{
	struct keys *k = ctx;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		void *v = reallocarray(k->v, cap, sizeof(k->v[0]));
		if (!v) {
			k->nomem = true;
			return -1;
		}
		k->v = v;
		k->cap = cap;
	}
	snprintf(k->v[k->n++], sizeof(k->v[0]), "%s", key);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every blob key, sorted so that the same content makes the same archive. */
static int keys_list(struct sv_blobs *b, struct keys *k, struct sv_err *err)
{
	int rc = sv_store_blob_list(b, keys_add, k, err);
	if (k->nomem)
		return sv_err_set(err, "nomem", "", "out of memory listing the blobs");
	if (rc != 0)
		return -1;
	if (k->n)
		qsort(k->v, k->n, sizeof(k->v[0]), key_cmp);
	return 0;
}

static int arc_err(struct sv_err *err, struct archive *a, const char *what, const char *path)
{
	const char *why = archive_error_string(a);
	return sv_err_set(err, "io", "", "cannot %s %s: %s", what, path,
	                  why ? why : "unknown error");
}

struct writer {
	struct archive *a;
	const char *path; /* the file being written, for messages */
	time_t now;
};

static int write_header(struct writer *w, const char *name, int64_t size, struct sv_err *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return sv_err_set(err, "nomem", "", "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, w->now, 0);
	int rc =
	    archive_write_header(w->a, e) == ARCHIVE_OK ? 0 : arc_err(err, w->a, "write", w->path);
	archive_entry_free(e);
	return rc;
}

static int write_data(struct writer *w, const void *data, size_t len, struct sv_err *err)
{
	const char *p = data;
	while (len > 0) {
		la_ssize_t n = archive_write_data(w->a, p, len);
		if (n <= 0)
			return arc_err(err, w->a, "write", w->path);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_entry(struct writer *w, const char *name, const void *data, size_t len,
                       struct sv_err *err)
{
	if (write_header(w, name, (int64_t)len, err) < 0)
		return -1;
	return write_data(w, data, len, err);
}

static int write_manifest(struct writer *w, const struct manifest *man, struct sv_err *err)
{
	const struct sv_store_backup_info *meta = &man->info;
	json_t *parts = json_object();
	for (int i = 0; parts && i < man->nparts; i++)
		json_object_set_new(parts, man->parts[i].name, json_string(man->parts[i].hash));
	json_t *m =
	    json_pack("{s:i,s:s,s:i,s:I,s:I,s:o}", "format", FORMAT, "backend", meta->backend,
	              "schema_version", meta->schema_version, "stories", (json_int_t)meta->stories,
	              "blobs", (json_int_t)meta->blobs, "database", parts);
	char *text = m ? json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(m);
	if (!text)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = write_entry(w, MANIFEST_NAME, text, strlen(text), err);
	free(text);
	return rc;
}

/* Streams one staged file into the archive as database/<name>. */
static int write_part(struct writer *w, const char *dir, const char *name, struct sv_err *err)
{
	char path[PATH_MAX], entry[16 + PART_NAME_MAX];
	part_path(path, dir, name);
	snprintf(entry, sizeof(entry), "database/%.*s", PART_NAME_MAX - 1, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sv_err_set(err, "io", "", "cannot read %s: %s", path, strerror(e));
	}
	char *buf = malloc(CHUNK);
	int rc = buf ? write_header(w, entry, st.st_size, err)
	             : sv_err_set(err, "nomem", "", "out of memory");
	ssize_t n = 0;
	for (off_t left = st.st_size; rc == 0 && left > 0; left -= n) {
		n = read(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
		if (n <= 0)
			rc = sv_err_set(err, "io", "", "cannot read %s: %s", path,
			                n < 0 ? strerror(errno) : "it shrank");
		else
			rc = write_data(w, buf, (size_t)n, err);
	}
	free(buf);
	close(fd);
	return rc;
}

static int part_filter(const struct dirent *e)
{
	return part_name_valid(e->d_name);
}

static int hash_file(const char *path, char out[SV_BLOB_KEY_LEN + 1], struct sv_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = fd >= 0 ? malloc(CHUNK) : NULL;
	if (!buf) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sv_err_set(err, "io", "", "cannot read %s: %s", path, strerror(e));
	}
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	ssize_t n;
	while ((n = read(fd, buf, CHUNK)) > 0)
		crypto_hash_sha256_update(&h, (unsigned char *)buf, (unsigned long long)n);
	int e = errno;
	free(buf);
	close(fd);
	if (n < 0)
		return sv_err_set(err, "io", "", "cannot read %s: %s", path, strerror(e));
	hash_hex(&h, out);
	return 0;
}

/* The backend's files, by name (so that the archive is the same every time),
 * with their hashes for the manifest. */
static int parts_scan(const char *dir, struct manifest *man, struct sv_err *err)
{
	struct dirent **names;
	int n = scandir(dir, &names, part_filter, alphasort);
	if (n < 0)
		return sv_err_set(err, "io", "", "cannot list %s: %s", dir, strerror(errno));
	int rc = n > 0 && n <= MAX_PARTS
	             ? 0
	             : sv_err_set(err, "internal", "", "the database snapshot has %d files", n);
	for (int i = 0; i < n; i++) {
		struct part *p = &man->parts[i];
		if (rc == 0) {
			snprintf(p->name, sizeof(p->name), "%.*s", PART_NAME_MAX - 1,
			         names[i]->d_name);
			char path[PATH_MAX];
			part_path(path, dir, p->name);
			rc = hash_file(path, p->hash, err);
			man->nparts = i + 1;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int write_database(struct writer *w, const char *dir, const struct manifest *man,
                          struct sv_err *err)
{
	for (int i = 0; i < man->nparts; i++)
		if (write_part(w, dir, man->parts[i].name, err) < 0)
			return -1;
	return 0;
}

static int write_blobs(struct writer *w, struct sv_blobs *b, const struct keys *k,
                       struct sv_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < k->n; i++) {
		struct sv_buf buf;
		sv_buf_init(&buf);
		rc = sv_store_blob_get(b, k->v[i], &buf, err);
		if (rc == 1)
			rc = sv_err_set(err, "io", "", "blob %s went away during the backup",
			                k->v[i]);
		char entry[16 + SV_BLOB_KEY_LEN];
		snprintf(entry, sizeof(entry), "blobs/%s", k->v[i]);
		if (rc == 0)
			rc = write_entry(w, entry, buf.data ? buf.data : "", buf.len, err);
		sv_buf_free(&buf);
	}
	return rc;
}

static int write_all_entries(struct writer *w, const char *stage, struct sv_blobs *b,
                             const struct keys *k, const struct manifest *man, struct sv_err *err)
{
	if (write_manifest(w, man, err) < 0 || write_database(w, stage, man, err) < 0 ||
	    write_blobs(w, b, k, err) < 0)
		return -1;
	return 0;
}

/* Makes a rename durable: the new directory entry reaches the disk too. */
static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Writes the whole archive into the open file fd. */
static int write_archive_fd(int fd, const char *tmp, const char *stage, struct sv_blobs *b,
                            const struct keys *k, const struct manifest *man, struct sv_err *err)
{
	struct writer w = {.a = archive_write_new(), .path = tmp, .now = time(NULL)};
	if (!w.a)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = 0;
	if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(w.a) != ARCHIVE_OK ||
	    archive_write_open_fd(w.a, fd) != ARCHIVE_OK)
		rc = arc_err(err, w.a, "start", tmp);
	if (rc == 0)
		rc = write_all_entries(&w, stage, b, k, man, err);
	/* Close flushes the compressor and the tar trailer: its failure is a failure. */
	if (archive_write_close(w.a) != ARCHIVE_OK && rc == 0)
		rc = arc_err(err, w.a, "finish", tmp);
	archive_write_free(w.a);
	return rc;
}

/* Writes path.tmp, syncs it and renames it over path: path is never half an archive. */
static int write_archive(const char *path, const char *stage, struct sv_blobs *b,
                         const struct keys *k, const struct manifest *man, struct sv_err *err)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || n >= (int)sizeof(tmp))
		return sv_err_set(err, "invalid_value", "out", "the backup path is too long");
	/* 0600: the archive holds everything the database does. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return sv_err_set(err, "io", "out", "cannot create %s: %s", tmp, strerror(errno));
	int rc = write_archive_fd(fd, tmp, stage, b, k, man, err);
	if (rc == 0 && fsync(fd) < 0)
		rc = sv_err_set(err, "io", "", "cannot sync %s: %s", tmp, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = sv_err_set(err, "io", "", "cannot write %s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = sv_err_set(err, "io", "out", "cannot rename %s to %s: %s", tmp, path,
		                strerror(errno));
	if (rc < 0)
		unlink(tmp);
	else
		sync_parent(path);
	return rc;
}

int sv_store_backup(struct sv_store *s, struct sv_blobs *b, const char *path,
                    struct sv_store_backup_info *info, struct sv_err *err)
{
	struct manifest man = {0};
	struct sv_store_backup_info *meta = &man.info;
	snprintf(meta->backend, sizeof(meta->backend), "%s", sv_store_backend(s));
	if (sv_store_schema_version(s, &meta->schema_version, err) < 0)
		return -1;
	char stage[PATH_MAX];
	if (staging_make(stage, err) < 0)
		return -1;
	struct keys k = {0};
	int rc = sv_store_dump(s, stage, err);
	meta->stories = rc;
	if (rc >= 0)
		rc = parts_scan(stage, &man, err);
	/* Only now the blobs: every blob the snapshot names was stored before it. */
	if (rc >= 0)
		rc = keys_list(b, &k, err);
	meta->blobs = (int64_t)k.n;
	if (rc >= 0)
		rc = write_archive(path, stage, b, &k, &man, err);
	staging_remove(stage);
	free(k.v);
	if (rc < 0)
		return -1;
	if (info)
		*info = *meta;
	return 0;
}

/* ---- reading ---- */

struct reader {
	struct archive *a;
	int fd;
	const char *path;
};

static int bad_archive(struct sv_err *err, const struct reader *r, const char *why)
{
	return sv_err_set(err, "invalid_backup", "", "%s is not a StoryVerse backup: %s", r->path,
	                  why);
}

static void reader_close(struct reader *r)
{
	archive_read_free(r->a);
	if (r->fd >= 0)
		close(r->fd);
}

/* Opens the file ourselves first, for a plain message when it is missing. */
static int reader_open(struct reader *r, const char *path, struct sv_err *err)
{
	*r = (struct reader){.fd = open(path, O_RDONLY | O_CLOEXEC), .path = path};
	if (r->fd < 0)
		return sv_err_set(err, "io", "in", "cannot open %s: %s", path, strerror(errno));
	r->a = archive_read_new();
	if (!r->a) {
		reader_close(r);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	archive_read_support_filter_gzip(r->a);
	archive_read_support_format_tar(r->a);
	if (archive_read_open_fd(r->a, r->fd, CHUNK) != ARCHIVE_OK) {
		const char *why = archive_error_string(r->a);
		bad_archive(err, r, why ? why : "it cannot be read");
		reader_close(r);
		return -1;
	}
	return 0;
}

/* The next entry: 0, 1 at the end, -1 when the archive is damaged. */
static int next_entry(struct reader *r, struct archive_entry **e, struct sv_err *err)
{
	int rc = archive_read_next_header(r->a, e);
	if (rc == ARCHIVE_EOF)
		return 1;
	if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN)
		return 0;
	const char *why = archive_error_string(r->a);
	return bad_archive(err, r, why ? why : "it is damaged");
}

/* Reads at most max bytes for the entry's data into out (tar sizes are not
 * trusted for the bound: the bytes are counted as they come). */
static int read_data(struct reader *r, struct sv_buf *out, size_t max, struct sv_err *err)
{
	char chunk[CHUNK];
	for (;;) {
		la_ssize_t n = archive_read_data(r->a, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0) {
			const char *why = archive_error_string(r->a);
			return bad_archive(err, r, why ? why : "it is damaged");
		}
		if (out->len + (size_t)n > max)
			return bad_archive(err, r, "an entry is larger than allowed");
		if (sv_buf_append(out, chunk, (size_t)n) < 0)
			return sv_err_set(err, "nomem", "", "out of memory");
	}
}

static int64_t int_field(const json_t *m, const char *name, int64_t max)
{
	const json_t *v = json_object_get(m, name);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	return json_integer_value(v);
}

/* The "database" object: one valid file name to one hash, each at most once. */
static int parse_parts(const json_t *parts, struct manifest *man)
{
	if (!json_is_object(parts) || json_object_size(parts) == 0 ||
	    json_object_size(parts) > MAX_PARTS)
		return -1;
	const char *name;
	const json_t *hash;
	json_object_foreach((json_t *)parts, name, hash)
	{
		if (!part_name_valid(name) || !sv_store_blob_key_valid(json_string_value(hash)))
			return -1;
		struct part *p = &man->parts[man->nparts++];
		snprintf(p->name, sizeof(p->name), "%s", name);
		snprintf(p->hash, sizeof(p->hash), "%s", json_string_value(hash));
	}
	return 0;
}

static int parse_manifest(const struct reader *r, const struct sv_buf *text, struct manifest *man,
                          struct sv_err *err)
{
	json_t *m =
	    json_loadb(text->data ? text->data : "", text->len, JSON_REJECT_DUPLICATES, NULL);
	const char *backend = json_string_value(json_object_get(m, "backend"));
	int64_t format = int_field(m, "format", INT32_MAX);
	int64_t version = int_field(m, "schema_version", INT32_MAX);
	int64_t stories = int_field(m, "stories", INT64_MAX);
	int64_t blobs = int_field(m, "blobs", INT64_MAX);
	int rc = 0;
	if (!json_is_object(m) || format < 0)
		rc = bad_archive(err, r, "its manifest is not valid");
	else if (format != FORMAT)
		rc = sv_err_set(err, "incompatible", "",
		                "%s is a backup in format %lld; this storyverse reads format %d",
		                r->path, (long long)format, FORMAT);
	else if (!backend || strlen(backend) >= sizeof(man->info.backend) || version < 1 ||
	         stories < 0 || blobs < 0 || parse_parts(json_object_get(m, "database"), man) < 0)
		rc = bad_archive(err, r, "its manifest is not valid");
	if (rc == 0) {
		snprintf(man->info.backend, sizeof(man->info.backend), "%s", backend);
		man->info.schema_version = (int)version;
		man->info.stories = stories;
		man->info.blobs = blobs;
	}
	json_decref(m);
	return rc;
}

/* The first entry must be the manifest. */
static int read_manifest(struct reader *r, struct manifest *man, struct sv_err *err)
{
	struct archive_entry *e;
	int rc = next_entry(r, &e, err);
	if (rc == 1)
		return bad_archive(err, r, "it is empty");
	if (rc < 0)
		return -1;
	const char *name = archive_entry_pathname(e);
	if (!name || strcmp(name, MANIFEST_NAME) != 0 || archive_entry_filetype(e) != AE_IFREG)
		return bad_archive(err, r, "it does not start with " MANIFEST_NAME);
	struct sv_buf text;
	sv_buf_init(&text);
	rc = read_data(r, &text, MANIFEST_MAX, err);
	if (rc == 0)
		rc = parse_manifest(r, &text, man, err);
	sv_buf_free(&text);
	return rc;
}

int sv_store_backup_info(const char *path, struct sv_store_backup_info *info, struct sv_err *err)
{
	struct reader r;
	if (reader_open(&r, path, err) < 0)
		return -1;
	struct manifest man = {0};
	int rc = read_manifest(&r, &man, err);
	reader_close(&r);
	if (rc == 0)
		*info = man.info;
	return rc;
}

/* ---- restoring ---- */

/* The target must be the backup's kind of database, at its schema, and empty. */
static int check_target(struct sv_store *s, const struct sv_store_backup_info *meta,
                        struct sv_err *err)
{
	int version = 0;
	if (sv_store_schema_version(s, &version, err) < 0)
		return -1;
	const char *backend = sv_store_backend(s);
	if (strcmp(backend, meta->backend) != 0 || version != meta->schema_version)
		return sv_err_set(err, "incompatible", "database",
		                  "the backup holds a %s database at schema version %d; this is a "
		                  "%s database at schema version %d",
		                  meta->backend, meta->schema_version, backend, version);
	int64_t counts[SV_STORE_NSTATUSES], n = 0;
	if (sv_store_story_counts(s, counts, err) < 0)
		return -1;
	for (int i = 0; i < SV_STORE_NSTATUSES; i++)
		n += counts[i];
	if (n > 0)
		return sv_err_set(
		    err, "conflict", "database",
		    "restore needs an empty database, and this one holds %lld stories",
		    (long long)n);
	return 0;
}

static int write_fd(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Streams the entry's data into fd, hashing it as it goes. */
static int copy_entry(struct reader *r, int fd, const char *path, char hash[SV_BLOB_KEY_LEN + 1],
                      struct sv_err *err)
{
	char *chunk = malloc(CHUNK);
	if (!chunk)
		return sv_err_set(err, "nomem", "", "out of memory");
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	int rc = 0;
	la_ssize_t n;
	while (rc == 0 && (n = archive_read_data(r->a, chunk, CHUNK)) != 0) {
		if (n < 0) {
			const char *why = archive_error_string(r->a);
			rc = bad_archive(err, r, why ? why : "it is damaged");
		} else if (write_fd(fd, chunk, (size_t)n) < 0) {
			rc =
			    sv_err_set(err, "io", "", "cannot write %s: %s", path, strerror(errno));
		} else {
			crypto_hash_sha256_update(&h, (unsigned char *)chunk,
			                          (unsigned long long)n);
		}
	}
	free(chunk);
	hash_hex(&h, hash);
	return rc;
}

static struct part *part_named(struct manifest *man, const char *name)
{
	for (int i = 0; i < man->nparts; i++)
		if (strcmp(man->parts[i].name, name) == 0)
			return &man->parts[i];
	return NULL;
}

/* Streams one database/<name> entry into the staging folder; only files the
 * manifest lists, each once, with the bytes it says. */
static int extract_part(struct reader *r, const char *stage, struct manifest *man, const char *name,
                        struct sv_err *err)
{
	struct part *p = part_named(man, name);
	if (!p)
		return bad_archive(err, r, "it holds a database file its manifest does not list");
	if (p->seen)
		return bad_archive(err, r, "a database file appears twice");
	p->seen = true;
	char path[PATH_MAX], hash[SV_BLOB_KEY_LEN + 1];
	part_path(path, stage, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sv_err_set(err, "io", "", "cannot create %s: %s", path, strerror(errno));
	int rc = copy_entry(r, fd, path, hash, err);
	if (close(fd) < 0 && rc == 0)
		rc = sv_err_set(err, "io", "", "cannot write %s: %s", path, strerror(errno));
	if (rc == 0 && strcmp(hash, p->hash) != 0)
		rc = sv_err_set(err, "corrupt", "", "database file %s in %s is damaged", name,
		                r->path);
	return rc;
}

/* Stores one blobs/<key> entry, only when its bytes hash to its name. */
static int restore_blob(struct reader *r, struct sv_blobs *b, const char *name, struct sv_err *err)
{
	struct sv_buf data;
	sv_buf_init(&data);
	int rc = read_data(r, &data, MAX_BLOB_BYTES, err);
	char key[SV_BLOB_KEY_LEN + 1];
	const char *bytes = data.data ? data.data : "";
	if (rc == 0) {
		sv_store_blob_key(bytes, data.len, key);
		if (strcmp(key, name) != 0)
			rc = sv_err_set(err, "corrupt", "",
			                "blob %s in %s is damaged: its bytes hash to %s", name,
			                r->path, key);
	}
	if (rc == 0)
		rc = sv_store_blob_put(b, bytes, data.len, key, err);
	sv_buf_free(&data);
	return rc;
}

static int extract_entry(struct reader *r, struct archive_entry *e, const char *stage,
                         struct sv_blobs *b, struct manifest *man, int64_t *blobs,
                         struct sv_err *err)
{
	const char *name = archive_entry_pathname(e);
	if (!name || archive_entry_filetype(e) != AE_IFREG)
		return bad_archive(err, r, "it holds something other than files");
	if (strncmp(name, "database/", 9) == 0 && part_name_valid(name + 9))
		return extract_part(r, stage, man, name + 9, err);
	if (strncmp(name, "blobs/", 6) == 0 && sv_store_blob_key_valid(name + 6)) {
		++*blobs;
		return restore_blob(r, b, name + 6, err);
	}
	return sv_err_set(err, "invalid_backup", "",
	                  "%s is not a StoryVerse backup: unexpected entry '%.80s'", r->path, name);
}

/* Every entry after the manifest: the database into stage, the blobs into b;
 * then everything the manifest lists must have come. */
static int extract_all(struct reader *r, const char *stage, struct sv_blobs *b,
                       struct manifest *man, struct sv_err *err)
{
	int64_t blobs = 0;
	for (;;) {
		struct archive_entry *e;
		int rc = next_entry(r, &e, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			break;
		if (extract_entry(r, e, stage, b, man, &blobs, err) < 0)
			return -1;
	}
	for (int i = 0; i < man->nparts; i++)
		if (!man->parts[i].seen)
			return bad_archive(err, r, "a database file is missing: it is incomplete");
	if (blobs != man->info.blobs)
		return sv_err_set(
		    err, "invalid_backup", "",
		    "%s holds %lld blobs, but its manifest says %lld: it is incomplete", r->path,
		    (long long)blobs, (long long)man->info.blobs);
	return 0;
}

int sv_store_restore(struct sv_store *s, struct sv_blobs *b, const char *path,
                     struct sv_store_backup_info *info, struct sv_err *err)
{
	struct reader r;
	if (reader_open(&r, path, err) < 0)
		return -1;
	struct manifest man = {0};
	struct sv_store_backup_info *meta = &man.info;
	char stage[PATH_MAX] = "";
	int rc = read_manifest(&r, &man, err);
	if (rc == 0)
		rc = check_target(s, meta, err);
	if (rc == 0)
		rc = staging_make(stage, err);
	/* The blobs go in first and the rows last, as they do when stories are
	 * made: no restored row ever names a blob that is not there. */
	if (rc == 0)
		rc = extract_all(&r, stage, b, &man, err);
	if (rc == 0) {
		int n = sv_store_load(s, stage, err);
		rc = n < 0 ? -1 : 0;
		meta->stories = n;
	}
	if (stage[0])
		staging_remove(stage);
	reader_close(&r);
	if (rc < 0)
		return -1;
	if (info)
		*info = *meta;
	return 0;
}
