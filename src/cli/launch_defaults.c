/* launch_defaults.c - serve's ECS defaults: checked here, at start-up, so a
 * typo stops the daemon with a message instead of failing every RunTask. */
#include "cli/launch_defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* The flag's value, else the variable's, else NULL; *from names which. */
static const char *pick(const char *flag, const char *flag_name, const char *var, const char **from)
{
    const char *v = getenv(var);

    if (flag != NULL) {
        *from = flag_name;
        return flag;
    }
    *from = var;
    if (v != NULL && v[0] != '\0')
        return v;
    return NULL;
}

/* "a,b,c" into ["a","b","c"]: no empty items, no spaces inside one. */
static int split_list(const char *text, const char *from, json_t **out, char *msg, size_t msglen)
{
    json_t *list = json_array();
    const char *p = text;

    while (list != NULL) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[256];

        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 0 || n >= sizeof(item) || memchr(p, ' ', n) != NULL) {
            json_decref(list);
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "%s '%s' must be a comma-separated list of ids, e.g. "
                            "subnet-0abc,subnet-0def",
                            from, text);
        }
        memcpy(item, p, n);
        item[n] = '\0';
        json_array_append_new(list, json_string(item));
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (list == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    if (json_array_size(list) > 16) {
        json_decref(list);
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s: at most 16 ids, got more", from);
    }
    *out = list;
    return 0;
}

static int network(const struct launch_flags *f, json_t *d, char *msg, size_t msglen)
{
    const char *from_subnets;
    const char *from_groups;
    const char *from_ip;
    const char *subnets = pick(f->subnets, "--subnets", "ECSCHED_SUBNETS", &from_subnets);
    const char *groups =
        pick(f->security_groups, "--security-groups", "ECSCHED_SECURITY_GROUPS", &from_groups);
    const char *ip =
        pick(f->assign_public_ip, "--assign-public-ip", "ECSCHED_ASSIGN_PUBLIC_IP", &from_ip);
    json_t *vpc;
    json_t *list = NULL;
    int rc;

    if (subnets == NULL) {
        if (groups != NULL || ip != NULL)
            return ecs_fail(ECS_EINVAL, msg, msglen,
                            "%s needs subnets (--subnets or ECSCHED_SUBNETS)",
                            groups != NULL ? from_groups : from_ip);
        return 0;
    }
    if (ip != NULL && strcmp(ip, "ENABLED") != 0 && strcmp(ip, "DISABLED") != 0)
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s '%s' must be ENABLED or DISABLED", from_ip,
                        ip);
    rc = split_list(subnets, from_subnets, &list, msg, msglen);
    if (rc != 0)
        return rc;
    vpc = json_pack("{s:o}", "subnets", list);
    if (vpc == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    if (groups != NULL) {
        rc = split_list(groups, from_groups, &list, msg, msglen);
        if (rc != 0) {
            json_decref(vpc);
            return rc;
        }
        json_object_set_new(vpc, "securityGroups", list);
    }
    if (ip != NULL)
        json_object_set_new(vpc, "assignPublicIp", json_string(ip));
    json_object_set_new(d, "networkConfiguration", json_pack("{s:o}", "awsvpcConfiguration", vpc));
    return 0;
}

int launch_defaults_build(const struct launch_flags *f, json_t **out, char *msg, size_t msglen)
{
    const char *from;
    const char *cluster = pick(f->cluster, "--cluster", "ECSCHED_CLUSTER", &from);
    const char *type = NULL;
    const char *platform = NULL;
    json_t *d;
    int rc;

    *out = NULL;
    if (cluster != NULL && (strlen(cluster) > 255 || strchr(cluster, ' ') != NULL))
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "%s '%s' must be a cluster name or ARN (no spaces, at most 255)", from,
                        cluster);
    d = json_pack("{s:s}", "cluster", cluster != NULL ? cluster : "default");
    if (d == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    type = pick(f->launch_type, "--launch-type", "ECSCHED_LAUNCH_TYPE", &from);
    if (type != NULL && strcmp(type, "EC2") != 0 && strcmp(type, "FARGATE") != 0 &&
        strcmp(type, "EXTERNAL") != 0) {
        json_decref(d);
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s '%s' must be EC2, FARGATE or EXTERNAL", from,
                        type);
    }
    if (type != NULL)
        json_object_set_new(d, "launchType", json_string(type));
    platform = pick(f->platform_version, "--platform-version", "ECSCHED_PLATFORM_VERSION", &from);
    if (platform != NULL && (strlen(platform) > 32 || strchr(platform, ' ') != NULL)) {
        json_decref(d);
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "%s '%s' must be a platform version such as LATEST or 1.4.0", from,
                        platform);
    }
    if (platform != NULL)
        json_object_set_new(d, "platformVersion", json_string(platform));
    rc = network(f, d, msg, msglen);
    if (rc != 0) {
        json_decref(d);
        return rc;
    }
    *out = d;
    return 0;
}
