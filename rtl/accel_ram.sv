// A simple dual-port RAM with a synchronous read: the form FPGA block RAM takes (one write port,
// one read port whose data is registered). Every buffer of the accelerator is built from these.
// The accelerator never reads and writes one address in the same cycle, so the read-during-write
// behaviour (which differs between RAM primitives) never matters.
// Not in waveforms: its ports are the parent's traced vectors (act_*, acc_*), and a RAM per
// column would multiply the waveform's size.
/* verilator tracing_off */
module accel_ram #(
    parameter int WIDTH = 16,
    parameter int DEPTH = 64,
    parameter int AW = DEPTH > 1 ? $clog2(DEPTH) : 1
) (
    input  logic             clk,
    input  logic             we,
    input  logic [   AW-1:0] waddr,
    input  logic [WIDTH-1:0] wdata,
    input  logic             re,
    input  logic [   AW-1:0] raddr,
    output logic [WIDTH-1:0] rdata
);
  logic [WIDTH-1:0] mem[DEPTH];
  always_ff @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    if (re) rdata <= mem[raddr];
  end
endmodule
