// qloom_pool_reduce: reduces windows of a qloom_swg stream (helper of qloom_pool).
//
// Parameters
//   WINDOW      beats-groups per window (K_H*K_W)
//   CF          beats per window position (CHANNELS/PE)
//   PE          elements per beat
//   ELEM_BITS   input element width
//   SIGNED      1: two's complement elements, 0: unsigned
//   MODE        0: max, 1: sum
//   OUT_BITS    output element width (MODE 0: = ELEM_BITS; MODE 1: ELEM_BITS +
//               ceil(log2(WINDOW)) is enough; >= ELEM_BITS)
//   CREDITS     output beats in flight or queued (>= 1, default 5): the output
//               FIFO has CREDITS words (qloom_credit_out)
//
// Streams
//   s_axis: WINDOW*CF beats per window, order (w, cf), PE elements of ELEM_BITS.
//   m_axis: CF beats per window, PE elements of OUT_BITS: element (cf, pe) =
//           max / sum over w of the input element (w, cf, pe).
//
// Cycles: one input beat per cycle; output beats written while the last window
//   position streams in.  Memory: CF x PE*OUT_BITS partial results (distributed,
//   asynchronous read) + output FIFO (qloom_credit_out: qloom_fifo, CREDITS words).
//
// Depends on: qloom_axis.vh, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_pool_reduce #(
    parameter integer WINDOW = 4, CF = 1, PE = 1,
    parameter integer ELEM_BITS = 8, SIGNED = 0, MODE = 0, OUT_BITS = 8,
    parameter integer CREDITS = 5
) (
    `QLOOM_AXIS_PORTS(PE*ELEM_BITS, PE*OUT_BITS)
);
    // illegal parameters stop elaboration
    if (WINDOW < 1 || CF < 1 || PE < 1) begin : g_err_dims
        $error("qloom_pool_reduce: WINDOW, CF and PE must be >= 1");
    end
    if (MODE != 0 && MODE != 1) begin : g_err_mode
        $error("qloom_pool_reduce: MODE must be 0 (max) or 1 (sum)");
    end
    if (OUT_BITS < ELEM_BITS) begin : g_err_outbits
        $error("qloom_pool_reduce: OUT_BITS must be >= ELEM_BITS");
    end

    localparam integer CFW = (CF > 1) ? $clog2(CF) : 1;
    localparam integer WW = (WINDOW > 1) ? $clog2(WINDOW) : 1;
    localparam integer CF1_I = CF - 1;
    localparam integer W1_I = WINDOW - 1;
    localparam [CFW-1:0] CF1 = CF1_I[CFW-1:0];
    localparam [WW-1:0] W1 = W1_I[WW-1:0];
    localparam integer OB = OUT_BITS;

    reg [CFW-1:0] cf;
    reg [WW-1:0] w;
    wire last_w = (w == W1);
    wire credit_ok;
    assign s_axis_tready = !last_w || credit_ok;
    wire fire = s_axis_tvalid && s_axis_tready;
    wire emit = fire && last_w;

    reg [PE*OB-1:0] part [0:CF-1];
    wire [PE*OB-1:0] cur = part[cf];
    reg [PE*OB-1:0] nxt;

    // input elements widened to OB (sign or zero extension)
    wire [PE*OB-1:0] xin;
    genvar g;
    generate
        for (g = 0; g < PE; g = g + 1) begin : g_ext
            wire [ELEM_BITS-1:0] e = s_axis_tdata[g*ELEM_BITS +: ELEM_BITS];
            if (OB == ELEM_BITS) begin : g_same
                assign xin[g*OB +: OB] = e;
            end else if (SIGNED != 0) begin : g_s
                assign xin[g*OB +: OB] = {{(OB-ELEM_BITS){e[ELEM_BITS-1]}}, e};
            end else begin : g_u
                assign xin[g*OB +: OB] = {{(OB-ELEM_BITS){1'b0}}, e};
            end
        end
    endgenerate

    integer i;
    wire first_w = (w == {WW{1'b0}});
    always @* begin
        nxt = xin;
        for (i = 0; i < PE; i = i + 1) begin
            if (!first_w) begin
                if (MODE == 1) begin
                    nxt[i*OB +: OB] = cur[i*OB +: OB] + xin[i*OB +: OB];
                end else if (SIGNED != 0) begin
                    if ($signed(cur[i*OB +: OB]) > $signed(xin[i*OB +: OB]))
                        nxt[i*OB +: OB] = cur[i*OB +: OB];
                end else begin
                    if (cur[i*OB +: OB] > xin[i*OB +: OB])
                        nxt[i*OB +: OB] = cur[i*OB +: OB];
                end
            end
        end
    end

    always @(posedge ap_clk) begin
        if (fire) part[cf] <= nxt;
    end

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            cf <= {CFW{1'b0}};
            w <= {WW{1'b0}};
        end else if (fire) begin
            cf <= (cf == CF1) ? {CFW{1'b0}} : cf + 1'b1;
            if (cf == CF1) w <= last_w ? {WW{1'b0}} : w + 1'b1;
        end
    end

    // the finished window: output register (IN_REG) and queue
    qloom_credit_out #(
        .WIDTH(PE*OB),
        .CREDITS(CREDITS),
        .IN_REG(1)
    ) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .issue(emit), .credit_ok(credit_ok),
        .s_axis_tdata(nxt), .s_axis_tvalid(emit),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
