// Arithmetic of the accelerator: bf16 x bf16 -> fp32 products and fp32 additions, IEEE 754
// round-to-nearest-even, with these documented departures (docs/accelerator.md):
//  * subnormal inputs are read as zero of the same sign, subnormal results flush to a zero
//    of the result's sign;
//  * every NaN result is the canonical quiet NaN 0x7FC00000.
// The C golden model (host/device/bf16.c) implements the same contract; tests compare them bit
// for bit.
//
// Included inside each module that computes (`include "accel_fp.svh"), not a package: functions
// in packages and casts to int are beyond some tools (Yosys 0.23), so this file keeps to what
// all three simulators and synthesizers used here accept (docs/fpga.md): sized casts, results
// assigned to the function's name, no early exits. No include guard: every module that includes it needs its own copy.

// A bf16 product has at most 16 significant bits, so it is exact in fp32 unless it
// overflows (-> Inf) or falls below the smallest normal (-> signed zero).
// (One exit per function: Verilator then keeps the temporaries local, several times faster.)
function automatic logic [31:0] bf16_mul(input logic [15:0] mul_a, input logic [15:0] mul_b);
  logic [15:0] prod;
  int exp;
  prod = {8'd1, mul_a[6:0]} * {8'd1, mul_b[6:0]};  // 1.f * 1.f in [1, 4), binary point at bit 14
  exp = 32'(mul_a[14:7]) + 32'(mul_b[14:7]) - 127 + 32'(prod[15]);
  bf16_mul = (mul_a[14:7] == 8'hFF || mul_b[14:7] == 8'hFF) ?
      (((mul_a[14:7] == 8'hFF && mul_a[6:0] != 0) || (mul_b[14:7] == 8'hFF && mul_b[6:0] != 0) ||
        mul_a[14:7] == 0 || mul_b[14:7] == 0) ? 32'h7FC0_0000 : {mul_a[15] ^ mul_b[15], 8'hFF, 23'd0}) :
      (mul_a[14:7] == 0 || mul_b[14:7] == 0 || exp <= 0) ? {mul_a[15] ^ mul_b[15], 31'd0} :
      exp >= 255 ? {mul_a[15] ^ mul_b[15], 8'hFF, 23'd0} :
      prod[15] ? {mul_a[15] ^ mul_b[15], exp[7:0], prod[14:0], 8'd0} :
      {mul_a[15] ^ mul_b[15], exp[7:0], prod[13:0], 9'd0};
endfunction

// fp32 addition with guard, round and sticky bits below a 24-bit significand.
// Selections are ?: and temporaries few: the simulator's C++ then has no data-dependent
// branches and little state traffic (measured: scripts/bench-rtl).
function automatic logic [31:0] fp32_add(input logic [31:0] add_x, input logic [31:0] add_y);
  logic [31:0] larger, lesser, norm, result;
  logic [26:0] aligned;
  logic [27:0] sig_sum;
  logic [24:0] rounded;
  logic z;
  int exp, gap;
  larger = add_x[30:0] < add_y[30:0] ? add_y : add_x;
  lesser = add_x[30:0] < add_y[30:0] ? add_x : add_y;
  gap = 32'(larger[30:23]) - 32'(lesser[30:23]);
  aligned = gap >= 27 ? 27'd1 :  // only the sticky bit survives
      ({1'b1, lesser[22:0], 3'b000} >> gap) |
      {26'd0, ({1'b1, lesser[22:0], 3'b000} & ((27'd1 << gap) - 27'd1)) != 0};
  sig_sum = (larger[31] == lesser[31]) ? {2'b01, larger[22:0], 3'b000} + {1'b0, aligned} :
      {2'b01, larger[22:0], 3'b000} - {1'b0, aligned};
  // a carry out shifts right by one, keeping the sticky bit
  exp = 32'(larger[30:23]) + 32'(sig_sum[27]);
  norm = sig_sum[27] ? {sig_sum[27:2], sig_sum[1] | sig_sum[0], 5'd0} : {sig_sum[26:0], 5'd0};
  // normalise: leading one to bit 31 in five steps (a binary leading-zero count)
  z = norm[31:16] == 0;
  norm = z ? norm << 16 : norm;
  exp = z ? exp - 16 : exp;
  z = norm[31:24] == 0;
  norm = z ? norm << 8 : norm;
  exp = z ? exp - 8 : exp;
  z = norm[31:28] == 0;
  norm = z ? norm << 4 : norm;
  exp = z ? exp - 4 : exp;
  z = norm[31:30] == 0;
  norm = z ? norm << 2 : norm;
  exp = z ? exp - 2 : exp;
  z = norm[31] == 0;
  norm = z ? norm << 1 : norm;
  exp = z ? exp - 1 : exp;
  // norm[31:8] is the significand, norm[7] the guard bit, norm[6:5] round and sticky
  rounded = {1'b0, norm[31:8]} + {24'd0, norm[7] & (norm[6] | norm[5] | norm[8])};
  exp = exp + 32'(rounded[24]);  // rounding carried into the next power of two
  result = exp >= 255 ? {larger[31], 8'hFF, 23'd0} :
      exp <= 0 ? {larger[31], 31'd0} :
      {larger[31], exp[7:0], rounded[24] ? rounded[23:1] : rounded[22:0]};
  // Special operands: NaN, Inf, zero (subnormals read as zero); exact cancellation gives +0.
  fp32_add = (add_x[30:23] == 8'hFF && add_x[22:0] != 0) || (add_y[30:23] == 8'hFF && add_y[22:0] != 0) ||
      (add_x[30:23] == 8'hFF && add_y[30:23] == 8'hFF && add_x[31] != add_y[31]) ? 32'h7FC0_0000 :
      add_x[30:23] == 8'hFF ? add_x : add_y[30:23] == 8'hFF ? add_y :
      add_x[30:23] == 0 ? (add_y[30:23] == 0 ? {add_x[31] & add_y[31], 31'd0} : add_y) :
      add_y[30:23] == 0 ? add_x : sig_sum == 0 ? 32'd0 : result;
endfunction

// What an accumulator takes when a row leaves the array: the sum, or the sum added to its value.
function automatic logic [31:0] acc_retire(input logic acc_on, input logic [31:0] acc_old,
                                           input logic [31:0] acc_sum);
  acc_retire = acc_on ? fp32_add(acc_old, acc_sum) : acc_sum;
endfunction

// One step of a PE: the partial sum from above plus this PE's product.
function automatic logic [31:0] pe_mac(input logic [31:0] mac_sum, input logic [15:0] mac_a,
                                       input logic [15:0] mac_w);
  pe_mac = fp32_add(mac_sum, bf16_mul(mac_a, mac_w));
endfunction
