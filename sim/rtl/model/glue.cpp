// The C++ side of a verilated accelerator model (rtl_model_abi.h): compiled into each model's
// shared object together with the model Verilator generated (prefix Vaccel). It clocks accel_top,
// feeds its command port back to back and serves its memory port from device memory with one
// cycle of read latency (docs/accelerator.md, "The cycle window").
#include "Vaccel.h"
#include "rtl_model_abi.h"

#include <verilated.h>
#if VM_TRACE_FST
#include <verilated_fst_c.h>
using TraceFile = VerilatedFstC;
static const char *const trace_suffix = ".fst";
#else
#include <verilated_vcd_c.h>
using TraceFile = VerilatedVcdC;
static const char *const trace_suffix = ".vcd";
#endif

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace {

// Byte copies between device memory and a port signal of any width (little-endian host).
template <class T> void port_from_bytes(T &sig, const uint8_t *src, size_t n) {
    sig = 0;
    std::memcpy(&sig, src, n);
}
template <std::size_t W> void port_from_bytes(VlWide<W> &sig, const uint8_t *src, size_t n) {
    std::memcpy(sig.data(), src, n);
}
template <class T> void port_to_bytes(const T &sig, uint8_t *dst, size_t n) {
    std::memcpy(dst, &sig, n);
}
template <std::size_t W> void port_to_bytes(const VlWide<W> &sig, uint8_t *dst, size_t n) {
    std::memcpy(dst, sig.data(), n);
}

constexpr int kCmdWords = (int)(sizeof(Vaccel::cmd) / sizeof(uint32_t));

class Model {
  public:
    Model(uint8_t *memory, uint64_t mem_bytes, int bw)
        : mem_(memory), mem_words_(mem_bytes / (uint64_t)bw), bw_(bw) {}

    ~Model() {
        if (tfp_)
            tfp_->close();
        if (top_)
            top_->final();
    }

    int trace(const char *path, char *err, size_t errlen) {
        size_t n = std::strlen(path), m = std::strlen(trace_suffix);
        if (n < m || std::strcmp(path + n - m, trace_suffix) != 0) {
            std::snprintf(err, errlen, "trace file '%s': this model writes %s waveforms", path,
                          trace_suffix);
            return -1;
        }
        if (top_) {
            std::snprintf(err, errlen, "trace must be requested before the first command");
            return -1;
        }
        ctx_.traceEverOn(true);
        start();
        tfp_ = std::make_unique<TraceFile>();
        top_->trace(tfp_.get(), 99);
        tfp_->open(path);
        if (!tfp_->isOpen()) {
            std::snprintf(err, errlen, "cannot open trace file '%s'", path);
            tfp_.reset();
            return -1;
        }
        return 0;
    }

    int execute(const uint32_t *cmds, size_t n, uint64_t budget, unsigned *err_code, char *err,
                size_t errlen) {
        start();
        size_t next = 0;
        for (uint64_t cycle = 0; next < n || !top_->idle; cycle++) {
            if (cycle > budget) {
                std::snprintf(err, errlen, "device hung: still busy after %llu cycles",
                              (unsigned long long)budget);
                return -1;
            }
            bool accept = next < n && top_->cmd_ready;
            top_->cmd_valid = next < n;
            if (next < n)
                std::memcpy(top_->cmd.data(), cmds + next * kCmdWords,
                            sizeof(uint32_t) * kCmdWords);
            tick();
            if (accept)
                next++;
            if (!serve_memory(err, errlen))
                return -1;
        }
        *err_code = top_->err_code;
        return top_->err_code != 0 ? -1 : 0;
    }

    void counters(rtl_model_counters *out) {
        start();
        *out = {top_->cnt_total, top_->cnt_busy, top_->cnt_stall, top_->cnt_cmds, top_->cnt_macs};
    }

  private:
    void start() {
        if (top_)
            return;
        top_ = std::make_unique<Vaccel>(&ctx_);
        top_->clk = 0;
        top_->rst = 1;
        top_->cmd_valid = 0;
        top_->eval();
        tick();
        tick();
        top_->rst = 0;
        top_->eval();
    }

    void tick() {
        top_->clk = 1;
        top_->eval();
        if (tfp_)
            tfp_->dump(time_);
        time_ += 5;
        top_->clk = 0;
        top_->eval();
        if (tfp_)
            tfp_->dump(time_);
        time_ += 5;
    }

    // Called right after a rising edge: answer last cycle's read, apply this cycle's write.
    bool serve_memory(char *err, size_t errlen) {
        if (read_pending_)
            port_from_bytes(top_->mem_rdata, mem_ + read_addr_ * (uint64_t)bw_, (size_t)bw_);
        read_pending_ = top_->mem_rd;
        read_addr_ = top_->mem_addr;
        if ((top_->mem_rd || top_->mem_wr) && top_->mem_addr >= mem_words_) {
            std::snprintf(err, errlen, "device memory access at word %u beyond the end",
                          (unsigned)top_->mem_addr);
            return false;
        }
        if (top_->mem_wr)
            port_to_bytes(top_->mem_wdata, mem_ + (uint64_t)top_->mem_addr * (uint64_t)bw_,
                          (size_t)bw_);
        top_->eval();
        return true;
    }

    VerilatedContext ctx_;
    std::unique_ptr<Vaccel> top_;
    std::unique_ptr<TraceFile> tfp_;
    uint8_t *mem_;
    uint64_t mem_words_;
    int bw_;
    uint64_t time_ = 0;
    bool read_pending_ = false;
    uint64_t read_addr_ = 0;
};

void *create(uint8_t *memory, uint64_t mem_bytes, int port_bytes) {
    return new (std::nothrow) Model(memory, mem_bytes, port_bytes);
}
void destroy(void *m) {
    delete static_cast<Model *>(m);
}
int execute(void *m, const uint32_t *cmds, size_t n, uint64_t budget, unsigned *err_code, char *err,
            size_t errlen) {
    return static_cast<Model *>(m)->execute(cmds, n, budget, err_code, err, errlen);
}
void counters(void *m, rtl_model_counters *out) {
    static_cast<Model *>(m)->counters(out);
}
int trace(void *m, const char *path, char *err, size_t errlen) {
    return static_cast<Model *>(m)->trace(path, err, errlen);
}

const rtl_model_api api = {ACCPAR_RTL_ABI, kCmdWords, create, destroy,
                           execute,        counters,  trace,  trace_suffix};

} // namespace

extern "C" __attribute__((visibility("default"))) const rtl_model_api *accpar_rtl_model(void) {
    return &api;
}
