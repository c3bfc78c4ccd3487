// qloom_fifo: AXI4-Stream FIFO.
//
// Parameters
//   WIDTH      tdata width in bits (>= 1)
//   DEPTH      number of storage words in the memory (>= 1); the FIFO holds
//              DEPTH + 1 beats (DEPTH in memory + 1 in the registered output)
//   RAM_STYLE  "auto" | "block" | "distributed" | "registers", put on the memory as
//              the (* ram_style *) attribute
//
// Streams
//   s_axis_tdata [WIDTH-1:0] in, m_axis_tdata [WIDTH-1:0] out, one word per beat.
//
// Timing
//   Throughput 1 beat/cycle in steady state for DEPTH >= 2 (a write and a read in
//   the same cycle are both accepted); DEPTH = 1 gives 1 beat every 2 cycles.  Latency: a beat written in cycle t is offered on m_axis
//   from cycle t+2.  s_axis_tready = (memory not full): a register, no
//   combinational path from m_axis_tready.  m_axis_tdata/tvalid come from
//   registers (the synchronous read port of the memory).
//
// Memory use
//   DEPTH x WIDTH bits (block RAM friendly: one write port, one synchronous read
//   port with enable) + WIDTH output flip-flops.
// Depends on: qloom_axis.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_fifo #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 16,
    // RAM_STYLE is only read by synthesis tools (as an attribute): Verilator
    // ignores attributes, so it reports the parameter as unused.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto"
    /* verilator lint_on UNUSEDPARAM */
) (
    `QLOOM_AXIS_PORTS(WIDTH, WIDTH)
);
    // illegal parameters stop elaboration
    if (WIDTH < 1 || DEPTH < 1) begin : g_err_size
        $error("qloom_fifo: WIDTH and DEPTH must be >= 1");
    end

    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam integer CW = $clog2(DEPTH + 1);
    localparam integer LAST_I = DEPTH - 1;
    localparam integer FULL_I = DEPTH;
    localparam [AW-1:0] LAST = LAST_I[AW-1:0];
    localparam [CW-1:0] FULL = FULL_I[CW-1:0];

    (* ram_style = RAM_STYLE *) reg [WIDTH-1:0] mem [0:DEPTH-1];

    reg [AW-1:0] wr_ptr, rd_ptr;
    reg [CW-1:0] count;       // words in the memory
    reg [WIDTH-1:0] q;        // registered read data = output
    reg q_valid;

    wire wr = s_axis_tvalid && (count != FULL);
    wire rd = (count != {CW{1'b0}}) && (!q_valid || m_axis_tready);

    assign s_axis_tready = (count != FULL);
    assign m_axis_tdata = q;
    assign m_axis_tvalid = q_valid;

    always @(posedge ap_clk) begin
        if (wr) mem[wr_ptr] <= s_axis_tdata;
    end

    always @(posedge ap_clk) begin
        if (rd) q <= mem[rd_ptr];
    end

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            wr_ptr <= {AW{1'b0}};
            rd_ptr <= {AW{1'b0}};
            count <= {CW{1'b0}};
            q_valid <= 1'b0;
        end else begin
            if (wr) wr_ptr <= (wr_ptr == LAST) ? {AW{1'b0}} : wr_ptr + 1'b1;
            if (rd) rd_ptr <= (rd_ptr == LAST) ? {AW{1'b0}} : rd_ptr + 1'b1;
            if (wr && !rd) count <= count + 1'b1;
            else if (rd && !wr) count <= count - 1'b1;
            if (rd) q_valid <= 1'b1;
            else if (m_axis_tready) q_valid <= 1'b0;
        end
    end
endmodule

`default_nettype wire
