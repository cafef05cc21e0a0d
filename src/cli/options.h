/* options.h - declared long options for the CLI's plain subcommands
 * (apply, export): each option either stores its argument or sets a flag,
 * and --help prints the usage. One getopt loop serves them all. */
#ifndef ECS_CLI_OPTIONS_H
#define ECS_CLI_OPTIONS_H

#include <stddef.h>

/* The arguments of an option that may be given more than once. */
#define CLI_VALUES_MAX 64
struct cli_values {
    const char *v[CLI_VALUES_MAX]; /* borrowed from argv */
    size_t n;
};

struct cli_option {
    const char *name;  /* the long name, without "--" */
    int short_name;    /* a one-letter alias, or 0 */
    const char **text; /* takes an argument, stored here (borrowed from argv) */
    int *flag;         /* or takes none and sets this to 1 */
    /* or takes an argument each time it is given, each kept here; NULL
     * for the others, where a second use is refused (it would silently
     * replace the first) */
    struct cli_values *values;
};

/* Parse argv (the subcommand's name first) against opts. Returns 0 with
 * *first_operand the index of the first non-option argument; 1 after
 * printing usage on stdout for --help (or -h); -1 after saying on stderr,
 * as "who: ...", which option is unknown or lacks its argument. */
int cli_options_parse(int argc, char **argv, const struct cli_option *opts, size_t n,
                      const char *who, const char *usage, int *first_operand);

#endif
