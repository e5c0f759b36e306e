// accpar accelerator: MXUS weight-stationary systolic arrays of ROWS x COLS PEs (bf16 x bf16
// products, fp32 accumulation), an activation buffer, double-buffered weights, fp32
// accumulators and one DMA port to device memory. Commands, timing and counters:
// docs/accelerator.md; the command format: accel_pkg.sv; the structure for FPGAs: docs/fpga.md.
//
// Parts: accel_array (the PEs, in a simulation form and a synthesis form: INSTANCES), the
// activation buffer (ROWS x MA accel_ram, one per PE row and row residue), the accumulators
// (MXUS x COLS accel_acc_col). Every buffer reads synchronously (block RAM): the address of
// each read is known a cycle before its data is used, so the cycle contract is unchanged.
module accel_top #(
    parameter int ROWS      = 4,
    parameter int COLS      = 4,
    parameter int MXUS      = 1,
    parameter int ACT_ROWS  = 64,   // activation buffer: rows of ROWS bf16 values
    parameter int ACC_ROWS  = 128,  // accumulators: rows of COLS fp32 values per MXU
    parameter int BW        = 8,    // device-memory port width in bytes, a multiple of 4
    parameter int INSTANCES = 0     // the array's form: 0 simulation, 1 synthesis (accel_array)
) (
    input  logic                         clk,
    input  logic                         rst,
    // command port: a command is accepted on a rising edge with cmd_valid && cmd_ready
    input  logic                         cmd_valid,
    output logic                         cmd_ready,
    input  logic [accel_pkg::CMD_BITS-1:0] cmd,
    // device-memory port, word addressed (one word = BW bytes); read data arrives one cycle
    // after the request, writes take effect at the end of the cycle
    output logic                         mem_rd,
    output logic                         mem_wr,
    output logic [                 31:0] mem_addr,
    output logic [               BW*8-1:0] mem_wdata,
    input  logic [               BW*8-1:0] mem_rdata,
    // status and performance counters
    output logic                         idle,
    output logic [                  7:0] err_code,
    output logic [                 63:0] cnt_total,
    output logic [                 63:0] cnt_busy,
    output logic [                 63:0] cnt_stall,
    output logic [                 63:0] cnt_cmds,
    output logic [                 63:0] cnt_macs
);
  `include "accel_fp.svh"
  localparam int LANES = BW / 2;  // bf16 values per word
  localparam int ACC_LANES = BW / 4;  // fp32 values per word
  localparam int TILE = ROWS * COLS;  // bf16 values per weight tile
  // A port word touches up to MA rows of one activation RAM column and MC rows of one
  // accumulator column: each column is split into that many RAMs, row r in RAM r % M.
  localparam int MA = (LANES + ROWS - 1) / ROWS;
  localparam int MC = (ACC_LANES + COLS - 1) / COLS;
  localparam int DA = (ACT_ROWS + MA - 1) / MA;  // words per activation RAM
  localparam int DC = (ACC_ROWS + MC - 1) / MC;  // words per accumulator RAM
  localparam int AWA = DA > 1 ? $clog2(DA) : 1;
  localparam int AWC = DC > 1 ? $clog2(DC) : 1;
  localparam int SWA = MA > 1 ? $clog2(MA) : 1;
  localparam int SWC = MC > 1 ? $clog2(MC) : 1;
  localparam int CW = COLS > 1 ? $clog2(COLS) : 1;
  localparam int LW = $clog2(LANES);  // a lane's index (LANES >= 2)
  localparam int ALW = ACC_LANES > 1 ? $clog2(ACC_LANES) : 1;
  localparam int NA = ROWS * MA;  // activation RAMs, index k * MA + j
  localparam int NC = MXUS * COLS;  // accumulator columns, index x * COLS + n

  // Parameter rules, checked when the design is elaborated (the C side checks presets too;
  // Icarus Verilog 11 has no elaboration-time $error, so there the check runs at time 0).
  if (ROWS < 1 || COLS < 1 || MXUS < 1 || MXUS > 255 || ACT_ROWS < 1 || ACC_ROWS < 1 ||
      BW < 4 || BW % 4 != 0) begin : g_bad_parameters
`ifdef __ICARUS__
    initial $fatal(1, "accel_top: parameters out of range (docs/accelerator.md)");
`else
    $error("accel_top: ROWS, COLS, ACT_ROWS, ACC_ROWS must be >= 1, MXUS in 1..255 and BW a",
           " positive multiple of 4 bytes");
`endif
  end

  // ---------------- the command in progress ----------------
  logic        active;
  logic [31:0] cyc;  // 0 = issue cycle, then the body
  logic [7:0] op, flags, n_mxus, mxu, pf_mxus;  // flags[0]: accumulate; others reserved
  logic [31:0] rows, act_off, acc_off, addr, pf_addr;
  logic [MXUS-1:0] shadow_valid;  // MXUs whose buffered weights are loaded and unused

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

  always @* begin : c_decode
    err_now = 8'd0;
    words   = 32'd0;
    if (flags[7:1] != 0) err_now = accel_pkg::ERR_OPCODE;
    else
      case (op)
        accel_pkg::OP_LOAD_A: begin
          words = words_of(rows * ROWS, LANES);
          if (rows == 0) err_now = accel_pkg::ERR_ROWS;
          else if (act_off + rows > ACT_ROWS) err_now = accel_pkg::ERR_ACT_RANGE;
        end
        accel_pkg::OP_LOAD_W: begin
          words = words_of({24'd0, n_mxus} * TILE, LANES);
          if (n_mxus == 0 || 32'(n_mxus) > MXUS) err_now = accel_pkg::ERR_MXU;
        end
        accel_pkg::OP_LOAD_ACC, accel_pkg::OP_STORE: begin
          words = words_of(rows * COLS, ACC_LANES);
          if (rows == 0) err_now = accel_pkg::ERR_ROWS;
          else if ({24'd0, mxu} >= MXUS) err_now = accel_pkg::ERR_MXU;
          else if (acc_off + rows > ACC_ROWS) err_now = accel_pkg::ERR_ACC_RANGE;
        end
        accel_pkg::OP_MATMUL: begin
          words = words_of({24'd0, pf_mxus} * TILE, LANES);
          if (rows == 0) err_now = accel_pkg::ERR_ROWS;
          else if (n_mxus == 0 || 32'(n_mxus) > MXUS || 32'(pf_mxus) > MXUS)
            err_now = accel_pkg::ERR_MXU;
          else if (act_off + rows > ACT_ROWS) err_now = accel_pkg::ERR_ACT_RANGE;
          else if (acc_off + rows > ACC_ROWS) err_now = accel_pkg::ERR_ACC_RANGE;
          else if ((~shadow_valid & ((MXUS'(1) << n_mxus) - MXUS'(1))) != 0)
            err_now = accel_pkg::ERR_NO_WEIGHTS;
        end
        default: err_now = accel_pkg::ERR_OPCODE;
      endcase
    stream_len = rows + ROWS + COLS;
    issue = active && cyc == 0;
    ok = issue ? err_now == 0 : !failed;
    if (!ok) last_cyc = 0;
    else if (op == accel_pkg::OP_MATMUL)
      last_cyc = (words == 0 || words + 1 <= stream_len) ? stream_len : words + 1;
    else if (op == accel_pkg::OP_STORE) last_cyc = words;
    else last_cyc = words + 1;  // loads: one cycle of read latency
    rd_words  = (op == accel_pkg::OP_STORE) ? 32'd0 : words;
    s         = cyc - 1;
    streaming = active && op == accel_pkg::OP_MATMUL && ok && cyc >= 1 && cyc <= stream_len;
  end

  assign cmd_ready = !active || cyc == last_cyc;
  assign idle = !active;

  // ---------------- DMA ----------------
  // A word carries LANES bf16 (ACC_LANES fp32) values; a command's values run on from word to
  // word in the order they lie in device memory, so value g of a transfer is lane g % LANES of
  // word g / LANES, whatever the port width.
  logic [31:0] wb_idx;  // word being written back from a read issued last cycle
  logic wb_valid, wb_weights, wb_acc, wb_act;
  always @* begin : c_dma
    mem_rd = active && ok && cyc >= 1 && cyc <= rd_words;
    mem_wr = active && ok && op == accel_pkg::OP_STORE && cyc >= 1 && cyc <= words;
    mem_addr = ((op == accel_pkg::OP_MATMUL) ? pf_addr : addr) + cyc - 1;
    wb_valid = active && ok && cyc >= 2 && cyc <= rd_words + 1;
    wb_idx = cyc - 2;
    wb_weights = wb_valid && (op == accel_pkg::OP_LOAD_W || op == accel_pkg::OP_MATMUL);
    wb_acc = wb_valid && op == accel_pkg::OP_LOAD_ACC;
    wb_act = wb_valid && op == accel_pkg::OP_LOAD_A;
  end

  // ---------------- the PEs ----------------
  logic [ROWS*16-1:0] act_in;  // the activations entering column 0 this stream cycle
  // (wide wiring, not in waveforms: the same values are traced where they are held — the PEs'
  // sums, the memory port)
  /* verilator tracing_off */
  logic [NC*32-1:0] bottom;  // the partial sums leaving the bottom row
  /* verilator tracing_on */
  accel_array #(
      .ROWS(ROWS),
      .COLS(COLS),
      .MXUS(MXUS),
      .LANES(LANES),
      .INSTANCES(INSTANCES)
  ) array (
      .clk,
      .wr(wb_weights),
      .wr_word(wb_idx),
      .wr_data(mem_rdata),
      .wr_mxus(op == accel_pkg::OP_LOAD_W ? n_mxus : pf_mxus),
      .load(!rst && issue && err_now == 0 && op == accel_pkg::OP_MATMUL),
      .step(!rst && streaming),
      .act_in,
      .bottom
  );

  // ---------------- activation buffer ----------------
  // Value g of a LOAD_A is element g % ROWS of row act_off + g / ROWS. A MATMUL's stream cycle
  // s feeds row k of the array with element k of row s - k (the array's skew), read from RAM
  // column k in the cycle before.
  logic [NA-1:0] act_we, act_re;
  logic [NA*AWA-1:0] act_waddr, act_raddr;
  logic [NA*LW-1:0] act_wlane;  // the port lane each RAM writes
  logic [NA*16-1:0] act_rdata;
  // the activation RAMs take no `other` value (named: Yosys 0.23 fails an assertion on an
  // unsized constant connected to a port whose width is a parameter's)
  logic [NA-1:0] act_no_other;
  logic [15:0] act_other;
  assign act_no_other = '0;
  assign act_other = 16'd0;
  logic [ROWS-1:0] act_next_v, act_v;  // a row is read for PE row k (else it takes 0)
  logic [ROWS*SWA-1:0] act_next_sel, act_sel;  // from which of its MA RAMs
  always @* begin : c_act_ports
    logic [31:0] g, r, i;
    g = 0;
    r = 0;
    i = 0;
    act_we = '0;
    act_waddr = '0;
    act_wlane = '0;
    act_re = '0;
    act_raddr = '0;
    act_next_v = '0;
    act_next_sel = '0;
    if (wb_act)
      for (int l = 0; l < LANES; l++) begin
        g = wb_idx * LANES + 32'(l);
        r = act_off + g / ROWS;
        i = (g % ROWS) * MA + r % MA;
        if (g / ROWS < rows) begin
          act_we[i] = 1'b1;
          act_waddr[i*AWA+:AWA] = AWA'(r / MA);
          act_wlane[i*LW+:LW] = LW'(l);
        end
      end
    if (active && ok && op == accel_pkg::OP_MATMUL && cyc < stream_len)
      for (int k = 0; k < ROWS; k++)
        if (cyc >= k && cyc - k < rows) begin
          r = act_off + cyc - k;
          // (a constant RAM index in each iteration: synthesis builds one enable per RAM, not
          // a shifter across all of them; the same in c_acc_ports)
          for (int j = 0; j < MA; j++)
            if (r % MA == 32'(j)) begin
              act_re[k*MA+j] = 1'b1;
              act_raddr[(k*MA+j)*AWA+:AWA] = AWA'(r / MA);
            end
          act_next_v[k] = 1'b1;
          act_next_sel[k*SWA+:SWA] = SWA'(r % MA);
        end
  end
  accel_rams #(
      .N(NA),
      .WIDTH(16),
      .DEPTH(DA),
      .LANES(LANES),
      .GROUP(NA),
      .INSTANCES(INSTANCES)
  ) act_rams (
      .clk,
      .we(act_we),
      .waddr(act_waddr),
      .wlane(act_wlane),
      .wother(act_no_other),
      .port(mem_rdata),
      .other(act_other),
      .re(act_re),
      .raddr(act_raddr),
      .rdata(act_rdata)
  );
  always @* begin : c_act_in
    for (int k = 0; k < ROWS; k++)
      act_in[k*16+:16] = act_v[k] ?
          act_rdata[(k*MA+32'(act_sel[k*SWA+:SWA]))*16+:16] : 16'd0;
  end

  // ---------------- accumulators ----------------
  // Value g of a LOAD_ACC or STORE is column g % COLS of row acc_off + g / COLS. A MATMUL's
  // column n retires row s - ROWS - n - 1 in stream cycle s (column n runs one cycle behind
  // column n - 1: the skew), after reading the row's old value in the cycle before.
  logic [NC*MC-1:0] acc_we, acc_re;
  logic [NC*MC-1:0] acc_ret;  // the RAM writes a retired row
  // (the addresses and data of every accumulator RAM are not in waveforms: they grow with the
  // array and change every cycle; acc_we, acc_re, acc_ret and the memory port show the traffic)
  /* verilator tracing_off */
  logic [NC*MC*AWC-1:0] acc_waddr, acc_raddr;
  logic [NC*MC*ALW-1:0] acc_wlane;  // the port lane each RAM writes (LOAD_ACC)
  logic [NC*MC*32-1:0] acc_rdata;
  /* verilator tracing_on */
  logic [COLS*SWC-1:0] ret_ram;
  // a STORE's lanes: the column and RAM each reads from, read the cycle before
  logic [ACC_LANES-1:0] st_next_v, st_v;
  logic [ACC_LANES*CW-1:0] st_next_col, st_col;
  logic [ACC_LANES*SWC-1:0] st_next_ram, st_ram;
  // (the defaults below fill wide vectors: no replication is meant)
  /* verilator lint_off WIDTHCONCAT */
  always @* begin : c_acc_ports
    logic [31:0] g, r, row, i;
    g = 0;
    r = 0;
    row = 0;
    i = 0;
    acc_we = '0;
    acc_ret = '0;
    acc_waddr = '0;
    acc_wlane = '0;
    acc_re = '0;
    acc_raddr = '0;
    ret_ram = '0;
    st_next_v = '0;
    st_next_col = '0;
    st_next_ram = '0;
    if (wb_acc)
      for (int l = 0; l < ACC_LANES; l++) begin
        g = wb_idx * ACC_LANES + 32'(l);
        r = acc_off + g / COLS;
        i = ((32'(mxu) * COLS) + g % COLS) * MC + r % MC;
        if (g / COLS < rows && 32'(mxu) < MXUS) begin
          acc_we[i] = 1'b1;
          acc_waddr[i*AWC+:AWC] = AWC'(r / MC);
          acc_wlane[i*ALW+:ALW] = ALW'(l);
        end
      end
    if (active && ok && op == accel_pkg::OP_STORE && cyc < words)
      for (int l = 0; l < ACC_LANES; l++) begin
        g = cyc * ACC_LANES + 32'(l);
        r = acc_off + g / COLS;
        i = ((32'(mxu) * COLS) + g % COLS) * MC + r % MC;
        if (g / COLS < rows && 32'(mxu) < MXUS) begin
          acc_re[i] = 1'b1;
          acc_raddr[i*AWC+:AWC] = AWC'(r / MC);
          st_next_v[l] = 1'b1;
          st_next_col[l*CW+:CW] = CW'(g % COLS);
          st_next_ram[l*SWC+:SWC] = SWC'(r % MC);
        end
      end
    if (active && ok && op == accel_pkg::OP_MATMUL)
      for (int n = 0; n < COLS; n++) begin
        // the old value of the row retired next cycle (needed when accumulating)
        row = cyc - ROWS - 32'(n) - 1;
        if (flags[0] && cyc >= ROWS + n + 1 && row < rows) begin
          r = acc_off + row;
          for (int x = 0; x < MXUS; x++)
            for (int j = 0; j < MC; j++)
              if (x < 32'(n_mxus) && r % MC == 32'(j)) begin
                acc_re[(x*COLS+n)*MC+j] = 1'b1;
                acc_raddr[((x*COLS+n)*MC+j)*AWC+:AWC] = AWC'(r / MC);
              end
        end
        row = s - ROWS - 32'(n) - 1;
        if (streaming && s >= ROWS + n + 1 && row < rows) begin
          r = acc_off + row;
          ret_ram[n*SWC+:SWC] = SWC'(r % MC);
          for (int x = 0; x < MXUS; x++)
            for (int j = 0; j < MC; j++)
              if (x < 32'(n_mxus) && r % MC == 32'(j)) begin
                acc_we[(x*COLS+n)*MC+j] = 1'b1;
                acc_ret[(x*COLS+n)*MC+j] = 1'b1;
                acc_waddr[((x*COLS+n)*MC+j)*AWC+:AWC] = AWC'(r / MC);
              end
        end
      end
  end
  /* verilator lint_on WIDTHCONCAT */
  // What each retiring column writes (the old value read the cycle before, from its RAM ret_ram),
  // in the array's two forms: a loop, or one accel_acc_col per column (synthesized once).
  logic [NC*32-1:0] ret_val;
  if (INSTANCES == 0) begin : g_sums
    always @* begin : c_ret_val
      for (int c = 0; c < NC; c++)
        ret_val[c*32+:32] = acc_ret[c*MC+:MC] == 0 ? 32'd0 : acc_retire(
            flags[0], acc_rdata[(c*MC+32'(ret_ram[(c%COLS)*SWC+:SWC]))*32+:32], bottom[c*32+:32]);
    end
  end else begin : g_cols
    for (genvar gc = 0; gc < NC; gc++) begin : g_col
      localparam int COL = gc % COLS;  // the column within its MXU
      logic [31:0] old;  // the retired row's old value, from the column's RAM ret_ram
      assign old = acc_rdata[(gc*MC+32'(ret_ram[COL*SWC+:SWC]))*32+:32];
      accel_acc_col col (
          .accumulate(flags[0]),
          .old,
          .psum(bottom[gc*32+:32]),
          .sum(ret_val[gc*32+:32])
      );
    end
  end
  accel_rams #(
      .N(NC * MC),
      .WIDTH(32),
      .DEPTH(DC),
      .LANES(ACC_LANES),
      .GROUP(MC),
      .INSTANCES(INSTANCES)
  ) acc_rams (
      .clk,
      .we(acc_we),
      .waddr(acc_waddr),
      .wlane(acc_wlane),
      .wother(acc_ret),
      .port(mem_rdata[ACC_LANES*32-1:0]),
      .other(ret_val),
      .re(acc_re),
      .raddr(acc_raddr),
      .rdata(acc_rdata)
  );
  // STORE: lane l of word cyc - 1, read from the accumulators in the cycle before
  always @* begin : c_store_data
    mem_wdata = '0;
    for (int l = 0; l < ACC_LANES; l++)
      if (st_v[l])
        mem_wdata[l*32+:32] = acc_rdata[((32'(mxu)*COLS+32'(st_col[l*CW+:CW]))*MC+
                                         32'(st_ram[l*SWC+:SWC]))*32+:32];
  end

  // ---------------- control and counters ----------------
  always_ff @(posedge clk) begin : s_control
    act_v <= act_next_v;
    act_sel <= act_next_sel;
    st_v <= st_next_v;
    st_col <= st_next_col;
    st_ram <= st_next_ram;
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
        if (err_now == 0 && op == accel_pkg::OP_MATMUL) begin
          cnt_macs <= cnt_macs + 64'(rows) * 64'(ROWS * COLS) * 64'(n_mxus);
          shadow_valid <= shadow_valid & ~((MXUS'(1) << n_mxus) - MXUS'(1));
        end
      end
      if (active && ok && cyc == last_cyc) begin
        if (op == accel_pkg::OP_LOAD_W)
          shadow_valid <= shadow_valid | ((MXUS'(1) << n_mxus) - MXUS'(1));
        if (op == accel_pkg::OP_MATMUL)
          shadow_valid <= shadow_valid | ((MXUS'(1) << pf_mxus) - MXUS'(1));
      end
      if (cmd_valid && cmd_ready) begin
        active  <= 1'b1;
        cyc     <= 32'd0;
        op      <= cmd[accel_pkg::CMD_OP_LSB+:accel_pkg::CMD_OP_WIDTH];
        flags   <= cmd[accel_pkg::CMD_FLAGS_LSB+:accel_pkg::CMD_FLAGS_WIDTH];
        n_mxus  <= cmd[accel_pkg::CMD_MXUS_LSB+:accel_pkg::CMD_MXUS_WIDTH];
        mxu     <= cmd[accel_pkg::CMD_MXU_LSB+:accel_pkg::CMD_MXU_WIDTH];
        rows    <= cmd[accel_pkg::CMD_ROWS_LSB+:accel_pkg::CMD_ROWS_WIDTH];
        act_off <= cmd[accel_pkg::CMD_ACT_OFF_LSB+:accel_pkg::CMD_ACT_OFF_WIDTH];
        acc_off <= cmd[accel_pkg::CMD_ACC_OFF_LSB+:accel_pkg::CMD_ACC_OFF_WIDTH];
        addr    <= cmd[accel_pkg::CMD_ADDR_LSB+:accel_pkg::CMD_ADDR_WIDTH];
        pf_addr <= cmd[accel_pkg::CMD_PF_ADDR_LSB+:accel_pkg::CMD_PF_ADDR_WIDTH];
        pf_mxus <= cmd[accel_pkg::CMD_PF_MXUS_LSB+:accel_pkg::CMD_PF_MXUS_WIDTH];
      end else if (active) begin
        if (cyc == last_cyc) active <= 1'b0;
        else cyc <= cyc + 1;
      end
    end
  end
endmodule
