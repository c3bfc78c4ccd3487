// qloom_pool: streaming window pooling (NHWC): qloom_swg -> qloom_pool_reduce.
// StreamingMaxPool (MODE 0, no padding) and SumPool (MODE 1, zero padding); see qloom.ops.pool.
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input height, width
//   CHANNELS, PE           channels; PE channels per beat (CHANNELS % PE == 0), CF = CHANNELS/PE
//   K_H, K_W, S_H, S_W     window and stride
//   PAD_T, PAD_B, PAD_L, PAD_R   zero padding (padded positions are 0)
//   ELEM_BITS, SIGNED      input element width, 1 = two's complement, 0 = unsigned
//   MODE                   0: max, 1: sum (qloom_pool_reduce)
//   OUT_BITS               output element width (>= ELEM_BITS)
//   RAM_STYLE              line buffer attribute ("auto" | "block" | "distributed")
//   OFM_DIM = (IFM_DIM + PAD_before + PAD_after - K) / S + 1 (floor)
//
// Streams
//   s_axis_tdata [PE*ELEM_BITS-1:0]: IFM_DIM_H*IFM_DIM_W*CF beats per frame (NHWC)
//   m_axis_tdata [PE*OUT_BITS-1:0]: OFM_H*OFM_W*CF beats per frame (NHWC), element =
//     max / sum over the K_H x K_W window of that channel.
//
// Cycles (no stalls): max(OFM_H*OFM_W*K_H*K_W*CF, IFM_H*IFM_W*CF) per frame.
// Memory: the qloom_swg line buffer (R rows of IFM_DIM_W*CF beats, R = K_H + S_H or a
//   little more) + CF x PE*OUT_BITS partial results + 2 small FIFOs.
//
// Depends on: qloom_axis.vh, qloom_swg.v, qloom_pool_reduce.v, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_pool #(
    parameter integer IFM_DIM_H = 4, IFM_DIM_W = 4, CHANNELS = 1, PE = 1,  // input map, lanes
    parameter integer K_H = 2, K_W = K_H, S_H = K_H, S_W = K_W,            // kernel, stride
    parameter integer PAD_T = 0, PAD_B = 0, PAD_L = 0, PAD_R = 0,          // zero padding
    parameter integer ELEM_BITS = 8, SIGNED = 0, MODE = 0, OUT_BITS = ELEM_BITS,
    parameter RAM_STYLE = "auto"
) (
    `QLOOM_AXIS_PORTS(PE*ELEM_BITS, PE*OUT_BITS)
);
    // illegal parameters stop elaboration (the window and OUT_BITS are checked by
    // qloom_swg and qloom_pool_reduce)
    if (PE < 1 || CHANNELS % PE != 0) begin : g_err_pe
        $error("qloom_pool: CHANNELS must be a multiple of PE (PE >= 1)");
    end

    wire [PE*ELEM_BITS-1:0] win_tdata;
    wire win_tvalid, win_tready;

    qloom_swg #(
        .IFM_DIM_H(IFM_DIM_H), .IFM_DIM_W(IFM_DIM_W), .CHANNELS(CHANNELS), .SIMD(PE),
        .K_H(K_H), .K_W(K_W), .S_H(S_H), .S_W(S_W),
        .PAD_T(PAD_T), .PAD_B(PAD_B), .PAD_L(PAD_L), .PAD_R(PAD_R),
        .ELEM_BITS(ELEM_BITS), .RAM_STYLE(RAM_STYLE)
    ) u_swg (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(win_tdata), .m_axis_tvalid(win_tvalid), .m_axis_tready(win_tready)
    );

    qloom_pool_reduce #(
        .WINDOW(K_H*K_W), .CF(CHANNELS/PE), .PE(PE), .ELEM_BITS(ELEM_BITS),
        .SIGNED(SIGNED), .MODE(MODE), .OUT_BITS(OUT_BITS)
    ) u_red (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(win_tdata), .s_axis_tvalid(win_tvalid), .s_axis_tready(win_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
