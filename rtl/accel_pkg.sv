// The accelerator's command format: opcodes, error codes and the fields of the command word.
// This package is the only place they are written. The C side (accel_isa.h) is generated from
// it at build time by host/device/isa_from_rtl.cmake, which reads the lines below as they are:
// keep one definition a line, in these forms, with the comment saying what it means.
package accel_pkg;

  // Opcodes: the command's op field.
  localparam logic [7:0] OP_LOAD_A = 8'd1;  // rows x R bf16 from addr into activation rows act_off..
  localparam logic [7:0] OP_LOAD_W = 8'd2;  // mxus weight tiles (R x C bf16) into the shadow buffers
  localparam logic [7:0] OP_LOAD_ACC = 8'd3;  // rows x C fp32 from addr into mxu's accumulator rows
  localparam logic [7:0] OP_MATMUL = 8'd4;  // stream activation rows through MXUs 0..mxus-1
  localparam logic [7:0] OP_STORE = 8'd5;  // rows x C fp32 of mxu's accumulator rows out to addr

  // Error codes: err_code holds the first fault the device saw (0: none) until reset.
  localparam logic [7:0] ERR_OPCODE = 8'd1;  // unknown opcode, or a reserved flag bit set
  localparam logic [7:0] ERR_ACT_RANGE = 8'd2;  // activation rows outside the activation buffer
  localparam logic [7:0] ERR_ACC_RANGE = 8'd3;  // accumulator rows outside the accumulator buffer
  localparam logic [7:0] ERR_NO_WEIGHTS = 8'd4;  // a MATMUL on MXUs whose weights were not loaded
  localparam logic [7:0] ERR_MXU = 8'd5;  // an MXU index or count outside the device's MXUs
  localparam logic [7:0] ERR_ROWS = 8'd6;  // a command of zero rows

  // The command word: each field is cmd[LSB +: WIDTH].
  localparam int CMD_OP_LSB = 0;  // opcode
  localparam int CMD_OP_WIDTH = 8;
  localparam int CMD_FLAGS_LSB = 8;  // bit 0: MATMUL accumulates; the others are reserved (0)
  localparam int CMD_FLAGS_WIDTH = 8;
  localparam int CMD_MXUS_LSB = 16;  // LOAD_W, MATMUL: MXUs 0 .. mxus-1
  localparam int CMD_MXUS_WIDTH = 8;
  localparam int CMD_MXU_LSB = 24;  // LOAD_ACC, STORE: which MXU
  localparam int CMD_MXU_WIDTH = 8;
  localparam int CMD_ROWS_LSB = 32;  // LOAD_A, LOAD_ACC, MATMUL, STORE
  localparam int CMD_ROWS_WIDTH = 32;
  localparam int CMD_ACT_OFF_LSB = 64;  // first activation row
  localparam int CMD_ACT_OFF_WIDTH = 32;
  localparam int CMD_ACC_OFF_LSB = 96;  // first accumulator row
  localparam int CMD_ACC_OFF_WIDTH = 32;
  localparam int CMD_ADDR_LSB = 128;  // device-memory address in port words
  localparam int CMD_ADDR_WIDTH = 32;
  localparam int CMD_PF_ADDR_LSB = 160;  // MATMUL: the weights to prefetch, in port words
  localparam int CMD_PF_ADDR_WIDTH = 32;
  localparam int CMD_PF_MXUS_LSB = 192;  // MATMUL: weight tiles to prefetch (0: none)
  localparam int CMD_PF_MXUS_WIDTH = 8;
  localparam int CMD_BITS = 200;  // the whole command word

endpackage
