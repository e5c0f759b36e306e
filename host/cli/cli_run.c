/* accpar run: one partitioned training step on an emulated heterogeneous array, verified
 * (docs/runtime.md). The plan is made here, or loaded from a file saved by accpar plan --out. */
#include "cli.h"
#include "cli_args.h"
#include "cli_ranks.h"
#include "model_cache.h"
#include "parallel.h"
#include "plan_file.h"
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const CMD = "run";

typedef struct run_args {
    const char *net, *accels, *json, *trace, *trace_events, *calibration, *plan, *model_cache;
    const char *placement;
    int no_build;
    int64_t batch, seed, jobs, device_mib, trace_limit_mib;
    double scale, image_scale, rank_timeout;
    int strat, fidelity, model;
    int given[32];
    plan_file_meta saved; /* with --plan: what the plan file names */
    run_options o;
} run_args;

enum {
    OPT_NET,
    OPT_ACCELS,
    OPT_BATCH,
    OPT_STRATEGY,
    OPT_FIDELITY,
    OPT_SCALE,
    OPT_IMAGE_SCALE,
    OPT_MODEL,
    OPT_CALIBRATION,
    OPT_PLAN,
    OPT_SEED,
    OPT_JSON,
    OPT_TRACE,
    OPT_TRACE_LIMIT,
    OPT_TRACE_EVENTS,
    OPT_DEVICE_MIB,
    OPT_JOBS,
    OPT_MODEL_CACHE,
    OPT_NO_BUILD,
    OPT_PLACEMENT,
    OPT_RANK_TIMEOUT,
};

static int parse(int argc, char **argv, run_args *a) {
    *a = (run_args){.net = "tiny-cnn",
                    .accels = "2xtpu-v2,2xtpu-v3",
                    .batch = 32,
                    .seed = 1,
                    .jobs = cli_default_jobs(),
                    .rank_timeout = CLI_RANK_TIMEOUT_DEFAULT_S,
                    .trace_limit_mib = CLI_TRACE_LIMIT_DEFAULT_MIB,
                    .scale = 1.0,
                    .strat = STRATEGY_ACCPAR,
                    .fidelity = ACCEL_BACKEND_RTL};
    const cli_opt opts[] = {
        [OPT_NET] = CLI_STRING("--net", &a->net, "NAME|FILE",
                               "network (models/networks/NAME.net or a .net path) [tiny-cnn]"),
        [OPT_ACCELS] = CLI_STRING("--accels", &a->accels, "SPEC",
                                  "array, COUNTxPRESET[,...] [2xtpu-v2,2xtpu-v3]"),
        [OPT_BATCH] = CLI_INT("--batch", &a->batch, "N", "samples per step [32]", 1, 65536),
        [OPT_STRATEGY] = CLI_CHOICE("--strategy", &a->strat, "S",
                                    "accpar, hypar, owt or dp [accpar]", strategy_names),
        [OPT_FIDELITY] =
            CLI_CHOICE("--fidelity", &a->fidelity, "F",
                       "rtl (every tile on the verilated RTL), replay (golden numerics,\n"
                       "each command shape timed once on RTL), golden [rtl]",
                       accel_backend_names),
        [OPT_SCALE] = CLI_REAL("--scale", &a->scale, "F",
                               "multiply channels and image sizes by F [1]", 1e-6, 1),
        [OPT_IMAGE_SCALE] = CLI_REAL("--image-scale", &a->image_scale, "F",
                                     "multiply image sizes only by F [--scale]", 1e-6, 1),
        [OPT_MODEL] = CLI_CHOICE("--compute-model", &a->model, "M",
                                 "the planner's model: calibrated (each preset's default\n"
                                 "calibration file if present, else exact), exact or peak\n"
                                 "[calibrated]; the cycle check always uses the exact contract,\n"
                                 "the report shows this model's per-device residual",
                                 cli_compute_models),
        [OPT_CALIBRATION] = CLI_STRING("--calibration", &a->calibration, "F,..",
                                       "calibration files instead of the presets' defaults"),
        [OPT_PLAN] = CLI_STRING("--plan", &a->plan, "FILE",
                                "run a plan saved by accpar plan --out (it names the network,\n"
                                "array, batch and strategy; --net and --accels, if given, must be\n"
                                "the ones it was made for)"),
        [OPT_SEED] =
            CLI_INT("--seed", &a->seed, "S", "seed of the generated tensors [1]", 0, INT64_MAX),
        [OPT_JSON] =
            CLI_STRING("--json", &a->json, "PATH", "machine-readable report (written atomically)"),
        [OPT_TRACE] = CLI_STRING("--trace", &a->trace, "DIR",
                                 "timeline.csv of the platform (and waveforms under rtl),\n"
                                 "creating the folder"),
        [OPT_TRACE_LIMIT] = CLI_TRACE_LIMIT(&a->trace_limit_mib),
        [OPT_TRACE_EVENTS] = CLI_STRING("--trace-events", &a->trace_events, "PATH",
                                        "the step's timeline for Perfetto (Chrome trace-event\n"
                                        "JSON): a track per device and per link"),
        [OPT_DEVICE_MIB] = CLI_DEVICE_MIB(&a->device_mib),
        [OPT_JOBS] = CLI_JOBS(&a->jobs),
        [OPT_MODEL_CACHE] = CLI_MODEL_OPTS(&a->model_cache, &a->no_build),
        [OPT_PLACEMENT] = CLI_RANK_OPTS(&a->placement, &a->rank_timeout),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        NULL,
        "Emulates one training step of a network partitioned by the planner over an array of\n"
        "emulated accelerators: every layer's forward, backward and gradient GEMMs split per\n"
        "the plan, reductions and layout conversions moved between device memories over the\n"
        "platform's links. Verifies results against OpenBLAS, converted pieces against their\n"
        "tensors, bytes against the planner, each device's cycles against the closed-form\n"
        "contract (rtl, replay), and reports the planner's model against the counters.\n"
        "With no options: tiny-cnn, batch 32, on 2xtpu-v2,2xtpu-v3 in RTL fidelity.\n"
        "Under mpirun the devices are spread over the ranks; rank 0 reports, exactly as one\n"
        "process would (docs/scale-out.md).",
        opts,
        "Exit status: 0 verified, 1 a check failed, no plan fits the devices' memory or the\n"
        "step the host's (both found before the run), or the run failed, 2 bad usage or input.",
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, a->given);
    if (rc != CLI_RUN)
        return rc;
    static const int from_plan[] = {OPT_BATCH,       OPT_STRATEGY, OPT_SCALE,
                                    OPT_IMAGE_SCALE, OPT_MODEL,    OPT_CALIBRATION};
    for (size_t k = 0; a->plan && k < sizeof from_plan / sizeof from_plan[0]; k++)
        if (a->given[from_plan[k]]) {
            cli_error(CMD, "%s: comes from the plan file given with --plan",
                      opts[from_plan[k]].name);
            return CLI_BAD;
        }
    if (!a->given[OPT_IMAGE_SCALE])
        a->image_scale = a->scale;
    model_cache_configure(a->model_cache, a->no_build);
    a->o.fidelity = (run_fidelity)a->fidelity;
    a->o.seed = (uint64_t)a->seed;
    a->o.trace_dir = a->trace;
    a->o.trace_events = a->trace_events;
    a->o.trace_limit_bytes = (uint64_t)a->trace_limit_mib << 20;
    a->o.jobs = (int)a->jobs;
    a->o.cluster = cli_cluster();
    a->o.rank_timeout_s = a->rank_timeout;
    if (cli_rank() != 0) /* rank 0 writes every output */
        a->json = a->trace = a->trace_events = a->o.trace_dir = a->o.trace_events = NULL;
    return CLI_RUN;
}

static double pct(double part, double whole) {
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* The selected model's error on a device's cycles: (counted - modelled) / modelled. */
static double model_residual(const run_result *r, int d) {
    return r->device_model_cycles[d] > 0
               ? ((double)r->device_cycles[d] - r->device_model_cycles[d]) /
                     r->device_model_cycles[d]
               : NAN;
}

/* What the cycle check means at this fidelity: the golden backend's cycles are the contract. */
static const char *cycles_check(const run_args *a) {
    return a->o.fidelity == RUN_FIDELITY_GOLDEN ? "contract (golden)" : "counters = contract";
}

static void print_layers(const net *g, const run_result *r) {
    const plan *p = r->plan;
    printf("%-12s %-10s %14s %14s %12s %12s  %s\n", "layer", "states", "max cycles", "contract",
           "bytes", "predicted", "OpenBLAS (worst err/bound F E dW)");
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        if (nd->kind == NODE_INPUT)
            continue;
        char states[64] = "";
        size_t used = 0;
        for (int h = 0; h < p->n_levels && used < sizeof states; h++)
            used += (size_t)snprintf(states + used, sizeof states - used, "%s%s", h ? "," : "",
                                     node_state_name(nd->kind, p->levels[h].state[v]));
        uint64_t cyc = 0, contract = 0, bytes = 0, pbytes = 0;
        for (int d = 0; d < r->n_devices; d++) {
            cyc = r->layers[v].cycles[d] > cyc ? r->layers[v].cycles[d] : cyc;
            contract = r->layers[v].contract_cycles[d] > contract ? r->layers[v].contract_cycles[d]
                                                                  : contract;
        }
        for (int h = 0; h < p->n_levels; h++) {
            bytes += r->layers[v].bytes[h];
            pbytes += r->layers[v].predicted_bytes[h];
        }
        printf("%-12s %-10s %14llu %14llu %12llu %12llu ", nd->name, states,
               (unsigned long long)cyc, (unsigned long long)contract, (unsigned long long)bytes,
               (unsigned long long)pbytes);
        for (int ph = 0; ph < PHASES; ph++) {
            if (r->layers[v].checked[ph])
                printf(" %.3f", r->layers[v].check[ph].max_bound_ratio);
            else
                printf(" -");
        }
        printf("\n");
    }
}

/* "0,0,1,1": each device's rank. */
static const char *placement_text(const run_result *r, char *out, size_t len) {
    size_t used = 0;
    out[0] = '\0';
    for (int d = 0; d < r->n_devices && used < len; d++)
        used += (size_t)snprintf(out + used, len - used, "%s%d", d ? "," : "", r->rank_of[d]);
    return out;
}

static void print_report(const run_args *a, const net *g, const accel_array *arr,
                         const run_result *r) {
    const plan *p = r->plan;
    printf("accpar run: %s (scale %g, images %g), batch %lld, %s on %s, %s fidelity\n\n", g->name,
           a->scale, a->image_scale, (long long)p->batch, strategy_name(p->strat), a->accels,
           run_fidelity_name(a->o.fidelity));
    print_layers(g, r);
    printf("\ncompute model of the plan and prediction: %s\n", p->model);
    if (p->fastest_step_s > 0)
        printf("memory: the fastest plan (predicted step %.6g s) does not fit the devices' "
               "memory; this one fits, %+.1f%% predicted step time\n",
               p->fastest_step_s, 100.0 * (p->step_s / p->fastest_step_s - 1));
    printf("%-7s %-10s %14s %14s %14s %9s %8s %11s\n", "device", "preset", "cycles", "contract",
           "model", "residual", "busy", "memory MiB");
    for (int d = 0; d < r->n_devices; d++)
        printf("%-7d %-10s %14llu %14llu %14.0f %+8.2f%% %7.1f%% %11.1f\n", d,
               arr->kinds[arr->kind_of[d]].name, (unsigned long long)r->device_cycles[d],
               (unsigned long long)r->device_contract_cycles[d], r->device_model_cycles[d],
               100.0 * model_residual(r, d), pct(r->device_compute_s[d], r->simulated_step_s),
               (double)r->device_mem_peak[d] / 1048576.0);
    printf("\nstep time: simulated %.6g s (compute %.6g s, communication %.6g s), predicted "
           "%.6g s, residual %+.2f%%\n",
           r->simulated_step_s, r->simulated_compute_s, r->simulated_comm_s, r->predicted_step_s,
           pct(r->simulated_step_s - r->predicted_step_s, r->predicted_step_s));
    printf("bytes between devices: %llu delivered in %llu transfers (links carried %llu), "
           "predicted %llu; host DMA %llu\n",
           (unsigned long long)r->bytes_moved, (unsigned long long)r->transfers,
           (unsigned long long)r->link_bytes, (unsigned long long)r->predicted_bytes,
           (unsigned long long)r->host_bytes);
    if (r->ranks > 1)
        printf("ranks: %d (devices on ranks %s); rank 0 exchanged %llu payload bytes in %llu "
               "messages\n",
               r->ranks, placement_text(r, (char[1024]){0}, 1024),
               (unsigned long long)r->rank_bytes, (unsigned long long)r->rank_messages);
    if (a->trace && r->trace_estimate_bytes)
        printf("trace: %s/timeline.csv and a waveform per device (estimated at %.1f MiB before "
               "the run)\n",
               a->trace, (double)r->trace_estimate_bytes / (1 << 20));
    else if (a->trace)
        printf("trace: %s/timeline.csv\n", a->trace);
    if (r->verified)
        printf("verification: passed (OpenBLAS bound on F, E, dW; converted pieces element by "
               "element; reductions bit-identical in both groups; bytes per layer, level and "
               "group; cycles: %s)\n",
               cycles_check(a));
    else
        printf("verification: FAILED: %s\n", r->failure);
}

static int write_json(const run_args *a, const net *g, const accel_array *arr,
                      const run_result *r) {
    json_out j = {0};
    json_begin_object(&j, NULL);
    json_str(&j, "net", g->name);
    json_str(&j, "accels", a->accels);
    json_int(&j, "batch", r->plan->batch);
    json_str(&j, "strategy", strategy_name(r->plan->strat));
    json_str(&j, "model", r->plan->model);
    json_str(&j, "fidelity", run_fidelity_name(a->o.fidelity));
    json_num(&j, "scale", a->scale);
    json_num(&j, "image_scale", a->image_scale);
    json_int(&j, "seed", a->seed);
    json_bool(&j, "verified", r->verified);
    json_str(&j, "failure", r->failure);
    json_str(&j, "cycles_check", cycles_check(a));
    json_num(&j, "simulated_step_s", r->simulated_step_s);
    json_num(&j, "predicted_step_s", r->predicted_step_s);
    json_num(&j, "fastest_step_s",
             r->plan->fastest_step_s > 0 ? r->plan->fastest_step_s : r->predicted_step_s);
    json_num(&j, "simulated_compute_s", r->simulated_compute_s);
    json_num(&j, "simulated_comm_s", r->simulated_comm_s);
    json_int(&j, "bytes_moved", (int64_t)r->bytes_moved);
    json_int(&j, "link_bytes", (int64_t)r->link_bytes);
    json_int(&j, "predicted_bytes", (int64_t)r->predicted_bytes);
    json_int(&j, "host_bytes", (int64_t)r->host_bytes);
    json_int(&j, "host_memory_bytes", (int64_t)r->host_memory_bytes);
    json_uint(&j, "trace_estimate_bytes", r->trace_estimate_bytes);
    json_int(&j, "transfers", (int64_t)r->transfers);
    json_uint(&j, "macs", r->macs);
    json_begin_object(&j, "ranks");
    json_int(&j, "count", r->ranks);
    json_begin_array(&j, "placement");
    for (int d = 0; d < r->n_devices; d++)
        json_int(&j, NULL, r->rank_of[d]);
    json_end_array(&j);
    json_uint(&j, "payload_bytes", r->rank_bytes);
    json_uint(&j, "messages", r->rank_messages);
    json_end_object(&j);
    json_begin_array(&j, "devices");
    for (int d = 0; d < r->n_devices; d++) {
        json_begin_object(&j, NULL);
        json_int(&j, "index", d);
        json_str(&j, "preset", arr->kinds[arr->kind_of[d]].name);
        json_int(&j, "cycles", (int64_t)r->device_cycles[d]);
        json_int(&j, "contract_cycles", (int64_t)r->device_contract_cycles[d]);
        json_num(&j, "model_cycles", r->device_model_cycles[d]);
        json_num(&j, "model_residual", model_residual(r, d));
        json_num(&j, "busy",
                 r->simulated_step_s > 0 ? r->device_compute_s[d] / r->simulated_step_s : 0);
        json_uint(&j, "memory_resident_bytes", r->device_mem_resident[d]);
        json_uint(&j, "memory_peak_bytes", r->device_mem_peak[d]);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_begin_array(&j, "layers");
    for (int v = 0; v < g->n; v++) {
        if (g->nodes[v].kind == NODE_INPUT)
            continue;
        json_begin_object(&j, NULL);
        json_str(&j, "name", g->nodes[v].name);
        json_begin_array(&j, "states");
        for (int h = 0; h < r->n_levels; h++)
            json_str(&j, NULL, node_state_name(g->nodes[v].kind, r->plan->levels[h].state[v]));
        json_end_array(&j);
        json_begin_array(&j, "bytes");
        for (int h = 0; h < r->n_levels; h++)
            json_int(&j, NULL, (int64_t)r->layers[v].bytes[h]);
        json_end_array(&j);
        json_begin_array(&j, "predicted_bytes");
        for (int h = 0; h < r->n_levels; h++)
            json_int(&j, NULL, (int64_t)r->layers[v].predicted_bytes[h]);
        json_end_array(&j);
        json_begin_array(&j, "cycles");
        for (int d = 0; d < r->n_devices; d++)
            json_int(&j, NULL, (int64_t)r->layers[v].cycles[d]);
        json_end_array(&j);
        json_begin_array(&j, "bound_ratio");
        for (int ph = 0; ph < PHASES; ph++)
            json_num(&j, NULL,
                     r->layers[v].checked[ph] ? r->layers[v].check[ph].max_bound_ratio : NAN);
        json_end_array(&j);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    return cli_write_json(CMD, &j, a->json);
}

/* The outputs, declared before the run (the runtime declares the trace folder's files). */
static int check_outputs(const run_args *a) {
    struct stat st;
    if (a->trace && mkdir(a->trace, 0777) != 0 &&
        (stat(a->trace, &st) != 0 || !S_ISDIR(st.st_mode))) {
        cli_error(CMD, "--trace: %s: cannot create the folder: %s", a->trace, strerror(errno));
        return -1;
    }
    return a->json ? cli_declare_output(CMD, "--json", a->json) : 0;
}

/* The plan: made for the network and array, or loaded from --plan (which sets the network,
 * array and scales it was made for, unless --net or --accels override where they are found). */
static int make_plan(run_args *a, net *g, accel_array *arr, plan *p) {
    char err[1400] = "";
    plan_file f;
    const char *model = cli_compute_models[a->model];
    if (a->plan) {
        if (plan_file_read(a->plan, &f, err, sizeof err) != 0) {
            cli_error(CMD, "%s", err);
            return -1;
        }
        a->saved = f.meta;
        a->net = a->given[OPT_NET] ? a->net : a->saved.net;
        a->accels = a->given[OPT_ACCELS] ? a->accels : a->saved.accels;
        a->scale = a->saved.scale;
        a->image_scale = a->saved.image_scale;
        model = a->saved.compute_model;
        a->calibration = a->saved.calibration[0] ? a->saved.calibration : NULL;
    }
    int rc = cli_load_array(CMD, a->accels, model, a->calibration, a->device_mib, arr) != 0 ||
                     cli_load_net(CMD, a->net, a->scale, a->image_scale, g) != 0
                 ? -1
                 : 0;
    if (rc == 0 && check_outputs(a) != 0)
        rc = -1;
    else if (rc == 0 && a->plan) {
        rc = plan_file_plan(&f, g, arr, p, err, sizeof err);
    } else if (rc == 0) {
        plan_options po = {.strat = (strategy)a->strat, .batch = a->batch};
        rc = plan_make(g, arr, &po, p, err, sizeof err);
    }
    if (a->plan)
        plan_file_free(&f);
    if (rc != 0 && err[0])
        cli_error(CMD, "%s", err);
    return rc;
}

int cli_run(int argc, char **argv) {
    run_args a;
    int pr = parse(argc, argv, &a);
    if (cli_ranks_agree(CMD, pr == CLI_BAD ? -1 : 0) != 0 || pr != CLI_RUN)
        return pr == CLI_DONE ? 0 : EXIT_USAGE;
    static accel_array arr;
    net g = {0};
    plan p = {0};
    char err[1024] = "";
    int planned = make_plan(&a, &g, &arr, &p);
    if (cli_ranks_agree(CMD, planned) != 0) {
        plan_free(&p);
        net_free(&g);
        return cli_finish(CMD, planned == PLAN_NO_FIT ? EXIT_CHECK_FAILED : EXIT_USAGE);
    }
    int *rank_of = malloc(sizeof(int) * (size_t)arr.n);
    a.o.placement = rank_of;
    int placed = rank_of ? cli_placement(CMD, a.placement, arr.n, rank_of) : -1;
    if (cli_ranks_agree(CMD, placed) != 0 ||
        cli_ranks_same(CMD, run_inputs_digest(&g, &arr, &p, &a.o)) != 0) {
        free(rank_of);
        plan_free(&p);
        net_free(&g);
        return cli_finish(CMD, EXIT_USAGE);
    }
    if (isatty(2) && cli_rank() == 0) {
        a.o.progress = cli_progress;
        a.o.progress_ctx = "GEMMs";
    }
    run_result r;
    int rc = run_step(&g, &arr, &p, &a.o, &r, err, sizeof err);
    int status = 0;
    if (rc != 0) {
        cli_error(CMD, "%s", err);
        status = rc == RUN_FAILED ? EXIT_CHECK_FAILED : EXIT_USAGE;
    } else if (cli_rank() != 0) { /* the step's outcome on rank 0 */
        status = r.verified ? 0 : EXIT_CHECK_FAILED;
        run_result_free(&r);
    } else {
        print_report(&a, &g, &arr, &r);
        status = r.verified ? 0 : EXIT_CHECK_FAILED;
        if (a.json && write_json(&a, &g, &arr, &r) != 0)
            status = EXIT_USAGE;
        run_result_free(&r);
    }
    free(rank_of);
    plan_free(&p);
    net_free(&g);
    return cli_finish(CMD, status);
}
