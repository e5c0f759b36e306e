// Arithmetic of the accelerator: bf16 x bf16 -> fp32 products and fp32 additions, IEEE 754
// round-to-nearest-even, with these documented departures (docs/accelerator.md):
//  * subnormal inputs are read as zero of the same sign, subnormal results flush to a zero
//    of the result's sign;
//  * every NaN result is the canonical quiet NaN 0x7FC00000.
// The C golden model (host/bf16.c) implements the same contract; tests compare them bit for bit.
package accel_fp;

  localparam logic [31:0] FP32_QNAN = 32'h7FC0_0000;

  // A bf16 product has at most 16 significant bits, so it is exact in fp32 unless it
  // overflows (-> Inf) or falls below the smallest normal (-> signed zero).
  function automatic logic [31:0] bf16_mul(input logic [15:0] a, input logic [15:0] b);
    logic        sign;
    logic [15:0] prod;
    int          exp;
    sign = a[15] ^ b[15];
    if ((a[14:7] == 8'hFF && a[6:0] != 0) || (b[14:7] == 8'hFF && b[6:0] != 0))
      return FP32_QNAN;
    if (a[14:7] == 8'hFF || b[14:7] == 8'hFF)
      return (a[14:7] == 0 || b[14:7] == 0) ? FP32_QNAN : {sign, 8'hFF, 23'd0};
    if (a[14:7] == 0 || b[14:7] == 0) return {sign, 31'd0};
    prod = {8'd1, a[6:0]} * {8'd1, b[6:0]};  // 1.f * 1.f in [1, 4), binary point at bit 14
    exp  = int'(a[14:7]) + int'(b[14:7]) - 127 + int'(prod[15]);
    if (exp >= 255) return {sign, 8'hFF, 23'd0};
    if (exp <= 0) return {sign, 31'd0};
    return prod[15] ? {sign, exp[7:0], prod[14:0], 8'd0} : {sign, exp[7:0], prod[13:0], 9'd0};
  endfunction

  // fp32 addition with guard, round and sticky bits below a 24-bit significand.
  function automatic logic [31:0] fp32_add(input logic [31:0] x, input logic [31:0] y);
    logic [31:0] larger, lesser;
    logic [26:0] sig_big, sig_small, aligned;
    logic [27:0] sum;
    logic [31:0] norm;
    logic [24:0] rounded;
    logic        round_up;
    int          exp, gap, shift;
    if ((x[30:23] == 8'hFF && x[22:0] != 0) || (y[30:23] == 8'hFF && y[22:0] != 0))
      return FP32_QNAN;
    if (x[30:23] == 8'hFF && y[30:23] == 8'hFF) return (x[31] == y[31]) ? x : FP32_QNAN;
    if (x[30:23] == 8'hFF) return x;
    if (y[30:23] == 8'hFF) return y;
    if (x[30:23] == 0 && y[30:23] == 0) return {x[31] & y[31], 31'd0};
    if (x[30:23] == 0) return y;
    if (y[30:23] == 0) return x;
    if (x[30:0] >= y[30:0]) begin
      larger   = x;
      lesser = y;
    end else begin
      larger   = y;
      lesser = x;
    end
    sig_big   = {1'b1, larger[22:0], 3'b000};
    sig_small = {1'b1, lesser[22:0], 3'b000};
    gap      = int'(larger[30:23]) - int'(lesser[30:23]);
    if (gap >= 27) aligned = 27'd1;  // only the sticky bit survives
    else aligned = (sig_small >> gap) | {26'd0, (sig_small & ((27'd1 << gap) - 27'd1)) != 0};
    if (larger[31] == lesser[31]) sum = {1'b0, sig_big} + {1'b0, aligned};
    else sum = {1'b0, sig_big} - {1'b0, aligned};
    if (sum == 0) return 32'd0;  // exact cancellation gives +0 under round-to-nearest
    exp = int'(larger[30:23]);
    if (sum[27]) begin  // carry out: shift right, keeping the sticky bit
      sum = {1'b0, sum[27:2], sum[1] | sum[0]};
      exp = exp + 1;
    end
    // Normalise: move the leading one to bit 31 in five steps (a binary leading-zero count).
    norm  = {sum[26:0], 5'd0};
    shift = 0;
    if (norm[31:16] == 0) begin
      norm  = norm << 16;
      shift = shift + 16;
    end
    if (norm[31:24] == 0) begin
      norm  = norm << 8;
      shift = shift + 8;
    end
    if (norm[31:28] == 0) begin
      norm  = norm << 4;
      shift = shift + 4;
    end
    if (norm[31:30] == 0) begin
      norm  = norm << 2;
      shift = shift + 2;
    end
    if (norm[31] == 0) begin
      norm  = norm << 1;
      shift = shift + 1;
    end
    exp      = exp - shift;
    // norm[31:8] is the significand, norm[7] the guard bit, norm[6:5] round and sticky.
    round_up = norm[7] & (norm[6] | norm[5] | norm[8]);
    rounded  = {1'b0, norm[31:8]} + {24'd0, round_up};
    if (rounded[24]) begin
      rounded = rounded >> 1;
      exp = exp + 1;
    end
    if (exp >= 255) return {larger[31], 8'hFF, 23'd0};
    if (exp <= 0) return {larger[31], 31'd0};
    return {larger[31], exp[7:0], rounded[22:0]};
  endfunction

endpackage
