/* A real S3-compatible server for the unit tests: s3rver (from node_modules,
 * run by node) on a free loopback port, its data in a temporary directory,
 * accepting s3rver's default credentials S3RVER/S3RVER. Every wait is bounded. */
#ifndef S3_SUPPORT_H
#define S3_SUPPORT_H

#include "node_support.h"

#include <stddef.h>

struct s3_server {
	char dir[64]; /* the temporary directory: data/ and s3rver.log */
	struct node_child node;
};

/* Starts s3rver with bucket created; 0 once it listens, -1 (message on stderr) otherwise. */
int s3_support_start(struct s3_server *s3, const char *bucket);
/* Stops the server (bounded waits) and removes its directory; safe to call twice. */
void s3_support_stop(struct s3_server *s3);
/* Creates another, empty bucket through the S3 API. */
int s3_support_create_bucket(const struct s3_server *s3, const char *bucket);
/* Writes the blob store URL of bucket on this server into url. */
void s3_support_url(const struct s3_server *s3, const char *bucket, char *url, size_t n);
/* Points AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY at s3rver's credentials
 * and clears AWS_SESSION_TOKEN and the region variables. */
void s3_support_env(void);

#endif
