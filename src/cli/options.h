/* options.h - declared long options for the CLI's plain subcommands
 * (apply, export): each option either stores its argument or sets a flag,
 * and --help prints the usage. One getopt loop serves them all. */
#ifndef ECS_CLI_OPTIONS_H
#define ECS_CLI_OPTIONS_H

#include <stddef.h>

struct cli_option {
    const char *name;  /* the long name, without "--" */
    int short_name;    /* a one-letter alias, or 0 */
    const char **text; /* takes an argument, stored here (borrowed from argv) */
    int *flag;         /* or takes none and sets this to 1 */
};

/* Parse argv (the subcommand's name first) against opts. Returns 0 with
 * *first_operand the index of the first non-option argument; 1 after
 * printing usage on stdout for --help (or -h); -1 after saying on stderr,
 * as "who: ...", which option is unknown or lacks its argument. */
int cli_options_parse(int argc, char **argv, const struct cli_option *opts, size_t n,
                      const char *who, const char *usage, int *first_operand);

#endif
