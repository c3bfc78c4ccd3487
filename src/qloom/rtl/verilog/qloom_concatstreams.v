// qloom_concatstreams: AXI4-Stream channel concatenation of two streams (FINN's
// StreamingConcat): per pixel, input 0's C0 channels, then input 1's C1.
//
// Parameters
//   C0, C1    channels of input 0 and input 1 (both % PE == 0)
//   PE        elements per beat (both inputs and the output)
//   IN0_BITS, IN0_SIGNED, IN1_BITS, IN1_SIGNED  element types of the inputs
//   OUT_BITS, OUT_SIGNED  element type of the output (sign- or zero-extended inputs)
//
// Streams
//   input k: s_axis_tdata (input 0 at [0 +: PE*IN0_BITS], input 1 above it),
//   s_axis_tvalid[k], s_axis_tready[k]; output m_axis_tdata [PE*OUT_BITS-1:0].
//
// Timing
//   One output beat per cycle: (C0+C1)/PE beats per pixel. Latency 4 cycles
//   (input qloom_fifo 2, output qloom_fifo 2). All outputs from registers.
//
// Memory use
//   3 qloom_fifo of DEPTH 2 (registers), a beat counter.
// Depends on: qloom_axis.vh, qloom_fifo.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_concatstreams #(
    parameter integer C0 = 4, C1 = 4, PE = 1,
    parameter integer IN0_BITS = 8, IN0_SIGNED = 1, IN1_BITS = 8, IN1_SIGNED = 1,
    parameter integer OUT_BITS = 8,
    // OUT_SIGNED only says how the consumer reads the output bits
    /* verilator lint_off UNUSEDPARAM */
    parameter integer OUT_SIGNED = 1
    /* verilator lint_on UNUSEDPARAM */
) (
    `QLOOM_AXIS_PORTS_N(PE*(IN0_BITS+IN1_BITS), 2, PE*OUT_BITS, 1)
);
    if (C0 % PE != 0 || C1 % PE != 0 || OUT_BITS < IN0_BITS || OUT_BITS < IN1_BITS) begin : g_err
        $error("qloom_concatstreams: C0 and C1 must be multiples of PE, OUT_BITS >= IN0_BITS, IN1_BITS");
    end

    localparam integer W0 = PE * IN0_BITS;
    localparam integer W1 = PE * IN1_BITS;
    localparam integer NB0 = C0 / PE;          // beats of input 0 per pixel
    localparam integer NB = (C0 + C1) / PE;    // output beats per pixel
    localparam integer CW = (NB > 1) ? $clog2(NB) : 1;
    localparam integer LAST_I = NB - 1;
    localparam [CW-1:0] LAST = LAST_I[CW-1:0];
    localparam [CW-1:0] FIRST1 = NB0[CW-1:0];

    wire [W0-1:0] d0;
    wire [W1-1:0] d1;
    wire v0, v1, room;
    reg [CW-1:0] cnt;
    wire sel = (cnt >= FIRST1);               // 0: input 0's channels, 1: input 1's
    wire v = sel ? v1 : v0;
    wire fire = v && room;
    wire [PE*OUT_BITS-1:0] y;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) cnt <= {CW{1'b0}};
        else if (fire) cnt <= (cnt == LAST) ? {CW{1'b0}} : cnt + 1'b1;
    end

    qloom_fifo #(.WIDTH(W0), .DEPTH(2), .RAM_STYLE("registers")) u_in0 (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata[W0-1:0]), .s_axis_tvalid(s_axis_tvalid[0]),
        .s_axis_tready(s_axis_tready[0]),
        .m_axis_tdata(d0), .m_axis_tvalid(v0), .m_axis_tready(room && !sel));
    qloom_fifo #(.WIDTH(W1), .DEPTH(2), .RAM_STYLE("registers")) u_in1 (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata[W0 +: W1]), .s_axis_tvalid(s_axis_tvalid[1]),
        .s_axis_tready(s_axis_tready[1]),
        .m_axis_tdata(d1), .m_axis_tvalid(v1), .m_axis_tready(room && sel));

    genvar i;
    for (i = 0; i < PE; i = i + 1) begin : g_lane
        wire [IN0_BITS-1:0] r0 = d0[i*IN0_BITS +: IN0_BITS];
        wire [IN1_BITS-1:0] r1 = d1[i*IN1_BITS +: IN1_BITS];
        wire [OUT_BITS-1:0] x0, x1;
        if (OUT_BITS > IN0_BITS) begin : g_ext0
            assign x0 = {{(OUT_BITS-IN0_BITS){(IN0_SIGNED != 0) & r0[IN0_BITS-1]}}, r0};
        end else begin : g_same0
            assign x0 = r0;
        end
        if (OUT_BITS > IN1_BITS) begin : g_ext1
            assign x1 = {{(OUT_BITS-IN1_BITS){(IN1_SIGNED != 0) & r1[IN1_BITS-1]}}, r1};
        end else begin : g_same1
            assign x1 = r1;
        end
        assign y[i*OUT_BITS +: OUT_BITS] = sel ? x1 : x0;
    end

    qloom_fifo #(.WIDTH(PE*OUT_BITS), .DEPTH(2), .RAM_STYLE("registers")) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(y), .s_axis_tvalid(v), .s_axis_tready(room),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));
endmodule
`default_nettype wire
