// qloom_sumpool: streaming sum pooling (NHWC) for average pooling (the divide
// is folded into the next quantizer / threshold by the compiler).
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input height, width
//   CHANNELS, PE           channels; PE channels per beat (CHANNELS % PE == 0), CF = CHANNELS/PE
//   K_H, K_W, S_H, S_W     window and stride (stride defaults to the window)
//   PAD_T, PAD_B, PAD_L, PAD_R   zero padding (padded positions add 0, i.e.
//                          count_include_pad semantics)
//   ELEM_BITS, SIGNED      input element width and signedness
//   OUT_BITS               output element width, default ELEM_BITS + ceil(log2(K_H*K_W));
//                          signed iff SIGNED
//   OFM_DIM = (IFM_DIM + PAD_before + PAD_after - K) / S + 1 (floor)
//
// Streams
//   s_axis_tdata [PE*ELEM_BITS-1:0]: IFM_DIM_H*IFM_DIM_W*CF beats per frame (NHWC)
//   m_axis_tdata [PE*OUT_BITS-1:0]: OFM_H*OFM_W*CF beats per frame (NHWC)
//
// Architecture: qloom_pool (MODE sum): qloom_swg -> qloom_pool_reduce.
// Cycles (no stalls): max(OFM_H*OFM_W*K_H*K_W*CF, IFM_H*IFM_W*CF) per frame.
// Memory: as qloom_maxpool (line buffer of ~K_H+S_H rows + CF partial sums).
//
// Depends on: qloom_pool.v, qloom_swg.v, qloom_pool_reduce.v, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v
`default_nettype none

module qloom_sumpool #(
    parameter integer IFM_DIM_H = 4,
    parameter integer IFM_DIM_W = 4,
    parameter integer CHANNELS = 1,
    parameter integer PE = 1,
    parameter integer K_H = 2,
    parameter integer K_W = K_H,
    parameter integer S_H = K_H,
    parameter integer S_W = K_W,
    parameter integer PAD_T = 0,
    parameter integer PAD_B = 0,
    parameter integer PAD_L = 0,
    parameter integer PAD_R = 0,
    parameter integer ELEM_BITS = 8,
    parameter integer SIGNED = 0,
    parameter integer OUT_BITS = ELEM_BITS + ((K_H*K_W > 1) ? $clog2(K_H*K_W) : 0),
    parameter RAM_STYLE = "auto"
) (
    input  wire                    ap_clk,
    input  wire                    ap_rst_n,
    input  wire [PE*ELEM_BITS-1:0] s_axis_tdata,
    input  wire                    s_axis_tvalid,
    output wire                    s_axis_tready,
    output wire [PE*OUT_BITS-1:0]  m_axis_tdata,
    output wire                    m_axis_tvalid,
    input  wire                    m_axis_tready
);
    qloom_pool #(
        .IFM_DIM_H(IFM_DIM_H), .IFM_DIM_W(IFM_DIM_W), .CHANNELS(CHANNELS), .PE(PE),
        .K_H(K_H), .K_W(K_W), .S_H(S_H), .S_W(S_W),
        .PAD_T(PAD_T), .PAD_B(PAD_B), .PAD_L(PAD_L), .PAD_R(PAD_R),
        .ELEM_BITS(ELEM_BITS), .SIGNED(SIGNED), .MODE(1), .OUT_BITS(OUT_BITS), .RAM_STYLE(RAM_STYLE)
    ) u_pool (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
