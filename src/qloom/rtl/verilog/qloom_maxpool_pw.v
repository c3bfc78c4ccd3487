// qloom_maxpool_pw: pixel-streaming max pooling (NHWC), one whole input pixel per beat.
//
// The low-latency variant of qloom_maxpool: a parallel-window generator (qloom_swg_pw)
// hands over a whole K_H x K_W x CHANNELS window in the cycle after the input pixel that
// completes it, and a per-channel comparator tree reduces it in the same cycle; the
// result goes through a 2-word qloom_fifo (registered outputs).
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input height, width
//   CHANNELS               channels (all of them in every beat)
//   K_H, K_W               pool window
//   S_H, S_W               stride (default = kernel)
//   ELEM_BITS, SIGNED      element width, 1 = two's complement, 0 = unsigned (bipolar
//                          elements: unsigned bits, 1 = +1 wins)
//   RAM_STYLE              line buffer attribute ("auto" | "block" | "distributed")
//   OFM_DIM = (IFM_DIM - K) / S + 1 (floor; trailing rows/columns are dropped)
//
// Streams
//   s_axis_tdata [CHANNELS*ELEM_BITS-1:0]: IFM_DIM_H*IFM_DIM_W beats per frame
//   m_axis_tdata [CHANNELS*ELEM_BITS-1:0]: OFM_H*OFM_W beats per frame, element c =
//     max over the K_H x K_W window of channel c.
//
// Cycles (no stalls): IFM_DIM_H*IFM_DIM_W per frame (qloom_swg_pw's scan, one input
//   pixel per cycle); latency: qloom_swg_pw's + 2 (the FIFO).
// Memory: qloom_swg_pw's line buffers (K_H-1 rows of IFM_DIM_W pixels) and window
//   registers, + a 2-word FIFO of CHANNELS*ELEM_BITS bits.
//
// Depends on: qloom_axis.vh, qloom_swg_pw.v, qloom_fifo.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_maxpool_pw #(
    parameter integer IFM_DIM_H = 4, IFM_DIM_W = 4, CHANNELS = 1,  // input map
    parameter integer K_H = 2, K_W = K_H, S_H = K_H, S_W = K_W,    // kernel, stride
    parameter integer ELEM_BITS = 8, SIGNED = 0,
    parameter RAM_STYLE = "auto"
) (
    `QLOOM_AXIS_PORTS(CHANNELS*ELEM_BITS, CHANNELS*ELEM_BITS)
);
    localparam integer KK = K_H * K_W;
    localparam integer EB = ELEM_BITS;

    wire [KK*CHANNELS*EB-1:0] win_tdata;
    wire win_tvalid, win_tready;

    qloom_swg_pw #(
        .IFM_DIM_H(IFM_DIM_H), .IFM_DIM_W(IFM_DIM_W), .CHANNELS(CHANNELS),
        .K_H(K_H), .K_W(K_W), .S_H(S_H), .S_W(S_W),
        .PAD_T(0), .PAD_B(0), .PAD_L(0), .PAD_R(0),
        .ELEM_BITS(EB), .RAM_STYLE(RAM_STYLE)
    ) u_swg (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .m_axis_tdata(win_tdata), .m_axis_tvalid(win_tvalid), .m_axis_tready(win_tready)
    );

    // per channel: max over the KK window positions (window element (k, c) at
    // [(k*CHANNELS + c)*EB +: EB]); a linear chain of KK-1 compare/selects
    wire [CHANNELS*EB-1:0] pooled;
    genvar gc, gk;
    generate
        for (gc = 0; gc < CHANNELS; gc = gc + 1) begin : g_ch
            wire [KK*EB-1:0] m;
            assign m[0 +: EB] = win_tdata[gc*EB +: EB];
            for (gk = 1; gk < KK; gk = gk + 1) begin : g_k
                wire [EB-1:0] a = m[(gk-1)*EB +: EB];
                wire [EB-1:0] b = win_tdata[(gk*CHANNELS + gc)*EB +: EB];
                wire b_gt;
                if (SIGNED != 0) begin : g_s
                    assign b_gt = $signed(b) > $signed(a);
                end else begin : g_u
                    assign b_gt = b > a;
                end
                assign m[gk*EB +: EB] = b_gt ? b : a;
            end
            assign pooled[gc*EB +: EB] = m[(KK-1)*EB +: EB];
        end
    endgenerate

    qloom_fifo #(.WIDTH(CHANNELS*EB), .DEPTH(2), .RAM_STYLE("distributed")) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(pooled), .s_axis_tvalid(win_tvalid), .s_axis_tready(win_tready),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
