/* test_aws_creds.c - the AWS credential chain's pure parts: the shared
 * files' INI reading, environment before profile, region and endpoint
 * resolution, and when temporary credentials are fetched again. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "aws/creds.h"
#include "core/error.h"
#include "harness.h"

static void test_ini(void)
{
    char path[] = "/tmp/ecsched-ini-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    char out[128];

    fputs("# comment\n[default]\naws_access_key_id = AKIDEFAULT\n\n[profile dev]\n"
          "region=eu-west-1\n  aws_secret_access_key  =  s3cr3t \n[other]\nregion = x\n",
          f);
    fclose(f);
    T_EQ_INT(aws_ini_get(path, "default", "aws_access_key_id", out, sizeof(out)), 0);
    T_EQ_STR(out, "AKIDEFAULT");
    T_EQ_INT(aws_ini_get(path, "profile dev", "aws_secret_access_key", out, sizeof(out)), 0);
    T_EQ_STR(out, "s3cr3t");
    T_EQ_INT(aws_ini_get(path, "profile dev", "region", out, sizeof(out)), 0);
    T_EQ_STR(out, "eu-west-1");
    T_EQ_INT(aws_ini_get(path, "default", "region", out, sizeof(out)), ECS_ENOTFOUND);
    T_EQ_INT(aws_ini_get("/nonexistent/file", "default", "region", out, sizeof(out)),
             ECS_ENOTFOUND);
    unlink(path);
}

static void test_region_and_endpoint(void)
{
    char out[256];
    char msg[512];

    unsetenv("AWS_REGION");
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    T_EQ_INT(aws_region(out, sizeof(out), msg, sizeof(msg)), 0);
    T_EQ_STR(out, "us-west-2");
    setenv("AWS_REGION", "eu-central-1", 1);
    T_EQ_INT(aws_region(out, sizeof(out), msg, sizeof(msg)), 0);
    T_EQ_STR(out, "eu-central-1");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    T_EQ_INT(aws_region(out, sizeof(out), msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "AWS_REGION");

    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_ECS");
    aws_endpoint("ecs", "us-east-1", out, sizeof(out));
    T_EQ_STR(out, "https://ecs.us-east-1.amazonaws.com");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
    aws_endpoint("ecs", "us-east-1", out, sizeof(out));
    T_EQ_STR(out, "http://127.0.0.1:4566");
    setenv("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:9999", 1);
    aws_endpoint("ecs", "us-east-1", out, sizeof(out));
    T_EQ_STR(out, "http://127.0.0.1:9999");
    aws_endpoint("sqs", "us-east-1", out, sizeof(out));
    T_EQ_STR(out, "http://127.0.0.1:4566");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_ECS");
}

static void test_chain_order(void)
{
    char path[] = "/tmp/ecsched-cred-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    struct aws_provider *p = NULL;
    struct aws_creds c;
    char msg[512];

    fputs("[ops]\naws_access_key_id = AKIPROFILE\naws_secret_access_key = fromfile\n", f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_PROFILE", "ops", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    setenv("AWS_ACCESS_KEY_ID", "AKIENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "fromenv", 1);
    T_EQ_INT(aws_provider_init(&p, msg, sizeof(msg)), 0);
    T_EQ_INT(aws_provider_get(p, &c, msg, sizeof(msg)), 0);
    T_EQ_STR(c.key, "AKIENV");
    T_EQ_STR(c.source, "env");
    aws_provider_free(&p);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    T_EQ_INT(aws_provider_init(&p, msg, sizeof(msg)), 0);
    T_EQ_INT(aws_provider_get(p, &c, msg, sizeof(msg)), 0);
    T_EQ_STR(c.key, "AKIPROFILE");
    T_EQ_STR(c.source, "profile");
    aws_provider_free(&p);
    T_TRUE(p == NULL);
    setenv("AWS_PROFILE", "missing", 1);
    T_EQ_INT(aws_provider_init(&p, msg, sizeof(msg)), 0);
    T_EQ_INT(aws_provider_get(p, &c, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "profile 'missing'");
    aws_provider_free(&p);
    unlink(path);
}

static void test_stale(void)
{
    T_EQ_INT(aws_creds_stale(0, 1000), 0);
    T_EQ_INT(aws_creds_stale(10000, 9000), 0);
    T_EQ_INT(aws_creds_stale(10000, 9700), 1);
    T_EQ_INT(aws_creds_stale(10000, 20000), 1);
}

static const struct test_case cases[] = {
    {"ini", test_ini},
    {"region_and_endpoint", test_region_and_endpoint},
    {"chain_order", test_chain_order},
    {"stale", test_stale},
};

TEST_MAIN("aws_creds", cases)
