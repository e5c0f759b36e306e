// The adder of one accumulator column, for the synthesis form (accel_top.sv, INSTANCES = 1): when
// a MATMUL retires a row, the column writes the partial sum leaving the bottom PE, or adds it to
// the row's old value (read the cycle before from the column's RAM `ram` of MC).
module accel_acc_col #(
    parameter int MC = 1,
    parameter int SW = MC > 1 ? $clog2(MC) : 1
) (
    input  logic             accumulate,
    input  logic [   SW-1:0] ram,
    input  logic [MC*32-1:0] old,  // the column's RAMs' read data
    input  logic [     31:0] psum,
    output logic [     31:0] sum
);
  `include "accel_fp.svh"
  always @* sum = acc_retire(accumulate, old[32'(ram)*32+:32], psum);
endmodule
