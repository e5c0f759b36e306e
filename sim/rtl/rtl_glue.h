// Clocks a verilated accel_top: feeds its command port back to back and serves its memory
// port from device memory with one cycle of read latency (docs/accelerator.md).
#ifndef ACCPAR_RTL_GLUE_H
#define ACCPAR_RTL_GLUE_H

#include "rtl_model.h"

#include <verilated.h>
#if VM_TRACE_FST
#include <verilated_fst_c.h>
using RtlTraceFile = VerilatedFstC;
static const char *const rtl_trace_suffix = ".fst";
#elif VM_TRACE
#include <verilated_vcd_c.h>
using RtlTraceFile = VerilatedVcdC;
static const char *const rtl_trace_suffix = ".vcd";
#else
struct RtlTraceFile { // no waveform support in this build
    void dump(uint64_t) {}
    void close() {}
};
#endif

#include <cstring>
#include <memory>
#include <new>

// Byte copies between device memory and a port signal of any width (little-endian host).
template <class T> static void port_from_bytes(T &sig, const uint8_t *src, size_t n) {
    sig = 0;
    std::memcpy(&sig, src, n);
}
template <std::size_t W> static void port_from_bytes(VlWide<W> &sig, const uint8_t *src, size_t n) {
    std::memcpy(sig.data(), src, n);
}
template <class T> static void port_to_bytes(const T &sig, uint8_t *dst, size_t n) {
    std::memcpy(dst, &sig, n);
}
template <std::size_t W> static void port_to_bytes(const VlWide<W> &sig, uint8_t *dst, size_t n) {
    std::memcpy(dst, sig.data(), n);
}

template <class V> class RtlGlue final : public RtlModel {
  public:
    RtlGlue(uint8_t *memory, uint64_t mem_bytes, int bw)
        : mem_(memory), mem_words_(mem_bytes / (uint64_t)bw), bw_(bw) {}

    ~RtlGlue() override {
        if (tfp_)
            tfp_->close();
        if (top_)
            top_->final();
    }

    bool trace(const char *path, std::string &err) override {
#if !VM_TRACE
        (void)path;
        err = "this build has no waveform support (CMake option ACCPAR_RTL_TRACE=ON adds it)";
        return false;
#else
        size_t n = std::strlen(path), m = std::strlen(rtl_trace_suffix);
        if (n < m || std::strcmp(path + n - m, rtl_trace_suffix) != 0) {
            err = std::string("trace file '") + path + "': this build writes " + rtl_trace_suffix +
                  " waveforms (CMake option ACCPAR_TRACE_FST switches)";
            return false;
        }
        if (top_) {
            err = "trace must be requested before the first command";
            return false;
        }
        ctx_.traceEverOn(true);
        start();
        tfp_ = std::make_unique<RtlTraceFile>();
        top_->trace(tfp_.get(), 99);
        tfp_->open(path);
        if (!tfp_->isOpen()) {
            err = std::string("cannot open trace file '") + path + "'";
            tfp_.reset();
            return false;
        }
        return true;
#endif
    }

    bool execute(const accel_cmd *cmds, size_t n, std::string &err) override {
        start();
        uint64_t budget = 64;
        for (size_t i = 0; i < n; i++)
            budget += cycle_bound(cmds[i]);
        size_t next = 0;
        for (uint64_t cycle = 0; next < n || !top_->idle; cycle++) {
            if (cycle > budget) {
                err = "device hung: still busy after " + std::to_string(budget) + " cycles";
                return false;
            }
            bool accept = next < n && top_->cmd_ready;
            top_->cmd_valid = next < n;
            if (next < n)
                pack(cmds[next]);
            tick();
            if (accept)
                next++;
            if (!serve_memory(err))
                return false;
        }
        if (top_->err_code != 0) {
            err = std::string("device error ") + accel_error_name(top_->err_code) + " (" +
                  std::to_string(top_->err_code) + "): " + accel_error_meaning(top_->err_code);
            return false;
        }
        return true;
    }

    cycle_breakdown counters() override {
        start();
        cycle_breakdown cb;
        cb.total = top_->cnt_total;
        cb.busy = top_->cnt_busy;
        cb.stall = top_->cnt_stall;
        cb.commands = top_->cnt_cmds;
        cb.macs = top_->cnt_macs;
        return cb;
    }

  private:
    void start() {
        if (top_)
            return;
        top_ = std::make_unique<V>(&ctx_);
        top_->clk = 0;
        top_->rst = 1;
        top_->cmd_valid = 0;
        top_->eval();
        tick();
        tick();
        top_->rst = 0;
        top_->eval();
    }

    // A generous bound on one command's cycles, to turn a hang into an error.
    uint64_t cycle_bound(const accel_cmd &c) const {
        uint64_t rows = c.rows, tiles = (uint64_t)c.mxus + c.pf_mxus;
        return 8 + 2 * (rows * 1024 + tiles * 65536 / (uint64_t)bw_ + rows + 8192);
    }

    void pack(const accel_cmd &c) {
        uint32_t w[ACCEL_CMD_WORDS];
        accel_cmd_pack(&c, (uint32_t)bw_, w);
        static_assert(sizeof w == sizeof(top_->cmd), "the model's command port is the ISA's word");
        std::memcpy(top_->cmd.data(), w, sizeof w);
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
    bool serve_memory(std::string &err) {
        if (read_pending_)
            port_from_bytes(top_->mem_rdata, mem_ + read_addr_ * (uint64_t)bw_, (size_t)bw_);
        read_pending_ = top_->mem_rd;
        read_addr_ = top_->mem_addr;
        if ((top_->mem_rd || top_->mem_wr) && top_->mem_addr >= mem_words_) {
            err = "device memory access at word " + std::to_string(top_->mem_addr) +
                  " beyond the end";
            return false;
        }
        if (top_->mem_wr)
            port_to_bytes(top_->mem_wdata, mem_ + (uint64_t)top_->mem_addr * (uint64_t)bw_,
                          (size_t)bw_);
        top_->eval();
        return true;
    }

    VerilatedContext ctx_;
    std::unique_ptr<V> top_;
    std::unique_ptr<RtlTraceFile> tfp_;
    uint8_t *mem_;
    uint64_t mem_words_;
    int bw_;
    uint64_t time_ = 0;
    bool read_pending_ = false;
    uint64_t read_addr_ = 0;
};

template <class V> RtlModel *rtl_create(uint8_t *memory, uint64_t mem_bytes, int bw) {
    return new (std::nothrow) RtlGlue<V>(memory, mem_bytes, bw);
}

#endif
