#include "cli_args.h"

#include "cli.h"
#include "text_file.h"

#include <stdio.h>
#include <string.h>

enum { HELP_COLUMN = 22, LINE_WIDTH = 96 };

int cli_choice_index(const char *const *choices, const char *name) {
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], name) == 0)
            return i;
    return -1;
}

/* "a, b or c". */
static void choice_list(const char *const *choices, char *out, size_t len) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; choices[i] && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s",
                                 i == 0           ? ""
                                 : choices[i + 1] ? ", "
                                                  : " or ",
                                 choices[i]);
}

static void print_synopsis(const cli_command *cmd) {
    int col = printf("usage: accpar %s", cmd->name);
    if (cmd->synopsis) {
        printf(" %s\n", cmd->synopsis);
        return;
    }
    int indent = col;
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        char item[128];
        int n = o->arg ? snprintf(item, sizeof item, " [%s %s]", o->name, o->arg)
                       : snprintf(item, sizeof item, " [%s]", o->name);
        if (col + n > LINE_WIDTH) {
            col = printf("\n%*s", indent, "") - 1;
        }
        col += printf("%s", item);
    }
    printf("\n");
}

static void print_help(const cli_command *cmd) {
    print_synopsis(cmd);
    printf("\n%s\n\n", cmd->about);
    for (const cli_opt *o = cmd->opts; o->name; o++) {
        char head[96];
        snprintf(head, sizeof head, "  %s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        int width = (int)strlen(head);
        printf("%s", head);
        const char *line = o->help;
        int first = 1;
        while (line) {
            const char *nl = strchr(line, '\n');
            int n = nl ? (int)(nl - line) : (int)strlen(line);
            if (first && width < HELP_COLUMN)
                printf("%*s%.*s\n", HELP_COLUMN - width, "", n, line);
            else
                printf("%s%*s%.*s\n", first ? "\n" : "", HELP_COLUMN, "", n, line);
            first = 0;
            line = nl ? nl + 1 : NULL;
        }
    }
    if (cmd->epilog)
        printf("\n%s\n", cmd->epilog);
}

static int set_value(const cli_command *cmd, const cli_opt *o, const char *v) {
    char why[256];
    switch (o->kind) {
    case OPT_STRING:
        *(const char **)o->out = v;
        return 0;
    case OPT_INT:
        if (text_parse_int(v, o->lo, o->hi, (int64_t *)o->out, why, sizeof why) == 0)
            return 0;
        break;
    case OPT_REAL:
        if (text_parse_real(v, o->min, o->max, (double *)o->out, why, sizeof why) == 0)
            return 0;
        break;
    case OPT_CHOICE: {
        int k = cli_choice_index(o->choices, v);
        if (k >= 0) {
            *(int *)o->out = k;
            return 0;
        }
        char list[256];
        choice_list(o->choices, list, sizeof list);
        snprintf(why, sizeof why, "'%s' is not %s", v, list);
        break;
    }
    case OPT_FLAG:
        *(int *)o->out = 1;
        return 0;
    }
    cli_error(cmd->name, "%s: %s", o->name, why);
    return -1;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, int *given) {
    int n_opts = 0;
    while (cmd->opts[n_opts].name)
        n_opts++;
    int seen[64] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(cmd);
            return CLI_DONE;
        }
        int k = 0;
        while (k < n_opts && strcmp(cmd->opts[k].name, a) != 0)
            k++;
        if (k == n_opts && cmd->operands && strncmp(a, "--", 2) != 0) {
            if (*cmd->n_operands >= cmd->max_operands) {
                cli_error(cmd->name, "too many arguments at '%s' (accpar %s --help)", a, cmd->name);
                return CLI_BAD;
            }
            cmd->operands[(*cmd->n_operands)++] = a;
            continue;
        }
        if (k == n_opts || k >= 64) {
            cli_error(cmd->name, "%s '%s' (accpar %s --help)",
                      strncmp(a, "--", 2) == 0 ? "unknown option" : "unexpected argument", a,
                      cmd->name);
            return CLI_BAD;
        }
        const cli_opt *o = &cmd->opts[k];
        if (seen[k]) {
            cli_error(cmd->name, "%s: given twice", o->name);
            return CLI_BAD;
        }
        seen[k] = 1;
        const char *v = NULL;
        if (o->kind != OPT_FLAG) {
            if (i + 1 >= argc) {
                cli_error(cmd->name, "%s: missing value", o->name);
                return CLI_BAD;
            }
            v = argv[++i];
        }
        if (set_value(cmd, o, v) != 0)
            return CLI_BAD;
    }
    for (int k = 0; given && k < n_opts; k++)
        given[k] = k < 64 && seen[k];
    return CLI_RUN;
}
