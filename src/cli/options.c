/* options.c - the getopt_long loop behind cli_options_parse: the option
 * table and short-option string are built from the declarations. */
#include "cli/options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* More than any plain subcommand declares. */
#define OPTIONS_MAX 16
/* getopt codes of long-only options: past every char */
#define LONG_ONLY_BASE 256

int cli_options_parse(int argc, char **argv, const struct cli_option *opts, size_t n,
                      const char *who, const char *usage, int *first_operand)
{
    struct option table[OPTIONS_MAX + 2];
    int seen[OPTIONS_MAX] = {0};
    char shorts[OPTIONS_MAX * 2 + 2];
    size_t ns = 0;
    size_t i;
    int c;

    if (n > OPTIONS_MAX)
        return -1;
    for (i = 0; i < n; i++) {
        table[i].name = opts[i].name;
        table[i].has_arg =
            opts[i].text != NULL || opts[i].values != NULL ? required_argument : no_argument;
        table[i].flag = NULL;
        table[i].val = opts[i].short_name != 0 ? opts[i].short_name : LONG_ONLY_BASE + (int)i;
        if (opts[i].short_name != 0) {
            shorts[ns++] = (char)opts[i].short_name;
            if (opts[i].text != NULL || opts[i].values != NULL)
                shorts[ns++] = ':';
        }
    }
    shorts[ns++] = 'h';
    shorts[ns] = '\0';
    table[n] = (struct option){"help", no_argument, NULL, 'h'};
    table[n + 1] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    optind = 1;
    for (;;) {
        c = getopt_long(argc, argv, shorts, table, NULL);
        if (c == -1)
            break;
        if (c == 'h') {
            fputs(usage, stdout);
            return 1;
        }
        for (i = 0; i < n; i++) {
            if (table[i].val == c)
                break;
        }
        if (i == n) {
            fprintf(stderr, "%s: unknown or incomplete option '%s'; see '%s --help'\n", who,
                    argv[optind - 1], who);
            return -1;
        }
        if (opts[i].values != NULL) {
            if (opts[i].values->n == CLI_VALUES_MAX) {
                fprintf(stderr, "%s: --%s may be given at most %d times\n", who, opts[i].name,
                        CLI_VALUES_MAX);
                return -1;
            }
            opts[i].values->v[opts[i].values->n++] = optarg;
        } else if (opts[i].text != NULL && seen[i]) {
            fprintf(stderr, "%s: --%s given twice (%s, then %s); give it once\n", who, opts[i].name,
                    *opts[i].text, optarg);
            return -1;
        } else if (opts[i].text != NULL) {
            *opts[i].text = optarg;
            seen[i] = 1;
        } else {
            *opts[i].flag = 1;
        }
    }
    *first_operand = optind;
    return 0;
}
