/* cli.h - the subcommands of the ecsched binary. Each lives in its own
 * file (cmd_NAME.c) and is listed in the table in main.c, as git's
 * builtin/ commands are. A subcommand gets argv with its own name first and
 * returns the process exit status: 0 success, 1 a negative answer (for
 * example a schedule that never fires, or a server that refused or could
 * not be reached), 2 bad usage or input. `job run --wait` exits with the
 * task's own code instead, so its own failures use the codes of timeout(1)
 * and docker run: 124 and 125. */
#ifndef ECS_CLI_H
#define ECS_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_NONE 1
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_TIMEOUT 124
#define CLI_EXIT_CLI_FAILED 125

int cmd_apply(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_job(int argc, char **argv);
int cmd_next(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_trigger(int argc, char **argv);
/* hidden: `__supervise [--notify-fd N] TASKDIR`, the local launcher's
 * per-task supervisor (launch/supervise.h) */
int cmd_supervise(int argc, char **argv);

#endif
