/* cmd_export.c - `ecsched export`: a server's jobs as a jobs file
 * ({jobs: [...]}, YAML or JSON) holding only the fields a person sets, so
 * that `ecsched apply -f` of the output changes nothing. The starting
 * point for keeping schedules in git. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/options.h"
#include "cli/yamlio.h"

static const char export_usage[] =
    "usage: ecsched export [-o yaml|json] [--server URL]\n"
    "\n"
    "Write every job of the server to stdout as a jobs file, {jobs: [...]}, in\n"
    "the API's field names and without the fields the server computes (link,\n"
    "estimatedNextRun, lastRun, lastRunTasks): 'ecsched apply -f' of the output\n"
    "changes nothing. See docs/jobs-as-code.md.\n"
    "\n"
    "  -o, --output FORMAT  yaml (default) or json\n"
    "  --server URL         the server (default $ECSCHED_SERVER, else " CLIENT_DEFAULT_SERVER ")\n";

int cmd_export(int argc, char **argv)
{
    const char *format = "yaml";
    const char *server = NULL;
    const struct cli_option opts[] = {
        {"output", 'o', &format, NULL, NULL},
        {"server", 0, &server, NULL, NULL},
    };
    struct client client;
    json_t *jobs = NULL;
    json_t *out;
    const json_t *job;
    char msg[1024];
    size_t i;
    int operand;
    int rc;

    rc = cli_options_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), "ecsched export",
                           export_usage, &operand);
    if (rc != 0)
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (operand != argc || (strcmp(format, "yaml") != 0 && strcmp(format, "json") != 0)) {
        fprintf(stderr, "ecsched export: %s; see 'ecsched export --help'\n",
                operand != argc ? "takes no arguments besides options" : "-o takes yaml or json");
        return CLI_EXIT_USAGE;
    }
    if (client_init(&client, server, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched export: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    if (client_get_jobs(&client, &jobs, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched export: %s\n", msg);
        return CLI_EXIT_FAIL;
    }
    out = json_pack("{s:[]}", "jobs");
    json_array_foreach(jobs, i, job) {
        json_array_append_new(json_object_get(out, "jobs"), client_job_ordered(job, 0));
    }
    json_decref(jobs);
    if (strcmp(format, "json") == 0) {
        rc = json_dumpf(out, stdout, JSON_INDENT(2)) == 0 ? 0 : -1;
        fputc('\n', stdout);
    } else {
        rc = yamlio_write(stdout, out, msg, sizeof(msg));
    }
    json_decref(out);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "ecsched export: cannot write the jobs\n");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
