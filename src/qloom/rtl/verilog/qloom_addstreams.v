// qloom_addstreams: AXI4-Stream join of a residual connection (FINN's AddStreams):
// out = MUL0*x0 + MUL1*x1, elementwise.
//
// Parameters
//   CHANNELS  channels per pixel (CHANNELS % PE == 0)
//   PE        elements per beat (both inputs and the output)
//   IN0_BITS, IN0_SIGNED, IN1_BITS, IN1_SIGNED  element types of the inputs
//   MUL0, MUL1  positive integer weights of the inputs (align the two branches' scales)
//   OUT_BITS, OUT_SIGNED  element type of the output, <= 32 bits (holds every sum: not
//             checked)
//
// Streams
//   input k: s_axis_tdata (input 0 at [0 +: PE*IN0_BITS], input 1 above it),
//   s_axis_tvalid[k], s_axis_tready[k]; output m_axis_tdata [PE*OUT_BITS-1:0].
//   Element i of a beat at [i*W +: W].
//
// Timing
//   One beat per cycle when both inputs hold a beat and the output has room.
//   Latency 4 cycles from the later input beat (input qloom_fifo 2, output 2).
//   All outputs come from qloom_fifo registers.
//
// Memory use
//   3 qloom_fifo of DEPTH 2 (registers); PE adders of OUT_BITS + 2 bits.
// Depends on: qloom_axis.vh, qloom_fifo.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_addstreams #(
    parameter integer CHANNELS = 4, PE = 1,
    parameter integer IN0_BITS = 8, IN0_SIGNED = 1, IN1_BITS = 8, IN1_SIGNED = 1,
    parameter integer MUL0 = 1, MUL1 = 1,  // y = MUL0 * x0 + MUL1 * x1
    parameter integer OUT_BITS = 9,
    // OUT_SIGNED only says how the consumer reads the output bits
    /* verilator lint_off UNUSEDPARAM */
    parameter integer OUT_SIGNED = 1
    /* verilator lint_on UNUSEDPARAM */
) (
    `QLOOM_AXIS_PORTS_N(PE*(IN0_BITS+IN1_BITS), 2, PE*OUT_BITS, 1)
);
    if (CHANNELS % PE != 0 || OUT_BITS < IN0_BITS || OUT_BITS < IN1_BITS || OUT_BITS > 32
            || MUL0 < 1 || MUL1 < 1) begin : g_err
        $error("qloom_addstreams: CHANNELS must be a multiple of PE, IN0_BITS, IN1_BITS <= OUT_BITS <= 32, MUL0, MUL1 >= 1");
    end

    localparam integer W0 = PE * IN0_BITS;
    localparam integer W1 = PE * IN1_BITS;
    localparam integer AW = OUT_BITS + 2;  // lane arithmetic width (>= each input + 1)
    localparam integer MUL0_I = MUL0;
    localparam integer MUL1_I = MUL1;
    localparam [63:0] M0_64 = {32'd0, MUL0_I};  // weights are positive (< 2^31)
    localparam [63:0] M1_64 = {32'd0, MUL1_I};
    localparam signed [AW-1:0] M0 = M0_64[AW-1:0];
    localparam signed [AW-1:0] M1 = M1_64[AW-1:0];

    wire [W0-1:0] d0;
    wire [W1-1:0] d1;
    wire v0, v1, room;
    wire fire = v0 && v1 && room;
    wire [PE*OUT_BITS-1:0] sum;

    qloom_fifo #(.WIDTH(W0), .DEPTH(2), .RAM_STYLE("registers")) u_in0 (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata[W0-1:0]), .s_axis_tvalid(s_axis_tvalid[0]),
        .s_axis_tready(s_axis_tready[0]),
        .m_axis_tdata(d0), .m_axis_tvalid(v0), .m_axis_tready(fire));
    qloom_fifo #(.WIDTH(W1), .DEPTH(2), .RAM_STYLE("registers")) u_in1 (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata[W0 +: W1]), .s_axis_tvalid(s_axis_tvalid[1]),
        .s_axis_tready(s_axis_tready[1]),
        .m_axis_tdata(d1), .m_axis_tvalid(v1), .m_axis_tready(fire));

    genvar i;
    for (i = 0; i < PE; i = i + 1) begin : g_lane
        wire [IN0_BITS-1:0] r0 = d0[i*IN0_BITS +: IN0_BITS];
        wire [IN1_BITS-1:0] r1 = d1[i*IN1_BITS +: IN1_BITS];
        wire signed [AW-1:0] x0 = (IN0_SIGNED != 0) ? {{(AW-IN0_BITS){r0[IN0_BITS-1]}}, r0}
                                                    : {{(AW-IN0_BITS){1'b0}}, r0};
        wire signed [AW-1:0] x1 = (IN1_SIGNED != 0) ? {{(AW-IN1_BITS){r1[IN1_BITS-1]}}, r1}
                                                    : {{(AW-IN1_BITS){1'b0}}, r1};
        wire signed [AW-1:0] y = x0 * M0 + x1 * M1;
        assign sum[i*OUT_BITS +: OUT_BITS] = y[OUT_BITS-1:0];
        /* verilator lint_off UNUSEDSIGNAL */  // the two guard bits of the lane sum
        wire [1:0] unused_guard = y[AW-1:OUT_BITS];
        /* verilator lint_on UNUSEDSIGNAL */
    end

    qloom_fifo #(.WIDTH(PE*OUT_BITS), .DEPTH(2), .RAM_STYLE("registers")) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(sum), .s_axis_tvalid(v0 && v1), .s_axis_tready(room),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready));
endmodule
`default_nettype wire
