/* creds.h - AWS credentials, region and endpoints, resolved the way the
 * AWS SDKs do: environment, then the shared profile files, then the ECS
 * container credentials endpoint, then EC2 instance metadata (IMDSv2).
 * Temporary credentials are cached and fetched again before they expire.
 * Secrets never appear in messages. */
#ifndef ECS_AWS_CREDS_H
#define ECS_AWS_CREDS_H

#include <stddef.h>
#include <stdint.h>

struct aws_creds {
    char key[128];
    char secret[128];
    char token[2048]; /* session token; "" for long-term keys */
    int64_t expires;  /* unix seconds; 0 = never */
    char source[32];  /* env, profile, container, imds */
};

struct aws_provider;

/* *out is the caller's, freed with aws_provider_free(). */
int aws_provider_init(struct aws_provider **out, char *msg, size_t msglen);
void aws_provider_free(struct aws_provider **p);

/* Current credentials (thread-safe; refreshed REFRESH_MARGIN before they
 * expire). ECS_EUNAVAILABLE naming every source tried when none has any. */
int aws_provider_get(struct aws_provider *p, struct aws_creds *out, char *msg, size_t msglen);

/* Whether credentials expiring at `expires` must be fetched again at
 * `now` (exposed for tests). */
int aws_creds_stale(int64_t expires, int64_t now);

/* The value of key in [section] of an INI file (the shared credentials
 * and config files); 0, or ECS_ENOTFOUND. */
int aws_ini_get(const char *path, const char *section, const char *key, char *out, size_t len);

/* AWS_REGION, AWS_DEFAULT_REGION, then the profile's region. */
int aws_region(char *out, size_t len, char *msg, size_t msglen);

/* AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, else
 * https://<service>.<region>.amazonaws.com. service is lower case
 * ("ecs", "sqs", "s3"). */
void aws_endpoint(const char *service, const char *region, char *out, size_t len);

#endif
