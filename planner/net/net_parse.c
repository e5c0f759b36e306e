#include "net_parse.h"

#include "text_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line of the file before names are resolved. */
typedef struct {
    net_node node;
    char in_name[NET_MAX_IN][NET_NAME_MAX];
} pending;

typedef struct {
    const char *key;
    int64_t min, max, fallback; /* fallback < 0: required */
} key_spec;

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} ctx;

static int fail(const ctx *c, int line, const char *field, const char *why, const char *arg) {
    snprintf(c->err, c->errlen, "%s:%d: field '%s': %s%s", c->path, line, field, why, arg);
    return -1;
}

static int parse_int(const ctx *c, int line, const key_spec *k, const char *s, int64_t *v) {
    char why[160];
    if (text_parse_int(s, k->min, k->max, v, why, sizeof why) != 0)
        return fail(c, line, k->key, why, "");
    return 0;
}

/* Splits "in=a,b" into names; returns the count or -1. */
static int parse_inputs(const ctx *c, int line, char *s, pending *p) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == NET_MAX_IN)
            return fail(c, line, "in", "too many inputs", "");
        if (!net_valid_name(tok))
            return fail(c, line, "in", "not a valid name: ", tok);
        strcpy(p->in_name[n++], tok);
    }
    return n;
}

static const key_spec input_keys[] = {
    {"c", 1, NET_MAX_DIM, -1}, {"h", 1, NET_MAX_MAP, -1}, {"w", 1, NET_MAX_MAP, -1}};
static const key_spec conv_keys[] = {{"cout", 1, NET_MAX_DIM, -1},
                                     {"k", 1, NET_MAX_KERNEL, -1},
                                     {"stride", 1, NET_MAX_KERNEL, 1},
                                     {"pad", 0, NET_MAX_KERNEL, 0},
                                     {"pool", 1, NET_MAX_KERNEL, 1}};
static const key_spec fc_keys[] = {{"out", 1, NET_MAX_DIM, -1}};
static const key_spec add_keys[] = {{"pool", 1, NET_MAX_KERNEL, 1}};

/* Reads "key=value" fields of one line into vals (per spec) and the inputs. */
static int parse_fields(const ctx *c, int line, char **tok, int ntok, const key_spec *spec,
                        int nspec, int want_in, int64_t *vals, pending *p) {
    int seen[8] = {0}, n_in = 0;
    for (int t = 2; t < ntok; t++) {
        char *eq = strchr(tok[t], '=');
        if (!eq)
            return fail(c, line, tok[t], "expected key=value", "");
        *eq = '\0';
        const char *val = eq + 1;
        if (strcmp(tok[t], "in") == 0 && want_in > 0) {
            if (n_in)
                return fail(c, line, "in", "given twice", "");
            n_in = parse_inputs(c, line, eq + 1, p);
            if (n_in < 0)
                return -1;
            if (n_in != want_in) {
                snprintf(c->err, c->errlen, "%s:%d: field 'in': expected %d input(s), got %d",
                         c->path, line, want_in, n_in);
                return -1;
            }
            continue;
        }
        int i = 0;
        while (i < nspec && strcmp(spec[i].key, tok[t]) != 0)
            i++;
        if (i == nspec)
            return fail(c, line, tok[t], "unknown field", "");
        if (seen[i])
            return fail(c, line, tok[t], "given twice", "");
        seen[i] = 1;
        if (parse_int(c, line, &spec[i], val, &vals[i]) != 0)
            return -1;
    }
    if (want_in > 0 && n_in == 0)
        return fail(c, line, "in", "missing", "");
    for (int i = 0; i < nspec; i++) {
        if (!seen[i] && spec[i].fallback < 0)
            return fail(c, line, spec[i].key, "missing", "");
        if (!seen[i])
            vals[i] = spec[i].fallback;
    }
    return 0;
}

static int parse_node(const ctx *c, int line, char **tok, int ntok, pending *p) {
    memset(p, 0, sizeof *p);
    p->node.line = line;
    if (ntok < 2)
        return fail(c, line, "name", "missing", "");
    if (!net_valid_name(tok[1]))
        return fail(c, line, "name", "not a valid name: ", tok[1]);
    strcpy(p->node.name, tok[1]);
    int64_t v[5];
    net_node *nd = &p->node;
    if (strcmp(tok[0], "input") == 0) {
        nd->kind = NODE_INPUT;
        if (parse_fields(c, line, tok, ntok, input_keys, 3, 0, v, p) != 0)
            return -1;
        nd->oc = v[0];
        nd->oh = v[1];
        nd->ow = v[2];
    } else if (strcmp(tok[0], "conv") == 0) {
        nd->kind = NODE_CONV;
        nd->n_in = 1;
        if (parse_fields(c, line, tok, ntok, conv_keys, 5, 1, v, p) != 0)
            return -1;
        nd->cout = v[0];
        nd->k = v[1];
        nd->stride = v[2];
        nd->pad = v[3];
        nd->pool = v[4];
        if (nd->pad > nd->k / 2) {
            snprintf(c->err, c->errlen, "%s:%d: field 'pad': %lld exceeds k/2 = %lld", c->path,
                     line, (long long)nd->pad, (long long)(nd->k / 2));
            return -1;
        }
    } else if (strcmp(tok[0], "fc") == 0) {
        nd->kind = NODE_FC;
        nd->n_in = 1;
        if (parse_fields(c, line, tok, ntok, fc_keys, 1, 1, v, p) != 0)
            return -1;
        nd->cout = v[0];
        nd->k = 1;
        nd->stride = 1;
        nd->pool = 1;
    } else if (strcmp(tok[0], "add") == 0) {
        nd->kind = NODE_ADD;
        nd->n_in = 2;
        if (parse_fields(c, line, tok, ntok, add_keys, 1, 2, v, p) != 0)
            return -1;
        nd->pool = v[0];
    } else {
        return fail(c, line, "kind", "unknown node kind (input, conv, fc, add): ", tok[0]);
    }
    return 0;
}

static int find_name(const pending *p, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].node.name, name) == 0)
            return i;
    return -1;
}

/* Depth-first topological order; state 0 new, 1 on the stack, 2 done. */
static int visit(const ctx *c, pending *p, int n, int v, int *state, int *order, int *count) {
    if (state[v] == 2)
        return 0;
    if (state[v] == 1)
        return fail(c, p[v].node.line, "in", "the graph has a cycle through ", p[v].node.name);
    state[v] = 1;
    for (int e = 0; e < p[v].node.n_in; e++)
        if (visit(c, p, n, p[v].node.in[e], state, order, count) != 0)
            return -1;
    state[v] = 2;
    order[(*count)++] = v;
    return 0;
}

/* Output shape of a node from its (already shaped) inputs. */
static int shape_node(const ctx *c, net_node *nd, const net_node *a, const net_node *b) {
    const char *field = "";
    char why[256];
    if (net_infer_shape(nd, a, b, &field, why, sizeof why) == 0 &&
        net_node_fits(nd, &field, why, sizeof why) == 0)
        return 0;
    snprintf(c->err, c->errlen, "%s:%d: field '%s': %s", c->path, nd->line, field, why);
    return -1;
}

/* Resolves input names, orders the nodes and computes their shapes. */
static int build(const ctx *c, pending *p, int n, net *out) {
    for (int v = 0; v < n; v++) {
        for (int e = 0; e < p[v].node.n_in; e++) {
            int u = find_name(p, n, p[v].in_name[e]);
            if (u < 0)
                return fail(c, p[v].node.line, "in", "unknown node ", p[v].in_name[e]);
            p[v].node.in[e] = u;
        }
    }
    int *state = calloc((size_t)n * 3, sizeof *state);
    if (!state)
        return fail(c, 0, "network", "out of memory", "");
    int *order = state + n, *pos = state + 2 * n, count = 0, rc = 0;
    for (int v = 0; v < n && rc == 0; v++)
        rc = visit(c, p, n, v, state, order, &count);
    out->nodes = rc == 0 ? calloc((size_t)n, sizeof *out->nodes) : NULL;
    if (rc == 0 && !out->nodes)
        rc = fail(c, 0, "network", "out of memory", "");
    for (int i = 0; i < n && rc == 0; i++) {
        pos[order[i]] = i;
        net_node *nd = &out->nodes[i];
        *nd = p[order[i]].node;
        for (int e = 0; e < nd->n_in; e++)
            nd->in[e] = pos[nd->in[e]];
        const net_node *a = nd->n_in > 0 ? &out->nodes[nd->in[0]] : NULL;
        const net_node *b = nd->n_in > 1 ? &out->nodes[nd->in[1]] : NULL;
        rc = shape_node(c, nd, a, b);
    }
    free(state);
    if (rc != 0) {
        free(out->nodes);
        out->nodes = NULL;
        return -1;
    }
    out->n = n;
    return 0;
}

static int read_lines(const ctx *c, text_file *tf, pending *p, int *n, char *name) {
    char *tok[TEXT_FILE_MAX_TOKENS];
    int ntok;
    while ((ntok = text_file_next_tokens(tf, tok, TEXT_FILE_MAX_TOKENS, c->err, c->errlen)) > 0) {
        if (strcmp(tok[0], "network") == 0) {
            if (ntok != 2 || !net_valid_name(tok[1]))
                return fail(c, tf->line_no, "network", "expected 'network NAME'", "");
            strcpy(name, tok[1]);
            continue;
        }
        if (*n == NET_MAX_NODES)
            return fail(c, tf->line_no, "name", "too many nodes", "");
        if (parse_node(c, tf->line_no, tok, ntok, &p[*n]) != 0)
            return -1;
        if (find_name(p, *n, p[*n].node.name) >= 0)
            return fail(c, tf->line_no, "name", "duplicate node ", p[*n].node.name);
        (*n)++;
    }
    if (ntok < 0)
        return -1;
    int inputs = 0, weighted = 0;
    for (int i = 0; i < *n; i++) {
        inputs += p[i].node.kind == NODE_INPUT;
        weighted += net_is_weighted(&p[i].node);
    }
    int end = text_file_end_line(tf);
    if (*n == 0)
        return fail(c, end, "input", "no nodes: ",
                    tf->line_no ? "only comments and blank lines" : "the file is empty");
    if (inputs == 0)
        return fail(c, end, "input", "no input node", "");
    if (weighted == 0)
        return fail(c, end, "conv", "no CONV or FC layer", "");
    return 0;
}

int net_load_file(const char *path, net *out, char *err, size_t errlen) {
    ctx c = {path, err, errlen};
    text_file tf;
    memset(out, 0, sizeof *out);
    if (text_file_open(&tf, path, err, errlen) != 0)
        return -1;
    pending *p = malloc(sizeof *p * NET_MAX_NODES);
    int n = 0, rc = p ? 0 : fail(&c, 0, "network", "out of memory", "");
    char name[NET_NAME_MAX] = "";
    if (rc == 0)
        rc = read_lines(&c, &tf, p, &n, name);
    text_file_close(&tf);
    if (rc == 0)
        rc = build(&c, p, n, out);
    free(p);
    if (rc != 0)
        return -1;
    snprintf(out->name, sizeof out->name, "%s", name[0] ? name : "network");
    snprintf(out->path, sizeof out->path, "%s", path);
    return 0;
}
