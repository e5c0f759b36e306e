/* The command word and the device's error codes, from the generated accel_isa.h. */
#include "accel_backend.h"

#include <string.h>

/* Sets bits [lsb, lsb + width) of the word array to value. */
static void put(uint32_t *words, int lsb, int width, uint64_t value) {
    for (int b = 0; b < width; b++)
        if (value >> b & 1u)
            words[(lsb + b) / 32] |= 1u << ((lsb + b) % 32);
}

void accel_cmd_pack(const accel_cmd *c, uint32_t port_bytes, uint32_t words[ACCEL_CMD_WORDS]) {
    memset(words, 0, sizeof(uint32_t) * ACCEL_CMD_WORDS);
    put(words, ACCEL_CMD_OP_LSB, ACCEL_CMD_OP_WIDTH, (uint64_t)c->op);
    put(words, ACCEL_CMD_FLAGS_LSB, ACCEL_CMD_FLAGS_WIDTH, c->accumulate ? 1u : 0u);
    put(words, ACCEL_CMD_MXUS_LSB, ACCEL_CMD_MXUS_WIDTH, c->mxus);
    put(words, ACCEL_CMD_MXU_LSB, ACCEL_CMD_MXU_WIDTH, c->mxu);
    put(words, ACCEL_CMD_ROWS_LSB, ACCEL_CMD_ROWS_WIDTH, c->rows);
    put(words, ACCEL_CMD_ACT_OFF_LSB, ACCEL_CMD_ACT_OFF_WIDTH, c->act_off);
    put(words, ACCEL_CMD_ACC_OFF_LSB, ACCEL_CMD_ACC_OFF_WIDTH, c->acc_off);
    put(words, ACCEL_CMD_ADDR_LSB, ACCEL_CMD_ADDR_WIDTH, c->addr / port_bytes);
    put(words, ACCEL_CMD_PF_ADDR_LSB, ACCEL_CMD_PF_ADDR_WIDTH, c->pf_addr / port_bytes);
    put(words, ACCEL_CMD_PF_MXUS_LSB, ACCEL_CMD_PF_MXUS_WIDTH, c->pf_mxus);
}

typedef struct error_desc {
    unsigned code;
    const char *name, *meaning;
} error_desc;

#define ERROR_ENTRY(code, name, meaning) {code, name, meaning},
static const error_desc ERRORS[] = {ACCEL_ISA_ERRORS(ERROR_ENTRY)};
#undef ERROR_ENTRY

static const error_desc *find(unsigned code) {
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
        if (ERRORS[i].code == code)
            return &ERRORS[i];
    return NULL;
}

const char *accel_error_name(unsigned code) {
    const error_desc *e = find(code);
    return e ? e->name : "unknown";
}

const char *accel_error_meaning(unsigned code) {
    const error_desc *e = find(code);
    return e ? e->meaning : "a code rtl/accel_pkg.sv does not define";
}
