// Runs one command stream on accel_top (the RTL in either form of the array, or a synthesized
// netlist when NETLIST is defined) the way the Verilator glue does (sim/rtl/model/glue.cpp):
// two reset cycles, commands back to back on the command port, device memory answering a read
// one cycle after the request. Used by tests/host/test_rtl_streams.cpp with Icarus Verilog.
//
// Plusargs: +cmds=FILE (one command a line, hex), +n=COMMANDS, +mem=FILE (port words, hex,
// word `base` first), +base=WORD, +out=FILE. The output holds the memory words, then
// "total busy stall commands macs err_code" in decimal.
module stream_tb;
  parameter int ROWS = 4, COLS = 4, MXUS = 1, ACT_ROWS = 64, ACC_ROWS = 128, BW = 8;
  parameter int INSTANCES = 0;
  parameter int MEM_WORDS = 4096, MAX_CMDS = 4096, BUDGET = 10000000;

  logic clk = 1'b0, rst = 1'b1;
  logic [accel_pkg::CMD_BITS-1:0] cmds[MAX_CMDS];
  logic [BW*8-1:0] mem[MEM_WORDS];
  logic [BW*8-1:0] mem_rdata;
  integer n_cmds, next, base, cycles, fd;
  reg [1023:0] cmds_file, mem_file, out_file;

  logic cmd_ready, mem_rd, mem_wr, idle;
  logic [31:0] mem_addr;
  logic [BW*8-1:0] mem_wdata;
  logic [7:0] err_code;
  logic [63:0] cnt_total, cnt_busy, cnt_stall, cnt_cmds, cnt_macs;
  wire cmd_valid = !rst && next < n_cmds;
  wire [accel_pkg::CMD_BITS-1:0] cmd = cmds[next];

`ifdef NETLIST
  accel_top dut (
`else
  accel_top #(
      .ROWS(ROWS),
      .COLS(COLS),
      .MXUS(MXUS),
      .ACT_ROWS(ACT_ROWS),
      .ACC_ROWS(ACC_ROWS),
      .BW(BW),
      .INSTANCES(INSTANCES)
  ) dut (
`endif
      .clk(clk),
      .rst(rst),
      .cmd_valid(cmd_valid),
      .cmd_ready(cmd_ready),
      .cmd(cmd),
      .mem_rd(mem_rd),
      .mem_wr(mem_wr),
      .mem_addr(mem_addr),
      .mem_wdata(mem_wdata),
      .mem_rdata(mem_rdata),
      .idle(idle),
      .err_code(err_code),
      .cnt_total(cnt_total),
      .cnt_busy(cnt_busy),
      .cnt_stall(cnt_stall),
      .cnt_cmds(cnt_cmds),
      .cnt_macs(cnt_macs)
  );

  always #5 clk = !clk;

  always @(posedge clk)
    if (!rst) begin
      if (cmd_valid && cmd_ready) next <= next + 1;
      if (mem_wr || mem_rd)
        if (mem_addr < base || mem_addr >= base + MEM_WORDS) begin
          $display("stream_tb: memory access at word %0d outside the stream's memory", mem_addr);
          $fatal(1);
        end
      if (mem_wr) mem[mem_addr-base] <= mem_wdata;
      if (mem_rd) mem_rdata <= mem[mem_addr-base];
      cycles <= cycles + 1;
    end

  initial begin
    if (!$value$plusargs("cmds=%s", cmds_file) || !$value$plusargs("n=%d", n_cmds) ||
        !$value$plusargs("mem=%s", mem_file) || !$value$plusargs("base=%d", base) ||
        !$value$plusargs("out=%s", out_file)) begin
      $display("stream_tb: needs +cmds= +n= +mem= +base= +out=");
      $fatal(1);
    end
    $readmemh(cmds_file, cmds, 0, n_cmds - 1);
    $readmemh(mem_file, mem);
    next = 0;
    cycles = 0;
    mem_rdata = '0;
    repeat (2) @(posedge clk);
    #1 rst = 1'b0;
    @(negedge clk);
    while (next < n_cmds || !idle) begin
      if (cycles > BUDGET) begin
        $display("stream_tb: still busy after %0d cycles", cycles);
        $fatal(1);
      end
      @(negedge clk);
    end
    fd = $fopen(out_file, "w");
    for (int i = 0; i < MEM_WORDS; i++) $fwrite(fd, "%h\n", mem[i]);
    $fwrite(fd, "%0d %0d %0d %0d %0d %0d\n", cnt_total, cnt_busy, cnt_stall, cnt_cmds, cnt_macs,
            err_code);
    $fclose(fd);
    $finish;
  end
endmodule
