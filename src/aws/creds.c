/* creds.c - the AWS credential chain. The HTTP sources (container
 * endpoint, IMDSv2) use libcurl with short timeouts, so a laptop without
 * them answers "no credentials" quickly instead of hanging. */
#include "aws/creds.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/isotime.h"

/* fetch again this long before temporary credentials expire */
#define REFRESH_MARGIN 300
#define HTTP_TIMEOUT_MS 2000
#define BODY_MAX 65536

struct aws_provider {
    pthread_mutex_t lock;
    struct aws_creds cached;
    int have;
};

int aws_creds_stale(int64_t expires, int64_t now)
{
    return expires != 0 && now >= expires - REFRESH_MARGIN;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    size_t start = 0;

    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[start]))
        start++;
    memmove(s, s + start, n - start + 1);
}

int aws_ini_get(const char *path, const char *section, const char *key, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int in = 0;
    int rc = ECS_ENOTFOUND;

    if (f == NULL)
        return ECS_ENOTFOUND;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq;

        trim(line);
        if (line[0] == '#' || line[0] == ';' || line[0] == '\0')
            continue;
        if (line[0] == '[') {
            char *close = strchr(line, ']');

            if (close != NULL)
                *close = '\0';
            trim(line + 1);
            in = strcmp(line + 1, section) == 0;
            continue;
        }
        eq = strchr(line, '=');
        if (!in || eq == NULL)
            continue;
        *eq = '\0';
        trim(line);
        trim(eq + 1);
        if (strcmp(line, key) == 0) {
            snprintf(out, len, "%s", eq + 1);
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

static void home_file(const char *env_name, const char *rel, char *out, size_t len)
{
    const char *home = env("HOME");

    if (env(env_name) != NULL)
        snprintf(out, len, "%s", env(env_name));
    else
        snprintf(out, len, "%s/.aws/%s", home != NULL ? home : "", rel);
}

static const char *profile_name(void)
{
    return env("AWS_PROFILE") != NULL ? env("AWS_PROFILE") : "default";
}

int aws_region(char *out, size_t len, char *msg, size_t msglen)
{
    char config[1024];
    char section[300];

    if (env("AWS_REGION") != NULL) {
        snprintf(out, len, "%s", env("AWS_REGION"));
        return 0;
    }
    if (env("AWS_DEFAULT_REGION") != NULL) {
        snprintf(out, len, "%s", env("AWS_DEFAULT_REGION"));
        return 0;
    }
    home_file("AWS_CONFIG_FILE", "config", config, sizeof(config));
    if (strcmp(profile_name(), "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %s", profile_name());
    if (aws_ini_get(config, section, "region", out, len) == 0)
        return 0;
    return ecs_fail(ECS_EINVAL, msg, msglen,
                    "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or region in [%s] of %s",
                    section, config);
}

void aws_endpoint(const char *service, const char *region, char *out, size_t len)
{
    char name[64];
    size_t i;

    snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", service);
    for (i = strlen("AWS_ENDPOINT_URL_"); name[i] != '\0'; i++)
        name[i] = (char)toupper((unsigned char)name[i]);
    if (env(name) != NULL)
        snprintf(out, len, "%s", env(name));
    else if (env("AWS_ENDPOINT_URL") != NULL)
        snprintf(out, len, "%s", env("AWS_ENDPOINT_URL"));
    else
        snprintf(out, len, "https://%s.%s.amazonaws.com", service, region);
}

static int from_profile(struct aws_creds *c)
{
    char path[1024];

    home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", path, sizeof(path));
    if (aws_ini_get(path, profile_name(), "aws_access_key_id", c->key, sizeof(c->key)) != 0 ||
        aws_ini_get(path, profile_name(), "aws_secret_access_key", c->secret, sizeof(c->secret)) !=
            0)
        return ECS_ENOTFOUND;
    if (aws_ini_get(path, profile_name(), "aws_session_token", c->token, sizeof(c->token)) != 0)
        c->token[0] = '\0';
    snprintf(c->source, sizeof(c->source), "profile");
    return 0;
}

struct body {
    char *data;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body *b = userdata;
    size_t n = size * nmemb;
    char *grown;

    if (b->len + n > BODY_MAX)
        return 0;
    grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* One small HTTP request; the body on 200, else NULL. */
static char *http(const char *method, const char *url, struct curl_slist *headers)
{
    CURL *h = curl_easy_init();
    struct body b = {NULL, 0};
    long status = 0;

    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)HTTP_TIMEOUT_MS / 2);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(h) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
        free(b.data);
        b.data = NULL;
    }
    curl_easy_cleanup(h);
    return b.data;
}

/* {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} as the
 * container endpoint and IMDS both answer. */
static int parse_temporary(const char *text, struct aws_creds *c, const char *source)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    const char *key = json_string_value(json_object_get(j, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(j, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(j, "Token"));
    const char *exp = json_string_value(json_object_get(j, "Expiration"));
    struct isotime t;
    char msg[128];

    if (key == NULL || secret == NULL) {
        json_decref(j);
        return ECS_EINVAL;
    }
    snprintf(c->key, sizeof(c->key), "%s", key);
    snprintf(c->secret, sizeof(c->secret), "%s", secret);
    snprintf(c->token, sizeof(c->token), "%s", token != NULL ? token : "");
    c->expires = 0;
    if (exp != NULL && isotime_parse(exp, &t, msg, sizeof(msg)) == 0)
        c->expires = isotime_instant(&t, NULL);
    snprintf(c->source, sizeof(c->source), "%s", source);
    json_decref(j);
    return 0;
}

static int from_container(struct aws_creds *c)
{
    char url[1024];
    char auth[2100];
    struct curl_slist *headers = NULL;
    const char *token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char file_token[2048];
    char *text;
    int rc;

    if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL)
        snprintf(url, sizeof(url), "http://169.254.170.2%s",
                 env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
    else if (env("AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL)
        snprintf(url, sizeof(url), "%s", env("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    else
        return ECS_ENOTFOUND;
    if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") != NULL) {
        FILE *f = fopen(env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), "r");

        if (f != NULL && fgets(file_token, sizeof(file_token), f) != NULL) {
            trim(file_token);
            token = file_token;
        }
        if (f != NULL)
            fclose(f);
    }
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: %s", token);
        headers = curl_slist_append(headers, auth);
    }
    text = http("GET", url, headers);
    curl_slist_free_all(headers);
    rc = text != NULL ? parse_temporary(text, c, "container") : ECS_EUNAVAILABLE;
    free(text);
    return rc;
}

static int from_imds(struct aws_creds *c)
{
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT") != NULL
                           ? env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                           : "http://169.254.169.254";
    struct curl_slist *headers = NULL;
    char url[1024];
    char header[256];
    char *token;
    char *role;
    char *text;
    int rc;

    if (env("AWS_EC2_METADATA_DISABLED") != NULL &&
        strcmp(env("AWS_EC2_METADATA_DISABLED"), "true") == 0)
        return ECS_ENOTFOUND;
    headers = curl_slist_append(headers, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    token = http("PUT", url, headers);
    curl_slist_free_all(headers);
    if (token == NULL)
        return ECS_ENOTFOUND;
    snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %.200s", token);
    free(token);
    headers = curl_slist_append(NULL, header);
    snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/", base);
    role = http("GET", url, headers);
    if (role != NULL) {
        trim(role);
        snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%.200s", base,
                 role);
        free(role);
        text = http("GET", url, headers);
    } else {
        text = NULL;
    }
    curl_slist_free_all(headers);
    rc = text != NULL ? parse_temporary(text, c, "imds") : ECS_ENOTFOUND;
    free(text);
    return rc;
}

static int resolve(struct aws_creds *c, char *msg, size_t msglen)
{
    memset(c, 0, sizeof(*c));
    if (env("AWS_ACCESS_KEY_ID") != NULL && env("AWS_SECRET_ACCESS_KEY") != NULL) {
        snprintf(c->key, sizeof(c->key), "%s", env("AWS_ACCESS_KEY_ID"));
        snprintf(c->secret, sizeof(c->secret), "%s", env("AWS_SECRET_ACCESS_KEY"));
        snprintf(c->token, sizeof(c->token), "%s",
                 env("AWS_SESSION_TOKEN") != NULL ? env("AWS_SESSION_TOKEN") : "");
        snprintf(c->source, sizeof(c->source), "env");
        return 0;
    }
    if (from_profile(c) == 0)
        return 0;
    if (from_container(c) == 0)
        return 0;
    if (from_imds(c) == 0)
        return 0;
    return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                    "no AWS credentials: tried AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile "
                    "'%s' in the shared credentials file, the ECS container credentials "
                    "endpoint and EC2 instance metadata",
                    profile_name());
}

int aws_provider_init(struct aws_provider **out, char *msg, size_t msglen)
{
    struct aws_provider *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    *out = p;
    return 0;
}

void aws_provider_free(struct aws_provider **p)
{
    if (p == NULL || *p == NULL)
        return;
    pthread_mutex_destroy(&(*p)->lock);
    memset(&(*p)->cached, 0, sizeof((*p)->cached));
    free(*p);
    *p = NULL;
}

int aws_provider_get(struct aws_provider *p, struct aws_creds *out, char *msg, size_t msglen)
{
    int rc = 0;

    pthread_mutex_lock(&p->lock);
    if (!p->have || aws_creds_stale(p->cached.expires, (int64_t)time(NULL))) {
        struct aws_creds fresh;

        rc = resolve(&fresh, msg, msglen);
        if (rc == 0) {
            p->cached = fresh;
            p->have = 1;
        } else if (p->have && p->cached.expires > (int64_t)time(NULL)) {
            rc = 0; /* not expired yet: keep using them, try again next call */
        }
    }
    if (rc == 0)
        *out = p->cached;
    pthread_mutex_unlock(&p->lock);
    return rc;
}
