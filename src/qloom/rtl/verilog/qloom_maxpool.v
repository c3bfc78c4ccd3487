// qloom_maxpool: streaming max pooling (NHWC), any kernel / stride, no padding.
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input height, width
//   CHANNELS, PE           channels; PE channels per beat (CHANNELS % PE == 0), CF = CHANNELS/PE
//   K_H, K_W               pool window (K = K_H = K_W for the usual square pool)
//   S_H, S_W               stride (default = kernel)
//   ELEM_BITS, SIGNED      element width, 1 = two's complement, 0 = unsigned
//   RAM_STYLE              line buffer attribute ("auto" | "block" | "distributed")
//   OFM_DIM = (IFM_DIM - K) / S + 1 (floor; trailing rows/columns are dropped)
//
// Streams
//   s_axis_tdata [PE*ELEM_BITS-1:0]: IFM_DIM_H*IFM_DIM_W*CF beats per frame (NHWC)
//   m_axis_tdata [PE*ELEM_BITS-1:0]: OFM_H*OFM_W*CF beats per frame (NHWC),
//     element = max over the K_H x K_W window of that channel.
//
// Architecture: qloom_pool (MODE max, no padding): qloom_swg (window stream, order
//   (ky, kx, cf)) -> qloom_pool_reduce.
// Cycles (no stalls): max(OFM_H*OFM_W*K_H*K_W*CF, IFM_H*IFM_W*CF) per frame
//   (= the input beats for K = S); see qloom.ops.pool.cycles_qloom_pool.
// Memory: the qloom_swg line buffer (R rows of IFM_DIM_W*CF beats, R =
//   K_H + S_H or a little more) + CF x PE*ELEM_BITS partial maxima + 2 small FIFOs.
//
// Depends on: qloom_pool.v, qloom_swg.v, qloom_pool_reduce.v, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v
`default_nettype none

module qloom_maxpool #(
    parameter integer IFM_DIM_H = 4,
    parameter integer IFM_DIM_W = 4,
    parameter integer CHANNELS = 1,
    parameter integer PE = 1,
    parameter integer K_H = 2,
    parameter integer K_W = K_H,
    parameter integer S_H = K_H,
    parameter integer S_W = K_W,
    parameter integer ELEM_BITS = 8,
    parameter integer SIGNED = 0,
    parameter RAM_STYLE = "auto"
) (
    input  wire                    ap_clk,
    input  wire                    ap_rst_n,
    input  wire [PE*ELEM_BITS-1:0] s_axis_tdata,
    input  wire                    s_axis_tvalid,
    output wire                    s_axis_tready,
    output wire [PE*ELEM_BITS-1:0] m_axis_tdata,
    output wire                    m_axis_tvalid,
    input  wire                    m_axis_tready
);
    qloom_pool #(
        .IFM_DIM_H(IFM_DIM_H), .IFM_DIM_W(IFM_DIM_W), .CHANNELS(CHANNELS), .PE(PE),
        .K_H(K_H), .K_W(K_W), .S_H(S_H), .S_W(S_W),
        .PAD_T(0), .PAD_B(0), .PAD_L(0), .PAD_R(0),
        .ELEM_BITS(ELEM_BITS), .SIGNED(SIGNED), .MODE(0), .OUT_BITS(ELEM_BITS), .RAM_STYLE(RAM_STYLE)
    ) u_pool (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
