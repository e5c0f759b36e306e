/* accpar gemm: one GEMM on one emulated device, checked three ways (docs/cli.md). */
#include "bf16.h"
#include "cli.h"
#include "cli_args.h"
#include "model_cache.h"
#include "gemm.h"
#include "host_memory.h"
#include "json.h"
#include "npy.h"
#include "output_set.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const CMD = "gemm";

typedef struct gemm_opts {
    const char *accel, *trace, *dump, *json, *model_cache;
    int no_build;
    int64_t m, k, n, seed, trace_limit_mib;
    int trans_a, trans_b, accumulate;
    int backend; /* accel_backend */
} gemm_opts;

typedef struct gemm_outcome {
    accel_preset preset;
    gemm_run_stats stats;
    gemm_check blas;
    int bit_exact, bit_exact_checked, cycles_match;
    char golden_note[256];
} gemm_outcome;

/* Returns CLI_RUN, CLI_DONE after --help, CLI_BAD on a usage error (already reported). */
static int parse(int argc, char **argv, gemm_opts *o) {
    *o = (gemm_opts){.accel = "tpu-v2",
                     .m = 128,
                     .k = 128,
                     .n = 128,
                     .seed = 1,
                     .backend = ACCEL_BACKEND_RTL,
                     .trace_limit_mib = CLI_TRACE_LIMIT_DEFAULT_MIB};
    const cli_opt opts[] = {
        CLI_STRING("--accel", &o->accel, "PRESET",
                   "preset name (models/accelerators/NAME.acc) or path [tpu-v2]"),
        CLI_INT("--m", &o->m, "M", "GEMM shape, each 1..65536 [128 each]", 1, 65536),
        CLI_INT("--k", &o->k, "K", "", 1, 65536),
        CLI_INT("--n", &o->n, "N", "", 1, 65536),
        CLI_FLAG("--trans-a", &o->trans_a, "A is stored K x M (op(A) = A^T)"),
        CLI_FLAG("--trans-b", &o->trans_b, "B is stored N x K (op(B) = B^T)"),
        CLI_FLAG("--accumulate", &o->accumulate, "add into a random C instead of overwriting it"),
        CLI_CHOICE("--backend", &o->backend, "B",
                   "rtl (verilated, the default), golden (C model) or replay\n"
                   "(golden numerics, each command shape timed once on rtl)",
                   accel_backend_names),
        CLI_INT("--seed", &o->seed, "S", "input seed [1]", 0, INT64_MAX),
        CLI_STRING("--trace", &o->trace, "FILE",
                   "waveform of the run (rtl; .vcd, or .fst in an FST build)"),
        CLI_TRACE_LIMIT(&o->trace_limit_mib),
        CLI_STRING("--dump", &o->dump, "DIR",
                   "write a.npy, b.npy (inputs as stored) and c.npy (result)"),
        CLI_STRING("--json", &o->json, "PATH", "machine-readable report"),
        CLI_MODEL_OPTS(&o->model_cache, &o->no_build),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        NULL,
        "Runs C = op(A) op(B) (+ C) with random bf16 inputs on one emulated accelerator and\n"
        "checks it: bit for bit against the golden model, within the error bound against\n"
        "OpenBLAS sgemm, and its cycles against the closed form.",
        opts,
        "Exit status: 0 all checks passed, 1 a check failed or the GEMM does not fit the device\n"
        "or host memory (checked before anything is allocated), 2 bad usage.",
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    model_cache_configure(o->model_cache, o->no_build);
    if (rc == CLI_RUN && o->trace && o->backend != ACCEL_BACKEND_RTL) {
        cli_error(CMD, "--trace: waveforms need --backend rtl");
        return CLI_BAD;
    }
    return rc;
}

/* Runs the GEMM on one backend into c (initialised from c_in when accumulating); progress and
 * trace may be NULL. */
static int run_backend(const gemm_progress *progress, const accel_preset *p, accel_backend backend,
                       gemm_args g, const float *c_in, float *c, gemm_run_stats *stats,
                       const char *trace, char *err, size_t errlen) {
    accel_dev *dev;
    if (accel_open(p, backend, &dev, err, errlen) != ACCEL_OK)
        return -1;
    if (trace && accel_trace(dev, trace) != ACCEL_OK) {
        snprintf(err, errlen, "--trace: %s", accel_last_error(dev));
        accel_close(dev);
        return -1;
    }
    if (c_in)
        memcpy(c, c_in, (size_t)(g.m * g.n) * sizeof *c);
    g.c = c;
    int rc = gemm_run_reporting(dev, &g, progress, stats, err, errlen);
    accel_close(dev);
    return rc;
}

static int bits_equal(const float *x, const float *y, size_t n, char *note, size_t len,
                      int64_t cols) {
    for (size_t i = 0; i < n; i++) {
        if (float_bits(x[i]) != float_bits(y[i])) {
            snprintf(note, len, "C[%lld][%lld]: rtl 0x%08x, golden 0x%08x",
                     (long long)(i / (size_t)cols), (long long)(i % (size_t)cols), float_bits(x[i]),
                     float_bits(y[i]));
            return 0;
        }
    }
    return 1;
}

static int same_cycles(const cycle_breakdown *x, const cycle_breakdown *y) {
    return x->total == y->total && x->busy == y->busy && x->stall == y->stall &&
           x->commands == y->commands && x->macs == y->macs;
}

static void print_human(const gemm_opts *o, const gemm_outcome *r) {
    const accel_preset *p = &r->preset;
    const cycle_breakdown *cb = &r->stats.cycles;
    double useful = (double)o->m * (double)o->k * (double)o->n;
    printf("GEMM %lldx%lldx%lld%s%s%s on %s (%dx%d x%d MXUs, %.0f MHz), backend %s\n",
           (long long)o->m, (long long)o->k, (long long)o->n, o->trans_a ? " A^T" : "",
           o->trans_b ? " B^T" : "", o->accumulate ? " +C" : "", p->name, p->array_rows,
           p->array_cols, p->mxus, p->clock_mhz, accel_backend_name(o->backend));
    printf("  cycles        %llu (closed form %llu: %s)\n", (unsigned long long)cb->total,
           (unsigned long long)r->stats.formula.total, r->cycles_match ? "equal" : "DIFFERENT");
    printf("  breakdown     busy %llu, memory stall %llu, issue %llu (%llu commands)\n",
           (unsigned long long)cb->busy, (unsigned long long)cb->stall,
           (unsigned long long)cb->commands, (unsigned long long)cb->commands);
    printf("  time          %.3f us at %.0f MHz\n", model_seconds(p, cb->total) * 1e6,
           p->clock_mhz);
    printf("  utilization   %.1f %% (%.0f useful MACs of %llu PE-cycles)\n",
           100.0 * useful / ((double)cb->total * (double)preset_macs_per_cycle(p)), useful,
           (unsigned long long)(cb->total * (uint64_t)preset_macs_per_cycle(p)));
    if (r->bit_exact_checked)
        printf("  golden model  %s%s%s\n", r->bit_exact ? "bit-exact" : "MISMATCH ",
               r->bit_exact ? "" : r->golden_note, "");
    else
        printf("  golden model  (the %s backend computes with it)\n",
               accel_backend_name(o->backend));
    printf("  OpenBLAS      max |err| %.3g, max err/bound %.3g: %s%s\n", r->blas.max_abs_err,
           r->blas.max_bound_ratio, r->blas.passed ? "within bound" : "OUT OF BOUND: ",
           r->blas.passed ? "" : r->blas.message);
}

static int write_json(const gemm_opts *o, const gemm_outcome *r, int passed) {
    const accel_preset *p = &r->preset;
    const cycle_breakdown *cb = &r->stats.cycles;
    double useful = (double)o->m * (double)o->k * (double)o->n;
    json_out j = {0};
    json_begin_object(&j, NULL);
    json_str(&j, "preset", p->name);
    json_str(&j, "backend", accel_backend_name(o->backend));
    json_int(&j, "array_rows", p->array_rows);
    json_int(&j, "array_cols", p->array_cols);
    json_int(&j, "mxus", p->mxus);
    json_num(&j, "clock_mhz", p->clock_mhz);
    json_int(&j, "m", o->m);
    json_int(&j, "k", o->k);
    json_int(&j, "n", o->n);
    json_bool(&j, "trans_a", o->trans_a);
    json_bool(&j, "trans_b", o->trans_b);
    json_bool(&j, "accumulate", o->accumulate);
    json_int(&j, "seed", o->seed);
    json_int(&j, "cycles", (int64_t)cb->total);
    json_int(&j, "formula_cycles", (int64_t)r->stats.formula.total);
    json_bool(&j, "cycles_match", r->cycles_match);
    json_int(&j, "busy_cycles", (int64_t)cb->busy);
    json_int(&j, "stall_cycles", (int64_t)cb->stall);
    json_int(&j, "commands", (int64_t)cb->commands);
    json_num(&j, "time_s", model_seconds(p, cb->total));
    json_num(&j, "macs", useful);
    json_int(&j, "pe_macs_issued", (int64_t)cb->macs);
    json_num(&j, "utilization", useful / ((double)cb->total * (double)preset_macs_per_cycle(p)));
    json_bool(&j, "bit_exact", r->bit_exact);
    json_bool(&j, "bit_exact_checked", r->bit_exact_checked);
    json_num(&j, "max_abs_err", r->blas.max_abs_err);
    json_num(&j, "max_bound_ratio", r->blas.max_bound_ratio);
    json_bool(&j, "blas_within_bound", r->blas.passed);
    json_int(&j, "bytes_to_device", (int64_t)r->stats.bytes_to_device);
    json_int(&j, "bytes_from_device", (int64_t)r->stats.bytes_from_device);
    json_bool(&j, "passed", passed);
    json_end_object(&j);
    return cli_write_json(CMD, &j, o->json);
}

static const char *const DUMP_NAMES[3] = {"a.npy", "b.npy", "c.npy"};

static void dump_path(const gemm_opts *o, int i, char *path, size_t len) {
    snprintf(path, len, "%s/%s", o->dump, DUMP_NAMES[i]);
}

/* Declares the outputs (--json, --trace, --dump's files, creating its folder) before the work. */
static int declare_outputs(const gemm_opts *o) {
    char path[4096];
    if ((o->json && cli_declare_output(CMD, "--json", o->json) != 0) ||
        (o->trace && cli_declare_output(CMD, "--trace", o->trace) != 0))
        return -1;
    if (!o->dump)
        return 0;
    struct stat st;
    if (mkdir(o->dump, 0777) != 0 && (stat(o->dump, &st) != 0 || !S_ISDIR(st.st_mode))) {
        cli_error(CMD, "--dump: %s: cannot create the folder: %s", o->dump, strerror(errno));
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        dump_path(o, i, path, sizeof path);
        if (cli_declare_output(CMD, "--dump", path) != 0)
            return -1;
    }
    return 0;
}

static int dump(const gemm_opts *o, const float *a, const float *b, const float *c) {
    char path[4096], err[512];
    const struct {
        const float *data;
        int64_t rows, cols;
    } files[] = {{a, o->trans_a ? o->k : o->m, o->trans_a ? o->m : o->k},
                 {b, o->trans_b ? o->n : o->k, o->trans_b ? o->k : o->n},
                 {c, o->m, o->n}};
    for (int i = 0; i < 3; i++) {
        dump_path(o, i, path, sizeof path);
        if (npy_write_f32(path, files[i].data, files[i].rows, files[i].cols, err, sizeof err)) {
            cli_error(CMD, "--dump %s", err);
            return -1;
        }
    }
    return 0;
}

static int check_all(const gemm_opts *o, gemm_outcome *r, const gemm_args *g, const float *c_in,
                     const float *c) {
    char err[512];
    r->cycles_match = same_cycles(&r->stats.cycles, &r->stats.formula);
    r->bit_exact = 1;
    if (o->backend == ACCEL_BACKEND_RTL) {
        float *gold = malloc((size_t)(o->m * o->n) * sizeof *gold);
        gemm_run_stats gs;
        if (!gold || run_backend(NULL, &r->preset, ACCEL_BACKEND_GOLDEN, *g, c_in, gold, &gs, NULL,
                                 err, sizeof err)) {
            cli_error(CMD, "golden model: %s", gold ? err : "out of host memory");
            free(gold);
            return -1;
        }
        r->bit_exact_checked = 1;
        r->bit_exact =
            bits_equal(c, gold, (size_t)(o->m * o->n), r->golden_note, sizeof r->golden_note, o->n);
        r->cycles_match = r->cycles_match && same_cycles(&r->stats.cycles, &gs.cycles);
        free(gold);
    }
    if (gemm_check_blas(g, c_in, c, &r->blas)) {
        cli_error(CMD, "%s", r->blas.message);
        return -1;
    }
    return 0;
}

/* Refuses a GEMM whose operands do not fit the device memory or whose buffers (the fp32 operands,
 * the golden copy, the check's fp64 magnitudes and reference, the packed operands and the device
 * memory they touch) do not fit this machine, before allocating any of them. */
/* --trace's waveform, estimated from the closed-form cycles, against --trace-limit-mib. */
static int check_trace_size(const gemm_opts *o, const accel_preset *p) {
    gemm_schedule s;
    cycle_breakdown cb;
    char err[512];
    if (!o->trace || !o->trace_limit_mib ||
        gemm_schedule_make(p, o->m, o->k, o->n, o->accumulate, &s, err, sizeof err) != 0)
        return 0; /* a shape the device refuses is reported by check_sizes */
    gemm_cycles_closed_form(&s, &cb);
    uint64_t bytes = accel_trace_bytes_estimate(p, cb.total);
    if (bytes <= ((uint64_t)o->trace_limit_mib << 20))
        return 0;
    cli_error(CMD,
              "--trace: the waveform would take about %.0f MiB (%llu cycles), above the limit of "
              "%lld MiB (--trace-limit-mib)",
              (double)bytes / (1 << 20), (unsigned long long)cb.total,
              (long long)o->trace_limit_mib);
    return -1;
}

static int check_sizes(const gemm_opts *o, const accel_preset *p, char *err, size_t errlen) {
    gemm_schedule s;
    if (gemm_schedule_make(p, o->m, o->k, o->n, o->accumulate, &s, err, errlen) != 0 ||
        gemm_fits_device(&s, err, errlen) != 0)
        return -1;
    gemm_operands ops;
    gemm_operands_of(&s, &ops);
    uint64_t ab =
        sat_add(sat_mul((uint64_t)o->m, (uint64_t)o->k), sat_mul((uint64_t)o->k, (uint64_t)o->n));
    uint64_t c_bufs = 16 + (o->accumulate ? 4 : 0) + (o->backend == ACCEL_BACKEND_RTL ? 4 : 0);
    uint64_t need =
        sat_add(sat_add(sat_mul(ab, 12), sat_mul(sat_mul((uint64_t)o->m, (uint64_t)o->n), c_bufs)),
                sat_mul(gemm_operand_bytes(&ops), 2));
    char what[128];
    snprintf(what, sizeof what, "a %lldx%lldx%lld GEMM", (long long)o->m, (long long)o->k,
             (long long)o->n);
    return host_memory_check(what, need, err, errlen);
}

int cli_gemm(int argc, char **argv) {
    gemm_opts o;
    int st = parse(argc, argv, &o);
    if (st)
        return st > 0 ? 0 : EXIT_USAGE;
    gemm_outcome r;
    memset(&r, 0, sizeof r);
    char err[1024];
    if (preset_find(o.accel, &r.preset, err, sizeof err)) {
        cli_error(CMD, "--accel: %s", err);
        return EXIT_USAGE;
    }
    if (check_trace_size(&o, &r.preset) != 0)
        return EXIT_USAGE;
    if (check_sizes(&o, &r.preset, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        return EXIT_FAILURE;
    }
    if (declare_outputs(&o) != 0)
        return cli_finish(CMD, EXIT_USAGE);
    size_t na = (size_t)(o.m * o.k), nb = (size_t)(o.k * o.n), nc = (size_t)(o.m * o.n);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c_in = o.accumulate ? malloc(nc * sizeof *c_in) : NULL, *c = malloc(nc * sizeof *c);
    int rc = EXIT_USAGE;
    if (!a || !b || !c || (o.accumulate && !c_in)) {
        cli_error(CMD, "out of host memory for a %lldx%lldx%lld GEMM", (long long)o.m,
                  (long long)o.k, (long long)o.n);
        goto out;
    }
    uint64_t rng = (uint64_t)o.seed;
    for (size_t i = 0; i < na; i++)
        a[i] = bf16_random(&rng);
    for (size_t i = 0; i < nb; i++)
        b[i] = bf16_random(&rng);
    for (size_t i = 0; c_in && i < nc; i++)
        c_in[i] = bf16_random(&rng);
    gemm_args g = {.m = o.m,
                   .k = o.k,
                   .n = o.n,
                   .trans_a = o.trans_a,
                   .trans_b = o.trans_b,
                   .accumulate = o.accumulate,
                   .a = a,
                   .b = b};
    gemm_progress bar = {cli_progress, (void *)"commands"};
    if (run_backend(isatty(2) ? &bar : NULL, &r.preset, o.backend, g, c_in, c, &r.stats,
                    o.trace ? output_temp(o.trace) : NULL, err, sizeof err)) {
        cli_error(CMD, "%s", err);
        goto out;
    }
    if (check_all(&o, &r, &g, c_in, c))
        goto out;
    int passed = r.cycles_match && r.bit_exact && r.blas.passed;
    print_human(&o, &r);
    if ((o.json && write_json(&o, &r, passed)) || (o.dump && dump(&o, a, b, c)))
        goto out;
    rc = passed ? 0 : EXIT_CHECK_FAILED;
out:
    free(a);
    free(b);
    free(c_in);
    free(c);
    return cli_finish(CMD, rc);
}
