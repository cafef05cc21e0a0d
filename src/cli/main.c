/* main.c - the ecsched binary's front door: global options and a table of
 * subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/version.h"

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* NULL: hidden from --help (internal) */
};

static const struct cli_command commands[] = {
    {"apply", cmd_apply, "make a server's jobs match a YAML or JSON file (jobs as code)"},
    {"export", cmd_export, "write a server's jobs as YAML or JSON, in apply's format"},
    {"job", cmd_job, "list, show, create, change, delete and run a server's jobs"},
    {"next", cmd_next, "print the next fire times of a schedule expression"},
    {"serve", cmd_serve, "serve the jobs API (ECS Scheduler compatible)"},
    {"trigger", cmd_trigger, "set up the AWS wiring of a job's trigger (setup-s3)"},
    /* started by the local launcher, one per task */
    {"__supervise", cmd_supervise, NULL},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: ecsched [--help] [--version] <command> [<args>]\n\n");
    fprintf(out, "ecsched starts Amazon ECS tasks on schedules, when work appears, by hand,\n"
                 "or after another job; it records what ran and how it ended.\n\n");
    fprintf(out, "commands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        if (commands[i].summary != NULL)
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'ecsched <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("ecsched %s\n", ECSCHED_VERSION);
        return CLI_EXIT_OK;
    }
    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "ecsched: '%s' is not a command; see 'ecsched --help'\n", argv[1]);
    return CLI_EXIT_USAGE;
}
