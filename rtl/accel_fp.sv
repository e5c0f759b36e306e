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
  // (Functions here have one exit: Verilator then keeps their temporaries local, which is
  // several times faster than early returns.)
  function automatic logic [31:0] bf16_mul(input logic [15:0] a, input logic [15:0] b);
    logic [15:0] prod;
    int exp;
    prod = {8'd1, a[6:0]} * {8'd1, b[6:0]};  // 1.f * 1.f in [1, 4), binary point at bit 14
    exp  = int'(a[14:7]) + int'(b[14:7]) - 127 + int'(prod[15]);
    return (a[14:7] == 8'hFF || b[14:7] == 8'hFF) ?
        (((a[14:7] == 8'hFF && a[6:0] != 0) || (b[14:7] == 8'hFF && b[6:0] != 0) ||
          a[14:7] == 0 || b[14:7] == 0) ? FP32_QNAN : {a[15] ^ b[15], 8'hFF, 23'd0}) :
        (a[14:7] == 0 || b[14:7] == 0 || exp <= 0) ? {a[15] ^ b[15], 31'd0} :
        exp >= 255 ? {a[15] ^ b[15], 8'hFF, 23'd0} :
        prod[15] ? {a[15] ^ b[15], exp[7:0], prod[14:0], 8'd0} :
        {a[15] ^ b[15], exp[7:0], prod[13:0], 9'd0};
  endfunction

  // fp32 addition with guard, round and sticky bits below a 24-bit significand.
  // Selections are ?: and temporaries few: the simulator's C++ then has no data-dependent
  // branches and little state traffic (measured: scripts/bench-rtl).
  function automatic logic [31:0] fp32_add(input logic [31:0] x, input logic [31:0] y);
    logic [31:0] larger, lesser, norm, result;
    logic [26:0] aligned;
    logic [27:0] sum;
    logic [24:0] rounded;
    logic z;
    int exp, gap;
    larger = x[30:0] < y[30:0] ? y : x;
    lesser = x[30:0] < y[30:0] ? x : y;
    gap = int'(larger[30:23]) - int'(lesser[30:23]);
    aligned = gap >= 27 ? 27'd1 :  // only the sticky bit survives
        ({1'b1, lesser[22:0], 3'b000} >> gap) |
        {26'd0, ({1'b1, lesser[22:0], 3'b000} & ((27'd1 << gap) - 27'd1)) != 0};
    sum = (larger[31] == lesser[31]) ? {2'b01, larger[22:0], 3'b000} + {1'b0, aligned} :
        {2'b01, larger[22:0], 3'b000} - {1'b0, aligned};
    // a carry out shifts right by one, keeping the sticky bit
    exp = int'(larger[30:23]) + int'(sum[27]);
    norm = sum[27] ? {sum[27:2], sum[1] | sum[0], 5'd0} : {sum[26:0], 5'd0};
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
    exp = exp + int'(rounded[24]);  // rounding carried into the next power of two
    result = exp >= 255 ? {larger[31], 8'hFF, 23'd0} :
        exp <= 0 ? {larger[31], 31'd0} :
        {larger[31], exp[7:0], rounded[24] ? rounded[23:1] : rounded[22:0]};
    // Special operands: NaN, Inf, zero (subnormals read as zero); exact cancellation gives +0.
    return (x[30:23] == 8'hFF && x[22:0] != 0) || (y[30:23] == 8'hFF && y[22:0] != 0) ||
        (x[30:23] == 8'hFF && y[30:23] == 8'hFF && x[31] != y[31]) ? FP32_QNAN :
        x[30:23] == 8'hFF ? x : y[30:23] == 8'hFF ? y :
        x[30:23] == 0 ? (y[30:23] == 0 ? {x[31] & y[31], 31'd0} : y) :
        y[30:23] == 0 ? x : sum == 0 ? 32'd0 : result;
  endfunction

endpackage
