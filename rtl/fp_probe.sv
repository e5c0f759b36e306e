// Exposes the accelerator's two arithmetic functions as combinational outputs, so tests can
// compare them with the C golden model on millions of operand pairs.
module fp_probe (
    input  logic [15:0] a,
    input  logic [15:0] b,
    input  logic [31:0] x,
    input  logic [31:0] y,
    output logic [31:0] product,
    output logic [31:0] sum
);
  `include "accel_fp.svh"
  assign product = bf16_mul(a, b);
  assign sum = fp32_add(x, y);
endmodule
