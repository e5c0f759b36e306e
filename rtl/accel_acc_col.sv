// The adder of one accumulator column, for the synthesis form (accel_top.sv, INSTANCES = 1): when
// a MATMUL retires a row, the column writes the partial sum leaving the bottom PE, or adds it to
// the row's old value (read the cycle before from the column's RAM).
module accel_acc_col (
    input  logic        accumulate,
    input  logic [31:0] old,
    input  logic [31:0] psum,
    output logic [31:0] sum
);
  `include "accel_fp.svh"
  assign sum = acc_retire(accumulate, old, psum);
endmodule
