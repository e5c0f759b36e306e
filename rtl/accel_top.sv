// accpar accelerator: MXUS weight-stationary systolic arrays of ROWS x COLS PEs (bf16 x bf16
// products, fp32 accumulation), an activation buffer, double-buffered weights, fp32
// accumulators and one DMA port to device memory. Commands, timing and counters:
// docs/accelerator.md; the command format: accel_pkg.sv.
//
// Written so that Verilator emits loops whose code does not grow with the array: every array is
// updated in the one clocked process, in loops, with blocking assignments ordered so that each
// element is read before it changes (see there).
module accel_top
  import accel_fp::*;
  import accel_pkg::*;
#(
    parameter int ROWS     = 4,
    parameter int COLS     = 4,
    parameter int MXUS     = 1,
    parameter int ACT_ROWS = 64,   // activation buffer: rows of ROWS bf16 values
    parameter int ACC_ROWS = 128,  // accumulators: rows of COLS fp32 values per MXU
    parameter int BW       = 8     // device-memory port width in bytes, a multiple of 4
) (
    input  logic                          clk,
    input  logic                          rst,
    // command port: a command is accepted on a rising edge with cmd_valid && cmd_ready
    input  logic                          cmd_valid,
    output logic                          cmd_ready,
    input  logic [accel_pkg::CMD_BITS-1:0] cmd,
    // device-memory port, word addressed (one word = BW bytes); read data arrives one cycle
    // after the request, writes take effect at the end of the cycle
    output logic                          mem_rd,
    output logic                          mem_wr,
    output logic [                  31:0] mem_addr,
    output logic [            BW*8-1:0] mem_wdata,
    input  logic [            BW*8-1:0] mem_rdata,
    // status and performance counters
    output logic                          idle,
    output logic [                   7:0] err_code,
    output logic [                  63:0] cnt_total,
    output logic [                  63:0] cnt_busy,
    output logic [                  63:0] cnt_stall,
    output logic [                  63:0] cnt_cmds,
    output logic [                  63:0] cnt_macs
);
  localparam int LANES = BW / 2;  // bf16 values per word
  localparam int ACC_LANES = BW / 4;  // fp32 values per word
  localparam int TILE = ROWS * COLS;  // bf16 values per weight tile

  // ---------------- storage ----------------
  logic [15:0] act_mem[ACT_ROWS][ROWS];
  logic [15:0] w_shadow[MXUS][ROWS][COLS];  // the weight buffer being loaded
  logic [15:0] w_act[MXUS][ROWS][COLS];  // the weights held in the PEs
  logic [MXUS-1:0] shadow_valid;
  // One accumulator memory per (MXU, column), so each column can retire its own row: column n
  // finishes row i one cycle after column n-1 (the array's skew).
  logic [31:0] acc_mem[MXUS][COLS][ACC_ROWS];

  // PE state: every MXU sees the same activation stream, so one shift-register set serves all.
  logic [15:0] a_reg[ROWS][COLS];  // the activation each PE holds
  logic [31:0] psum[MXUS][ROWS][COLS];  // the partial sum each PE passes down

  // ---------------- the command in progress ----------------
  logic        active;
  logic [31:0] cyc;  // 0 = issue cycle, then the body
  logic [7:0] op, flags, n_mxus, mxu, pf_mxus;  // flags[0]: accumulate; others reserved
  logic [31:0] rows, act_off, acc_off, addr, pf_addr;

  logic [31:0] words, rd_words, stream_len, last_cyc;
  logic [7:0] err_now;  // the command's fault, judged in its issue cycle
  logic failed;  // the command in progress faulted at issue
  logic ok;
  logic streaming, issue, err_seen;
  logic [31:0] s;  // stream cycle

  // Words a transfer of n values of `per_word` to a word occupies: ceil(n / per_word).
  function automatic logic [31:0] words_of(input logic [31:0] n, input int per_word);
    words_of = (n + 32'(per_word) - 1) / 32'(per_word);
  endfunction

  always_comb begin
    err_now = 8'd0;
    words   = 32'd0;
    if (flags[7:1] != 0) err_now = ERR_OPCODE;
    else
      case (op)
        OP_LOAD_A: begin
          words = words_of(rows * ROWS, LANES);
          if (rows == 0) err_now = ERR_ROWS;
          else if (act_off + rows > ACT_ROWS) err_now = ERR_ACT_RANGE;
        end
        OP_LOAD_W: begin
          words = words_of({24'd0, n_mxus} * TILE, LANES);
          if (n_mxus == 0 || 32'(n_mxus) > MXUS) err_now = ERR_MXU;
        end
        OP_LOAD_ACC, OP_STORE: begin
          words = words_of(rows * COLS, ACC_LANES);
          if (rows == 0) err_now = ERR_ROWS;
          else if ({24'd0, mxu} >= MXUS) err_now = ERR_MXU;
          else if (acc_off + rows > ACC_ROWS) err_now = ERR_ACC_RANGE;
        end
        OP_MATMUL: begin
          words = words_of({24'd0, pf_mxus} * TILE, LANES);
          if (rows == 0) err_now = ERR_ROWS;
          else if (n_mxus == 0 || 32'(n_mxus) > MXUS || 32'(pf_mxus) > MXUS) err_now = ERR_MXU;
          else if (act_off + rows > ACT_ROWS) err_now = ERR_ACT_RANGE;
          else if (acc_off + rows > ACC_ROWS) err_now = ERR_ACC_RANGE;
          else if ((~shadow_valid & ((MXUS'(1) << n_mxus) - MXUS'(1))) != 0)
            err_now = ERR_NO_WEIGHTS;
        end
        default: err_now = ERR_OPCODE;
      endcase
    stream_len = rows + ROWS + COLS;
    issue = active && cyc == 0;
    ok = issue ? err_now == 0 : !failed;
    if (!ok) last_cyc = 0;
    else if (op == OP_MATMUL)
      last_cyc = (words == 0 || words + 1 <= stream_len) ? stream_len : words + 1;
    else if (op == OP_STORE) last_cyc = words;
    else last_cyc = words + 1;  // loads: one cycle of read latency
    rd_words  = (op == OP_STORE) ? 32'd0 : words;
    s         = cyc - 1;
    streaming = active && op == OP_MATMUL && ok && cyc >= 1 && cyc <= stream_len;
  end

  assign cmd_ready = !active || cyc == last_cyc;
  assign idle = !active;

  // ---------------- DMA ----------------
  // A word carries LANES bf16 (ACC_LANES fp32) values; a command's values run on from word to
  // word in the order they lie in device memory, so value g of a transfer is lane g % LANES of
  // word g / LANES, whatever the port width.
  logic [31:0] wb_idx;  // word being written back from a read issued last cycle
  logic wb_valid, wb_weights, wb_acc, wb_act;
  logic [31:0] st_idx;  // word being stored
  always_comb begin
    mem_rd = active && ok && cyc >= 1 && cyc <= rd_words;
    mem_wr = active && ok && op == OP_STORE && cyc >= 1 && cyc <= words;
    mem_addr = ((op == OP_MATMUL) ? pf_addr : addr) + cyc - 1;
    wb_valid = active && ok && cyc >= 2 && cyc <= rd_words + 1;
    wb_idx = cyc - 2;
    wb_weights = wb_valid && (op == OP_LOAD_W || op == OP_MATMUL);
    wb_acc = wb_valid && op == OP_LOAD_ACC;
    wb_act = wb_valid && op == OP_LOAD_A;
  end
  assign st_idx = cyc - 1;
  always_comb begin
    logic [31:0] g, row;
    mem_wdata = '0;
    for (int l = 0; l < ACC_LANES; l++) begin
      g = st_idx * ACC_LANES + 32'(l);
      row = g / COLS;
      for (int x = 0; x < MXUS; x++)
        if (x == 32'(mxu) && row < rows)
          mem_wdata[l*32+:32] = acc_mem[x][g%COLS][acc_off+row];
    end
  end

  // ---------------- sequential ----------------
  // One clocked process. The arrays (buffers, weights, PE state) are updated with blocking
  // assignments in an order that reads every old value before it changes: the accumulators
  // take the PEs' old sums first; then each PE row, bottom up, adds to the old sum of the row
  // above; then each activation register, right to left, takes its left neighbour's old value.
  // Each update compiles to a loop whatever the array's size, and the PEs cost nothing
  // outside a stream. Nothing outside this process reads an array at the edge that writes it
  // (activations are read only while a MATMUL streams, weights at its issue, accumulators by
  // STORE). The scalars are non-blocking.
  /* verilator lint_off BLKSEQ */
  always_ff @(posedge clk) begin
    logic [31:0] g, row;
    // accumulators: each column retires row s - ROWS - n - 1 of the stream (adding to what it
    // holds when accumulating); LOAD_ACC fills rows from memory
    if (streaming)
      for (int x = 0; x < MXUS; x++)
        for (int n = 0; n < COLS; n++) begin
          row = s - ROWS - 32'(n) - 1;
          if (x < 32'(n_mxus) && s >= ROWS + n + 1 && row < rows)
            acc_mem[x][n][acc_off+row] = flags[0] ?
                fp32_add(acc_mem[x][n][acc_off+row], psum[x][ROWS-1][n]) : psum[x][ROWS-1][n];
        end
    if (wb_acc)
      for (int l = 0; l < ACC_LANES; l++) begin
        g = wb_idx * ACC_LANES + 32'(l);
        row = g / COLS;
        for (int x = 0; x < MXUS; x++)
          if (x == 32'(mxu) && row < rows)
            acc_mem[x][g%COLS][acc_off+row] = mem_rdata[l*32+:32];
      end
    // weights: lane l is value g of the tiles loaded, tile g / TILE, PE (k, n) within it
    if (wb_weights)
      for (int l = 0; l < LANES; l++) begin
        g = wb_idx * LANES + 32'(l);
        if (g / TILE < {24'd0, op == OP_LOAD_W ? n_mxus : pf_mxus})
          w_shadow[g/TILE][(g%TILE)/COLS][g%COLS] = mem_rdata[l*16+:16];
      end
    // activations: value g of the rows loaded is row g / ROWS, element g % ROWS
    if (wb_act)
      for (int l = 0; l < LANES; l++) begin
        g = wb_idx * LANES + 32'(l);
        row = g / ROWS;
        if (row < rows) act_mem[act_off+row][g%ROWS] = mem_rdata[l*16+:16];
      end
    // a MATMUL's weights move into the PEs at its issue (MXUs past n_mxus take weights they
    // will not use); the PEs step while it streams
    // (element by element: Verilator unrolls a whole-array copy into one line per element)
    if (!rst && issue && err_now == 0 && op == OP_MATMUL)
      for (int x = 0; x < MXUS; x++)
        for (int k = 0; k < ROWS; k++)
          for (int n = 0; n < COLS; n++) w_act[x][k][n] = w_shadow[x][k][n];
    if (!rst && streaming) begin
      for (int x = 0; x < MXUS; x++)
        for (int k = ROWS - 1; k >= 0; k--)
          for (int n = 0; n < COLS; n++)
            psum[x][k][n] = fp32_add(k == 0 ? 32'd0 : psum[x][k-1][n],
                                     bf16_mul(a_reg[k][n], w_act[x][k][n]));
      for (int k = 0; k < ROWS; k++) begin
        for (int n = COLS - 1; n >= 1; n--) a_reg[k][n] = a_reg[k][n-1];
        a_reg[k][0] = (s >= k && s - k < rows) ? act_mem[act_off+s-k][k] : 16'd0;
      end
    end
    /* verilator lint_on BLKSEQ */
    if (rst) begin
      active       <= 1'b0;
      cyc          <= 32'd0;
      op           <= 8'd0;
      failed       <= 1'b0;
      shadow_valid <= '0;
      err_seen     <= 1'b0;
      err_code     <= 8'd0;
      cnt_total    <= 64'd0;
      cnt_busy     <= 64'd0;
      cnt_stall    <= 64'd0;
      cnt_cmds     <= 64'd0;
      cnt_macs     <= 64'd0;
    end else begin
      if (active) cnt_total <= cnt_total + 1;
      if (streaming) cnt_busy <= cnt_busy + 1;
      if (active && cyc >= 1 && !streaming) cnt_stall <= cnt_stall + 1;
      if (issue) begin
        cnt_cmds <= cnt_cmds + 1;
        failed   <= err_now != 0;
        if (err_now != 0 && !err_seen) begin
          err_seen <= 1'b1;
          err_code <= err_now;
        end
        if (err_now == 0 && op == OP_MATMUL) begin
          cnt_macs <= cnt_macs + 64'(rows) * 64'(ROWS * COLS) * 64'(n_mxus);
          shadow_valid <= shadow_valid & ~((MXUS'(1) << n_mxus) - MXUS'(1));
        end
      end
      if (active && ok && cyc == last_cyc) begin
        if (op == OP_LOAD_W) shadow_valid <= shadow_valid | ((MXUS'(1) << n_mxus) - MXUS'(1));
        if (op == OP_MATMUL) shadow_valid <= shadow_valid | ((MXUS'(1) << pf_mxus) - MXUS'(1));
      end
      if (cmd_valid && cmd_ready) begin
        active  <= 1'b1;
        cyc     <= 32'd0;
        op      <= cmd[CMD_OP_LSB+:CMD_OP_WIDTH];
        flags   <= cmd[CMD_FLAGS_LSB+:CMD_FLAGS_WIDTH];
        n_mxus  <= cmd[CMD_MXUS_LSB+:CMD_MXUS_WIDTH];
        mxu     <= cmd[CMD_MXU_LSB+:CMD_MXU_WIDTH];
        rows    <= cmd[CMD_ROWS_LSB+:CMD_ROWS_WIDTH];
        act_off <= cmd[CMD_ACT_OFF_LSB+:CMD_ACT_OFF_WIDTH];
        acc_off <= cmd[CMD_ACC_OFF_LSB+:CMD_ACC_OFF_WIDTH];
        addr    <= cmd[CMD_ADDR_LSB+:CMD_ADDR_WIDTH];
        pf_addr <= cmd[CMD_PF_ADDR_LSB+:CMD_PF_ADDR_WIDTH];
        pf_mxus <= cmd[CMD_PF_MXUS_LSB+:CMD_PF_MXUS_WIDTH];
      end else if (active) begin
        if (cyc == last_cyc) active <= 1'b0;
        else cyc <= cyc + 1;
      end
    end
  end
endmodule
