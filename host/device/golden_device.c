/* The golden backend: the accelerator's commands in C, with the RTL's numerics bit for bit
 * (bf16.c) and its cycles from the closed-form timing contract (planner/hw/systolic_model.c). */
#include "accel_backend.h"
#include "bf16.h"
#include "clones.h"
#include "golden_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct golden {
    accel_preset p;
    uint8_t *mem;
    float *act;       /* [act_rows + GOLDEN_ROWS_BLOCK][R], as the PEs read them (the extra
                         rows: a MATMUL's last block of rows may read past act_rows) */
    uint32_t *acc;    /* [mxus][acc_rows][C] fp32 bits */
    uint16_t *shadow; /* [mxus][R][C] */
    float *weights;   /* [mxus][R][c_pad], as the PEs read them, zero past C */
    size_t c_pad;     /* C rounded up to the kernel's column block */
    cycle_breakdown cb;
} golden;

static void golden_close(void *state) {
    golden *g = state;
    if (!g)
        return;
    free(g->act);
    free(g->acc);
    free(g->shadow);
    free(g->weights);
    free(g);
}

static int golden_open(const accel_preset *p, uint8_t *memory, uint64_t mem_bytes, void **state,
                       char *err, size_t errlen) {
    (void)mem_bytes;
    golden *g = calloc(1, sizeof *g);
    size_t R = (size_t)p->array_rows, tile = R * (size_t)p->array_cols;
    if (g) {
        g->p = *p;
        g->mem = memory;
        g->c_pad =
            ((size_t)p->array_cols + GOLDEN_COLS_BLOCK - 1) / GOLDEN_COLS_BLOCK * GOLDEN_COLS_BLOCK;
        g->act = calloc(((size_t)p->act_buffer_rows + GOLDEN_ROWS_BLOCK) * R, sizeof *g->act);
        g->acc = calloc((size_t)p->mxus * (size_t)p->acc_buffer_rows * (size_t)p->array_cols,
                        sizeof *g->acc);
        g->shadow = calloc((size_t)p->mxus * tile, sizeof *g->shadow);
        g->weights = calloc((size_t)p->mxus * R * g->c_pad, sizeof *g->weights);
    }
    if (!g || !g->act || !g->acc || !g->shadow || !g->weights) {
        golden_close(g);
        snprintf(err, errlen, "golden: out of host memory for preset '%s'", p->name);
        return -1;
    }
    *state = g;
    return 0;
}

/* n bf16 values from device memory as the PEs read them (bit operations only: any vector width
 * gives the same values). */
static CPU_CLONES void load_rows(float *to, const uint8_t *from, size_t n) {
    for (size_t e = 0; e < n; e++) {
        uint16_t b;
        memcpy(&b, from + 2 * e, sizeof b);
        to[e] = accel_operand(bf16_to_float(b));
    }
}

static uint32_t *acc_row(golden *g, uint32_t mxu, uint32_t row) {
    return g->acc + ((size_t)mxu * (size_t)g->p.acc_buffer_rows + row) * (size_t)g->p.array_cols;
}

/* The MXUs' work: the weights as operands (padded with zeros to the kernel's column blocks),
 * then each MXU's tile in golden_kernel.c, in the array's order. */
static void matmul(golden *g, const accel_cmd *c) {
    const size_t R = (size_t)g->p.array_rows, C = (size_t)g->p.array_cols;
    for (size_t row = 0; row < c->mxus * R; row++)
        load_rows(g->weights + row * g->c_pad, (const uint8_t *)(g->shadow + row * C), C);
    if (c->pf_mxus)
        memcpy(g->shadow, g->mem + c->pf_addr, (size_t)c->pf_mxus * R * C * sizeof *g->shadow);
    golden_rows rows;
    golden_rows_scan(&rows, g->act + (size_t)c->act_off * R, (int)c->rows, (int)R);
    for (uint32_t x = 0; x < c->mxus; x++)
        golden_tile(&rows, g->weights + x * R * g->c_pad, g->c_pad, (int)C, c->accumulate,
                    acc_row(g, x, c->acc_off), C);
}

static int golden_execute(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    golden *g = state;
    const accel_preset *p = &g->p;
    const uint64_t R = (uint64_t)p->array_rows, C = (uint64_t)p->array_cols;
    for (size_t i = 0; i < n; i++) {
        const accel_cmd *c = &cmds[i];
        uint64_t acc_bytes = (uint64_t)c->rows * 4u * C;
        switch (c->op) {
        case ACCEL_LOAD_A:
            load_rows(g->act + (size_t)c->act_off * R, g->mem + c->addr, (size_t)c->rows * R);
            model_add_load(p, (uint64_t)c->rows * 2u * R, 1, &g->cb);
            break;
        case ACCEL_LOAD_W:
            memcpy(g->shadow, g->mem + c->addr, (size_t)c->mxus * 2u * R * C);
            model_add_load(p, (uint64_t)c->mxus * 2u * R * C, 1, &g->cb);
            break;
        case ACCEL_LOAD_ACC:
            memcpy(acc_row(g, c->mxu, c->acc_off), g->mem + c->addr, acc_bytes);
            model_add_load(p, acc_bytes, 1, &g->cb);
            break;
        case ACCEL_MATMUL:
            matmul(g, c);
            model_add_matmul(p, c->rows, (int)c->mxus, (int)c->pf_mxus, 1, &g->cb);
            break;
        case ACCEL_STORE:
            /* the port writes whole words: the rest of the last one is zero, as on the RTL */
            memset(
                g->mem + c->addr + acc_bytes, 0,
                (size_t)(model_words(p, acc_bytes) * (uint64_t)p->mem_bytes_per_cycle - acc_bytes));
            memcpy(g->mem + c->addr, acc_row(g, c->mxu, c->acc_off), acc_bytes);
            model_add_store(p, acc_bytes, 1, &g->cb);
            break;
        }
    }
    return 0;
}

static void golden_counters(void *state, cycle_breakdown *out) {
    *out = ((golden *)state)->cb;
}

const accel_backend_ops accel_golden_ops = {golden_open, golden_close, golden_execute,
                                            golden_counters, NULL};
