/* cli.h - the subcommands of the ecsched binary. Each lives in its own
 * file (cmd_NAME.c) and is listed in the table in main.c, as git's
 * builtin/ commands are. A subcommand gets argv with its own name first and
 * returns the process exit status: 0 success, 1 a negative answer (for
 * example a schedule that never fires), 2 bad usage or input. */
#ifndef ECS_CLI_H
#define ECS_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_NONE 1
#define CLI_EXIT_USAGE 2

int cmd_next(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
