/*
 * Blobs in a directory tree: DIR/ab/abcdef… (the first two hex characters
 * as a folder, so no folder grows past a few thousand entries).
 *
 * A put writes a temporary file beside its final name, fsyncs it and renames
 * it into place, so a reader sees either no blob or the whole blob, and a
 * crash or a failed write leaves at most a temporary file, never a torn blob.
 * Temporary names start with a dot and are never valid keys, so list skips them.
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_blobs {
	char *dir;
};

/* Creates path and its missing parents, like mkdir -p. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(buf, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static void *file_open(const char *location, struct sv_err *err)
{
	if (!*location) {
		sv_err_set(err, "invalid_value", "blobs",
		           "blob store URL 'file:' names no directory");
		return NULL;
	}
	/* Leaves room below the directory for "/ab/<64 hex>" and a temporary suffix. */
	if (strlen(location) > PATH_MAX - 128) {
		sv_err_set(err, "invalid_value", "blobs", "blob directory path is too long");
		return NULL;
	}
	if (make_dirs(location) < 0 || access(location, R_OK | W_OK | X_OK) < 0) {
		sv_err_set(err, "invalid_value", "blobs", "cannot use blob directory %s: %s",
		           location, strerror(errno));
		return NULL;
	}
	struct file_blobs *f = calloc(1, sizeof(*f));
	if (f)
		f->dir = strdup(location);
	if (!f || !f->dir) {
		free(f);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	return f;
}

static void file_close(void *impl)
{
	struct file_blobs *f = impl;
	if (!f)
		return;
	free(f->dir);
	free(f);
}

static void path_of(const struct file_blobs *f, const char *key, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%.2s/%s", f->dir, key, key);
}

static int io_error(struct sv_err *err, const char *what, const char *path, int e)
{
	return sv_err_set(err, "io", "", "cannot %s %s: %s", what, path, strerror(e));
}

/* Writes all of data, retrying short writes; a write that makes no progress is an error. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes a rename durable: the new directory entry reaches the disk too. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Writes, syncs and closes the temporary file; on failure it is closed and removed. */
static int write_temp(int fd, const char *tmp, const void *data, size_t len, struct sv_err *err)
{
	const char *what = "write";
	int rc = write_all(fd, data, len);
	if (rc == 0) {
		what = "sync";
		rc = fchmod(fd, 0644) < 0 ? -1 : fsync(fd);
	}
	int e = errno;
	if (close(fd) < 0 && rc == 0) {
		what = "close";
		e = errno;
		rc = -1;
	}
	if (rc < 0) {
		unlink(tmp);
		return io_error(err, what, tmp, e);
	}
	return 0;
}

static int file_put(void *impl, const char *key, const void *data, size_t len, struct sv_err *err)
{
	struct file_blobs *f = impl;
	char final[PATH_MAX], tmp[PATH_MAX + 16];
	path_of(f, key, final);
	if (access(final, F_OK) == 0)
		return 0; /* content-addressed: the same key is the same bytes */
	snprintf(tmp, sizeof(tmp), "%s/%.2s", f->dir, key);
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return io_error(err, "create", tmp, errno);
	snprintf(tmp, sizeof(tmp), "%s/%.2s/.tmp-%s-XXXXXX", f->dir, key, key);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return io_error(err, "create", tmp, errno);
	if (write_temp(fd, tmp, data, len, err) < 0)
		return -1;
	/* A concurrent put of the same key may win the race: it wrote the same bytes. */
	if (rename(tmp, final) < 0) {
		int e = errno;
		unlink(tmp);
		return io_error(err, "rename into", final, e);
	}
	sync_dir(final);
	return 0;
}

static int read_all(int fd, struct sv_buf *out)
{
	char chunk[16384];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (sv_buf_append(out, chunk, (size_t)n) < 0) {
			errno = ENOMEM;
			return -1;
		}
	}
}

static int file_get(void *impl, const char *key, struct sv_buf *out, struct sv_err *err)
{
	struct file_blobs *f = impl;
	char path[PATH_MAX];
	path_of(f, key, path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : io_error(err, "open", path, errno);
	int rc = read_all(fd, out);
	int e = errno;
	close(fd);
	return rc < 0 ? io_error(err, "read", path, e) : 0;
}

static bool is_shard(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* Calls fn for every valid key in one shard folder whose name matches its folder. */
static int list_shard(const struct file_blobs *f, const char *shard,
                      int (*fn)(void *ctx, const char *key), void *ctx, struct sv_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", f->dir, shard);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : io_error(err, "list", path, errno);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (sv_store_blob_key_valid(e->d_name) && strncmp(e->d_name, shard, 2) == 0)
			rc = fn(ctx, e->d_name);
	}
	closedir(d);
	return rc;
}

static int file_list(void *impl, int (*fn)(void *ctx, const char *key), void *ctx,
                     struct sv_err *err)
{
	struct file_blobs *f = impl;
	DIR *d = opendir(f->dir);
	if (!d)
		return io_error(err, "list", f->dir, errno);
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (is_shard(e->d_name))
			rc = list_shard(f, e->d_name, fn, ctx, err);
	}
	closedir(d);
	return rc;
}

const struct sv_blob_ops sv_store_blob_file_ops = {
    .scheme = "file",
    .open = file_open,
    .close = file_close,
    .put = file_put,
    .get = file_get,
    .list = file_list,
};
