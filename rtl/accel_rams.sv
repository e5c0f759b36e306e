// N simple dual-port RAMs with synchronous reads (accel_ram.sv), RAM i on bits [i], [i*AW +: AW]
// and [i*WIDTH +: WIDTH] of the port vectors. RAM i writes lane wlane[i] of the memory port's
// word, or, when wother[i], value i / GROUP of `other` (the accumulators' retired rows).
// Written twice, selected by INSTANCES, as the PE array is (accel_array.sv):
//  * 0, for simulation: the RAMs as one array in one clocked process, looped over, so that the
//    simulator's code does not grow with N (a generate loop of a few hundred instances is
//    megabytes of C++ in Verilator), and the write data is picked at the clock edge only;
//  * 1, for synthesis: one accel_ram each, which a synthesis tool maps to block or LUT RAM.
// No RAM is read and written at one address in the same cycle (accel_ram.sv), so the order of
// the two in the loop does not matter.
/* verilator tracing_off */
module accel_rams #(
    parameter int N = 1,
    parameter int WIDTH = 16,
    parameter int DEPTH = 64,
    parameter int AW = DEPTH > 1 ? $clog2(DEPTH) : 1,
    parameter int LANES = 4,  // WIDTH-bit lanes of a port word
    parameter int LW = LANES > 1 ? $clog2(LANES) : 1,
    parameter int GROUP = 1,  // RAMs per value of `other`
    parameter int INSTANCES = 0
) (
    input  logic                           clk,
    input  logic [                  N-1:0] we,
    input  logic [               N*AW-1:0] waddr,
    input  logic [               N*LW-1:0] wlane,
    input  logic [                  N-1:0] wother,
    input  logic [        LANES*WIDTH-1:0] port,
    /* verilator lint_off UNUSEDSIGNAL */  // (unused where no RAM takes `other`)
    input  logic [(N/GROUP)*WIDTH-1:0] other,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [                  N-1:0] re,
    input  logic [               N*AW-1:0] raddr,
    output logic [            N*WIDTH-1:0] rdata
);
  if (INSTANCES == 0) begin : g_loops
    logic [WIDTH-1:0] mem[N][DEPTH];
    /* verilator lint_off BLKSEQ */
    always_ff @(posedge clk)
      if (re != 0 || we != 0) begin : s_rams
        logic [N*WIDTH-1:0] rd;
        rd = rdata;
        for (int i = 0; i < N; i++) begin
          if (re[i]) rd[i*WIDTH+:WIDTH] = mem[i][raddr[i*AW+:AW]];
          if (we[i])
            mem[i][waddr[i*AW+:AW]] = wother[i] ? other[(i/GROUP)*WIDTH+:WIDTH] :
                port[32'(wlane[i*LW+:LW])*WIDTH+:WIDTH];
        end
        rdata <= rd;
      end
    /* verilator lint_on BLKSEQ */
  end else begin : g_rams
    logic [N*WIDTH-1:0] wdata;
    for (genvar gi = 0; gi < N; gi++) begin : g_ram
      localparam int G = gi / GROUP;
      assign wdata[gi*WIDTH+:WIDTH] = wother[gi] ? other[G*WIDTH+:WIDTH] :
          port[32'(wlane[gi*LW+:LW])*WIDTH+:WIDTH];
      accel_ram #(
          .WIDTH(WIDTH),
          .DEPTH(DEPTH),
          .AW(AW)
      ) ram (
          .clk,
          .we(we[gi]),
          .waddr(waddr[gi*AW+:AW]),
          .wdata(wdata[gi*WIDTH+:WIDTH]),
          .re(re[gi]),
          .raddr(raddr[gi*AW+:AW]),
          .rdata(rdata[gi*WIDTH+:WIDTH])
      );
    end
  end
endmodule
