/* launch_defaults.h - the ecs launcher's daemon-wide RunTask settings
 * (cluster, launch type, platform version, awsvpc network) from serve's
 * flags or their ECSCHED_* variables; a job's own "launch" wins key by
 * key. */
#ifndef ECS_CLI_LAUNCH_DEFAULTS_H
#define ECS_CLI_LAUNCH_DEFAULTS_H

#include <jansson.h>
#include <stddef.h>

/* Each field is the flag's text, or NULL to read the variable named. */
struct launch_flags {
    const char *cluster;          /* ECSCHED_CLUSTER, default "default" */
    const char *launch_type;      /* ECSCHED_LAUNCH_TYPE: EC2, FARGATE, EXTERNAL */
    const char *platform_version; /* ECSCHED_PLATFORM_VERSION */
    const char *subnets;          /* ECSCHED_SUBNETS: comma-separated */
    const char *security_groups;  /* ECSCHED_SECURITY_GROUPS: comma-separated */
    const char *assign_public_ip; /* ECSCHED_ASSIGN_PUBLIC_IP: ENABLED, DISABLED */
};

/* *out: a new object in RunTask's names. ECS_EINVAL with the bad value
 * (and where it came from) in msg. */
int launch_defaults_build(const struct launch_flags *f, json_t **out, char *msg, size_t msglen);

#endif
