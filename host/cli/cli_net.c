/* accpar net show: every node of a network with its inferred shapes, GEMM, MACs and parameters
 * (docs/networks.md), so a user can confirm a file means what they think. */
#include "cli.h"
#include "cli_args.h"
#include "json.h"
#include "output_set.h"

#include <stdio.h>
#include <string.h>

static const char *const CMD = "net";
static const char *const KIND[] = {"input", "conv", "fc", "add"};

typedef struct shown {
    int64_t m, k, n;   /* the forward GEMM (0 for input and add) */
    int64_t macs;      /* forward multiply-accumulates for the batch */
    int64_t step_macs; /* the training step's: forward, error backward (when needed), gradient */
    int64_t params;    /* weights (the model has no biases) */
} shown;

static shown node_figures(const net *g, const net_node *nd, int64_t batch) {
    shown s = {0};
    if (!net_is_weighted(nd))
        return s;
    s.m = net_rows(nd, batch);
    s.k = net_di(nd);
    s.n = nd->cout;
    s.macs = s.m * s.k * s.n;
    int backward = nd->n_in > 0 && g->nodes[nd->in[0]].kind != NODE_INPUT;
    s.step_macs = s.macs * (2 + backward);
    s.params = s.k * s.n;
    return s;
}

/* "conv k3 s1 p1 pool2": the kind and what shapes it. */
static void describe(const net_node *nd, char *out, size_t len) {
    if (nd->kind == NODE_CONV)
        snprintf(out, len, "conv k%lld s%lld p%lld%s", (long long)nd->k, (long long)nd->stride,
                 (long long)nd->pad, nd->pool > 1 ? " pool" : "");
    else
        snprintf(out, len, "%s", KIND[nd->kind]);
    if (nd->kind == NODE_CONV && nd->pool > 1)
        snprintf(out + strlen(out), len - strlen(out), "%lld", (long long)nd->pool);
}

static void print_table(const net *g, int64_t batch) {
    printf("network %s (%s), batch %lld\n%-16s %-20s %-22s %-16s %-22s %14s %12s\n", g->name,
           net_source(g), (long long)batch, "node", "kind", "inputs", "output CxHxW", "GEMM MxKxN",
           "MACs", "params");
    shown total = {0};
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        char kind[64], in[160] = "", out[64], gemm[64] = "";
        describe(nd, kind, sizeof kind);
        for (int e = 0; e < nd->n_in; e++)
            snprintf(in + strlen(in), sizeof in - strlen(in), "%s%s", e ? "," : "",
                     g->nodes[nd->in[e]].name);
        snprintf(out, sizeof out, "%lldx%lldx%lld", (long long)nd->oc, (long long)nd->oh,
                 (long long)nd->ow);
        shown s = node_figures(g, nd, batch);
        if (s.m)
            snprintf(gemm, sizeof gemm, "%lldx%lldx%lld", (long long)s.m, (long long)s.k,
                     (long long)s.n);
        printf("%-16s %-20s %-22s %-16s %-22s %14lld %12lld\n", nd->name, kind, in, out, gemm,
               (long long)s.macs, (long long)s.params);
        total.macs += s.macs;
        total.step_macs += s.step_macs;
        total.params += s.params;
    }
    printf("total: %d nodes, %lld parameters, %lld forward MACs, %lld MACs in a training step "
           "(forward, error backward where a layer needs it, gradient)\n",
           g->n, (long long)total.params, (long long)total.macs, (long long)total.step_macs);
}

static void net_json(json_out *j, const net *g, int64_t batch) {
    json_begin_object(j, NULL);
    json_str(j, "net", g->name);
    json_int(j, "batch", batch);
    json_begin_array(j, "nodes");
    shown total = {0};
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        shown s = node_figures(g, nd, batch);
        json_begin_object(j, NULL);
        json_str(j, "name", nd->name);
        json_str(j, "kind", KIND[nd->kind]);
        json_begin_array(j, "inputs");
        for (int e = 0; e < nd->n_in; e++)
            json_str(j, NULL, g->nodes[nd->in[e]].name);
        json_end_array(j);
        json_begin_array(j, "output");
        json_int(j, NULL, nd->oc);
        json_int(j, NULL, nd->oh);
        json_int(j, NULL, nd->ow);
        json_end_array(j);
        if (nd->kind == NODE_CONV) {
            json_int(j, "k", nd->k);
            json_int(j, "stride", nd->stride);
            json_int(j, "pad", nd->pad);
            json_int(j, "pool", nd->pool);
        }
        if (s.m) {
            json_begin_object(j, "gemm");
            json_int(j, "m", s.m);
            json_int(j, "k", s.k);
            json_int(j, "n", s.n);
            json_end_object(j);
        }
        json_int(j, "macs", s.macs);
        json_int(j, "step_macs", s.step_macs);
        json_int(j, "params", s.params);
        json_end_object(j);
        total.macs += s.macs;
        total.step_macs += s.step_macs;
        total.params += s.params;
    }
    json_end_array(j);
    json_begin_object(j, "totals");
    json_int(j, "nodes", g->n);
    json_int(j, "params", total.params);
    json_int(j, "macs", total.macs);
    json_int(j, "step_macs", total.step_macs);
    json_end_object(j);
    json_end_object(j);
}

int cli_net(int argc, char **argv) {
    const char *json = NULL;
    int64_t batch = 1;
    double scale = 1.0, image_scale = 0;
    const char *operands[2] = {NULL, NULL}; /* "show", NET */
    int n_operands = 0;
    const cli_opt opts[] = {
        CLI_INT("--batch", &batch, "N", "samples for the GEMM and MAC columns [1]", 1, 1 << 24),
        CLI_REAL("--scale", &scale, "F", "multiply channels and image sizes by F [1]", 1e-6, 1),
        CLI_REAL("--image-scale", &image_scale, "F", "multiply image sizes only by F [--scale]",
                 1e-6, 1),
        CLI_STRING("--json", &json, "PATH", "the same as JSON"),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        "show NET [--batch N] [--scale F] [--image-scale F] [--json PATH]",
        "Prints every node of the network NET (a name under models/networks/, a .net file or\n"
        "a reference-format file) with its kind, inputs, output shape per sample after\n"
        "pooling, forward GEMM (im2col for CONV) and MACs for the batch, and weights; then the\n"
        "totals, with the MACs of a whole training step.",
        opts,
        NULL,
        operands,
        2,
        &n_operands};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_RUN)
        return rc == CLI_DONE ? 0 : EXIT_USAGE;
    if (n_operands < 1 || strcmp(operands[0], "show") != 0) {
        cli_error(CMD, "%s%s%s: expected: accpar net show NET", n_operands ? "'" : "",
                  n_operands ? operands[0] : "a subcommand", n_operands ? "'" : "");
        return EXIT_USAGE;
    }
    const char *name = operands[1];
    if (!name) {
        cli_error(CMD, "NET: missing (accpar net show NET)");
        return EXIT_USAGE;
    }
    net g;
    if (cli_load_net(CMD, name, scale, image_scale > 0 ? image_scale : scale, &g) != 0)
        return EXIT_USAGE;
    if (json && cli_declare_output(CMD, "--json", json) != 0) {
        net_free(&g);
        return cli_finish(CMD, EXIT_USAGE);
    }
    print_table(&g, batch);
    json_out j = {0};
    rc = 0;
    if (json) {
        net_json(&j, &g, batch);
        rc = cli_write_json(CMD, &j, json) != 0 ? EXIT_USAGE : 0;
    }
    net_free(&g);
    return cli_finish(CMD, rc);
}
