// qloom_duplicatestreams: AXI4-Stream fork (FINN's DuplicateStreams): every input
// beat goes to each of N_OUT output streams.
//
// Parameters
//   CHANNELS  channels per pixel (documents the stream; CHANNELS % PE == 0)
//   PE        elements per beat
//   BITS      bits per element
//   N_OUT     output streams (>= 2)
//
// Streams
//   s_axis_tdata [PE*BITS-1:0] in; output k: m_axis_tdata[k*PE*BITS +: PE*BITS],
//   m_axis_tvalid[k], m_axis_tready[k] (one AXI4-Stream per output, packed).
//
// Timing
//   One beat per cycle while every output has room; a beat moves to all outputs in
//   the same cycle (a full output stalls the others). Latency 4 cycles: the input
//   qloom_fifo (2), then the output qloom_fifo (2). s_axis_tready and every output
//   come from qloom_fifo registers (no combinational path from m_axis_tready).
//
// Memory use
//   1 + N_OUT qloom_fifo of DEPTH 2 (registers).
// Depends on: qloom_axis.vh, qloom_fifo.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_duplicatestreams #(
    parameter integer CHANNELS = 4, PE = 1, BITS = 8, N_OUT = 2
) (
    `QLOOM_AXIS_PORTS_N(PE*BITS, 1, N_OUT*PE*BITS, N_OUT)
);
    if (CHANNELS % PE != 0 || N_OUT < 2 || BITS < 1) begin : g_err
        $error("qloom_duplicatestreams: CHANNELS must be a multiple of PE, N_OUT >= 2, BITS >= 1");
    end

    localparam integer W = PE * BITS;
    wire [W-1:0] d;
    wire v;
    wire [N_OUT-1:0] room;
    wire all_room = &room;

    qloom_fifo #(.WIDTH(W), .DEPTH(2), .RAM_STYLE("registers")) u_in (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(d), .m_axis_tvalid(v), .m_axis_tready(all_room));

    genvar k;
    for (k = 0; k < N_OUT; k = k + 1) begin : g_out
        qloom_fifo #(.WIDTH(W), .DEPTH(2), .RAM_STYLE("registers")) u_out (
            .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
            .s_axis_tdata(d), .s_axis_tvalid(v && all_room), .s_axis_tready(room[k]),
            .m_axis_tdata(m_axis_tdata[k*W +: W]), .m_axis_tvalid(m_axis_tvalid[k]),
            .m_axis_tready(m_axis_tready[k]));
    end
endmodule
`default_nettype wire
