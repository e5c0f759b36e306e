// The PEs of MXUS weight-stationary systolic arrays of ROWS x COLS, with their weight double
// buffers and the activation registers that all MXUs share (every MXU sees the same stream).
//
// While `step` is high the array advances one cycle: PE (k, n) adds the product of the
// activation it holds and its weight to the partial sum of the PE above; each activation moves
// one PE to the right, and column 0 of row k takes act_in[k]. `load` (a MATMUL's issue) moves
// the loaded weights into the PEs. Weights arrive as port words: word i of a load carries
// values i*LANES .. i*LANES+LANES-1, value p being PE (p % TILE / COLS, p % COLS) of MXU
// p / TILE; MXUs from wr_mxus on keep their buffered weights.
//
// The array is written twice, selected by INSTANCES, with one PE step (pe_mac, accel_fp.svh):
//  * 0, for simulation: the whole array in one clocked process, updated in loops with blocking
//    assignments ordered so that every element is read before it changes. Verilator's code
//    then does not grow with the array and costs nothing outside a stream.
//  * 1, for synthesis: one accel_pe per PE, so a synthesis tool handles a PE once.
// The two are proved equivalent by simulation (docs/fpga.md).
module accel_array #(
    parameter int ROWS = 4,
    parameter int COLS = 4,
    parameter int MXUS = 1,
    parameter int LANES = 4,  // bf16 values per port word
    parameter int INSTANCES = 0
) (
    input  logic                      clk,
    input  logic                      wr,        // a port word of weights
    input  logic [              31:0] wr_word,   // its index within the load
    /* verilator lint_off UNUSEDSIGNAL */  // a port wider than all tiles has lanes to spare
    input  logic [      LANES*16-1:0] wr_data,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [               7:0] wr_mxus,   // MXUs the load fills
    input  logic                      load,
    input  logic                      step,
    input  logic [       ROWS*16-1:0] act_in,
    /* verilator tracing_off */  // (in waveforms as the PEs' psum)
    output logic [MXUS*COLS*32-1:0] bottom     // the bottom row's partial sums, MXU-major
    /* verilator tracing_on */
);
  localparam int TILE = ROWS * COLS;
  localparam int WORDS = (MXUS * TILE + LANES - 1) / LANES;  // port words of all tiles
  `include "accel_fp.svh"

  if (INSTANCES == 0) begin : g_loops
    logic [LANES*16-1:0] shadow[WORDS];  // the weights being loaded, as they arrive
    logic [15:0] w[MXUS][ROWS][COLS];  // the weights held in the PEs
    logic [15:0] a[ROWS][COLS];  // the activation each PE holds
    logic [31:0] psum[MXUS][ROWS][COLS];  // the partial sum each PE passes down
    /* verilator lint_off BLKSEQ */
    always_ff @(posedge clk) begin : s_pes
      logic [31:0] p;
      /* verilator tracing_off */
      logic [MXUS*COLS*32-1:0] b;  // the bottom row, gathered (not in waveforms)
      /* verilator tracing_on */
      if (wr)
        for (int l = 0; l < LANES; l++)
          if ((wr_word * LANES + 32'(l)) / TILE < {24'd0, wr_mxus})
            shadow[wr_word][l*16+:16] = wr_data[l*16+:16];
      if (load)
        for (int x = 0; x < MXUS; x++)
          for (int k = 0; k < ROWS; k++)
            for (int n = 0; n < COLS; n++) begin
              p = 32'(x * TILE + k * COLS + n);
              w[x][k][n] = shadow[p/LANES][(p%LANES)*16+:16];
            end
      if (step) begin
        for (int x = 0; x < MXUS; x++)
          for (int k = ROWS - 1; k >= 0; k--)
            for (int n = 0; n < COLS; n++)
              psum[x][k][n] = pe_mac(k == 0 ? 32'd0 : psum[x][k-1][n], a[k][n], w[x][k][n]);
        for (int k = 0; k < ROWS; k++) begin
          for (int n = COLS - 1; n >= 1; n--) a[k][n] = a[k][n-1];
          a[k][0] = act_in[k*16+:16];
        end
        for (int x = 0; x < MXUS; x++)
          for (int n = 0; n < COLS; n++) b[(x*COLS+n)*32+:32] = psum[x][ROWS-1][n];
        bottom <= b;
      end
    end
    /* verilator lint_on BLKSEQ */
  end else begin : g_pes
    // a_net[k][n]: the activation PE (k, n) holds; p_net[x][k][n]: its partial sum in MXU x
    /* verilator lint_off UNUSEDSIGNAL */  // the last column's activations leave the array
    logic [ROWS*COLS*16-1:0] a_net;
    /* verilator lint_on UNUSEDSIGNAL */
    logic [MXUS*ROWS*COLS*32-1:0] p_net;
    logic [MXUS-1:0] wr_mxu;  // the MXUs this weight load fills
    always @* begin : c_wr_mxu
      for (int x = 0; x < MXUS; x++) wr_mxu[x] = wr && x < 32'(wr_mxus);
    end
    for (genvar gk = 0; gk < ROWS; gk++) begin : g_row
      for (genvar gn = 0; gn < COLS; gn++) begin : g_col
        logic [15:0] a;
        localparam int LEFT = gn == 0 ? 0 : gk * COLS + gn - 1;  // the PE to the left
        always_ff @(posedge clk) if (step) a <= gn == 0 ? act_in[gk*16+:16] : a_net[LEFT*16+:16];
        assign a_net[(gk*COLS+gn)*16+:16] = a;
        for (genvar gx = 0; gx < MXUS; gx++) begin : g_mxu
          localparam int P = gx * TILE + gk * COLS + gn;  // the PE's value in a weight load
          localparam int HERE = (gx * ROWS + gk) * COLS + gn;  // its partial sum in p_net
          localparam int OUT = gx * COLS + gn;  // its place in bottom (bottom row only)
          // the sum from above, chosen at elaboration (Icarus 11 misreads a ?: on a genvar in a
          // port connection)
          logic [31:0] above;
          if (gk == 0) begin : g_top
            assign above = 32'd0;
          end else begin : g_below
            assign above = p_net[(HERE-COLS)*32+:32];
          end
          accel_pe pe (
              .clk,
              .wr(wr_mxu[gx] && wr_word == P / LANES),
              .w_in(wr_data[(P%LANES)*16+:16]),
              .load,
              .step,
              .act(a),
              .sum_in(above),
              .psum(p_net[HERE*32+:32])
          );
          if (gk == ROWS - 1) begin : g_bottom
            assign bottom[OUT*32+:32] = p_net[HERE*32+:32];
          end
        end
      end
    end
  end
endmodule
