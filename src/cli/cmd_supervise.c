/* cmd_supervise.c - the hidden `ecsched __supervise [--notify-fd N]
 * TASKDIR` command: the local launcher starts one per task, and the work
 * is launch_supervise()'s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "launch/supervise.h"

int cmd_supervise(int argc, char **argv)
{
    int notify_fd = -1;
    int at = 1;

    if (argc - at >= 2 && strcmp(argv[at], "--notify-fd") == 0) {
        char *end = NULL;
        long fd = strtol(argv[at + 1], &end, 10);

        if (end == argv[at + 1] || *end != '\0' || fd < 0 || fd > 1024) {
            fprintf(stderr, "ecsched __supervise: bad --notify-fd '%s'\n", argv[at + 1]);
            return CLI_EXIT_USAGE;
        }
        notify_fd = (int)fd;
        at += 2;
    }
    if (argc - at != 1) {
        fprintf(stderr, "usage: ecsched __supervise [--notify-fd N] TASKDIR\n"
                        "(internal: the local launcher runs one per task)\n");
        return CLI_EXIT_USAGE;
    }
    return launch_supervise(argv[at], notify_fd);
}
