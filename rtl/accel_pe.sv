// One processing element of a weight-stationary MXU, for the synthesis form of the array
// (accel_array.sv): a weight buffer being loaded, the weight in use and a partial sum. While the
// array streams, the sum becomes the sum of the PE above plus activation x weight.
module accel_pe (
    input  logic        clk,
    input  logic        wr,     // this PE's value of a weight load arrives
    input  logic [15:0] w_in,
    input  logic        load,   // the loaded weight goes into use (a MATMUL's issue)
    input  logic        step,   // the array streams
    input  logic [15:0] act,    // the activation this PE holds
    input  logic [31:0] sum_in, // the partial sum of the PE above (0 for the top row)
    output logic [31:0] psum
);
  `include "accel_fp.svh"
  logic [15:0] shadow, w;
  always_ff @(posedge clk) begin
    if (wr) shadow <= w_in;
    if (load) w <= shadow;
    if (step) psum <= pe_mac(sum_in, act, w);
  end
endmodule
