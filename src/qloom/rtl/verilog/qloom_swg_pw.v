// qloom_swg_pw: parallel-window sliding window generator (one whole window per beat).
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input image height, width (H, W)
//   CHANNELS               channels (C); one input beat = one pixel, all channels
//   K_H, K_W               kernel
//   S_H, S_W               stride
//   PAD_T, PAD_B, PAD_L, PAD_R   zero padding (the padding value is all-zero bits)
//   ELEM_BITS              element width
//   RAM_STYLE              "auto" | "block" | "distributed" (attribute of the line buffers)
//   Hp = H + PAD_T + PAD_B, Wp = W + PAD_L + PAD_R (the padded image),
//   OFM_DIM_H = (Hp - K_H) / S_H + 1 (floor), OFM_DIM_W = (Wp - K_W) / S_W + 1.
//
// Streams (NHWC, raster order, element i of a beat at bits [i*ELEM_BITS +: ELEM_BITS])
//   s_axis_tdata [CHANNELS*ELEM_BITS-1:0]: H*W beats per frame, beat (y, x) = pixel (y, x).
//   m_axis_tdata [K_H*K_W*CHANNELS*ELEM_BITS-1:0]: OFM_DIM_H*OFM_DIM_W beats per frame,
//     one per output pixel (oy, ox) in raster order; element (ky*K_W + kx)*CHANNELS + c =
//     padded_input[oy*S_H + ky - PAD_T][ox*S_W + kx - PAD_L][c] (0 outside the image),
//     i.e. the window in (ky, kx, c) order, c innermost (the MVAU's SIMD = K_H*K_W*C beat).
//
// Architecture
//   A scan over the padded positions (y, x), Hp x Wp per frame, raster order, one
//   position per cycle.  A real position consumes an input beat, a pad position injects
//   a zero pixel (no beat).  K_H - 1 line buffers (one word = one pixel, W words each,
//   addressed by the real column) hold the rows above at this column: the column of
//   K_H pixels (rows y-K_H+1 .. y) is shifted into a K_H x K_W window register and
//   written back into the line buffers one row up.  The line buffers are read one
//   position ahead (synchronous read with enable, reset to 0 at pad columns), so a
//   window is complete in the cycle its last position is scanned.  The position emits
//   a window when y >= K_H-1, x >= K_W-1 and it is on the stride grid (stride phase
//   down-counters, no multiplication or modulo); rows/columns beyond the last window
//   are scanned as well.  Frames follow back to back: the counters wrap and the next
//   frame's first rows refill the line buffers (no window needs them before).  The
//   scan runs ahead through the next frame's leading pad positions without input, but
//   a window lying wholly in that padding (K_H-1 < PAD_T, or K_H-1 = PAD_T and
//   K_W-1 < PAD_L) waits for the frame's first input beat: no frame's output starts
//   before its input.
//   Flow control: a 1-pixel input skid register (s_axis_tready is a register: the beat
//   goes straight to the scan or is parked there) and one output register (out0 =
//   m_axis_tdata).  A window that finds out0 occupied and not leaving stays in the
//   window register (which holds the last scanned window) and the scan pauses until
//   out0 takes it, so the scan never waits on m_axis_tready: it only drives the output
//   enables.  Two windows of storage in all (window register + out0).  s_axis_tready
//   and m_axis_t* come from registers (no combinational path from m_axis_tready or
//   s_axis_tvalid to them).
//
// Cycles (no stalls)
//   Hp*Wp per frame (one padded position per cycle; H*W without padding), see
//   qloom.ops.swg.cycles_qloom_swg_pw.  The window of (oy, ox) leaves (m_axis_tvalid) one
//   cycle after the scan passes its last position (oy*S_H+K_H-1, ox*S_W+K_W-1): one
//   cycle after the input beat of that pixel when it is a real pixel, one cycle per pad
//   position later when it is in the right/bottom padding.  Frame 0 from reset (input
//   available): last output beat at cycle P_LAST + 1 with P_LAST = ((OFM_DIM_H-1)*S_H
//   + K_H-1)*Wp + (OFM_DIM_W-1)*S_W + K_W-1 (qloom.ops.swg.latency_qloom_swg_pw).
//
// Memory use
//   K_H - 1 line buffers of IFM_DIM_W words x CHANNELS*ELEM_BITS bits (simple dual port,
//   synchronous read; registers when W = 1 without side padding) + flip-flops: window
//   and output registers 2*K_H*K_W*C*ELEM_BITS, input skid C*ELEM_BITS, line buffer
//   read registers (K_H-1)*C*ELEM_BITS (inside a block RAM), counters.
//
// Depends on no other module (self-contained but for the port-list header).
// Depends on: qloom_axis.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_swg_pw #(
    parameter integer IFM_DIM_H = 5, IFM_DIM_W = 5, CHANNELS = 2,  // input map
    parameter integer K_H = 3, K_W = 3, S_H = 1, S_W = 1,          // kernel, stride
    parameter integer PAD_T = 0, PAD_B = 0, PAD_L = 0, PAD_R = 0,  // zero padding
    parameter integer ELEM_BITS = 8,
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto"
    /* verilator lint_on UNUSEDPARAM */
) (
    `QLOOM_AXIS_PORTS(CHANNELS*ELEM_BITS, K_H*K_W*CHANNELS*ELEM_BITS)
);
    // bits of an unsigned 0..v
    function integer bw(input integer v);
        begin
            bw = (v > 1) ? $clog2(v + 1) : 1;
        end
    endfunction
    function integer imax(input integer a, input integer b);
        begin
            imax = (a > b) ? a : b;
        end
    endfunction

    // illegal parameters stop elaboration
    if (CHANNELS < 1 || ELEM_BITS < 1) begin : g_err_size
        $error("qloom_swg_pw: CHANNELS and ELEM_BITS must be >= 1");
    end
    if (K_H < 1 || K_W < 1 || S_H < 1 || S_W < 1) begin : g_err_ks
        $error("qloom_swg_pw: K_H, K_W, S_H and S_W must be >= 1");
    end
    // (a kernel larger than the padded image is legal here: no window, see
    // test_swg_pw_lint's W = 1 corner case)

    localparam integer DW = CHANNELS * ELEM_BITS;      // one pixel
    localparam integer OW_BITS = K_H * K_W * DW;       // one window
    localparam integer HP = IFM_DIM_H + PAD_T + PAD_B;
    localparam integer WP = IFM_DIM_W + PAD_L + PAD_R;

    localparam integer XW = bw(WP - 1);
    localparam integer YW = bw(HP - 1);
    localparam integer AW = bw(IFM_DIM_W - 1);
    localparam integer RXW = bw(imax(K_W, S_W) - 1);
    localparam integer RYW = bw(imax(K_H, S_H) - 1);

    localparam integer WP1_I = WP - 1;
    localparam integer HP1_I = HP - 1;
    localparam integer PL1_I = (PAD_L > 0) ? PAD_L - 1 : 0;   // last left pad column
    localparam integer PT1_I = (PAD_T > 0) ? PAD_T - 1 : 0;
    localparam integer XL_I = PAD_L + IFM_DIM_W - 1;          // last real column
    localparam integer YL_I = PAD_T + IFM_DIM_H - 1;
    localparam integer W1_I = IFM_DIM_W - 1;
    localparam integer KW1_I = K_W - 1;
    localparam integer KH1_I = K_H - 1;
    localparam integer SW1_I = S_W - 1;
    localparam integer SH1_I = S_H - 1;
    localparam [XW-1:0] C_WP1 = WP1_I[XW-1:0];
    localparam [YW-1:0] C_HP1 = HP1_I[YW-1:0];
    localparam [XW-1:0] C_PL1 = PL1_I[XW-1:0];
    localparam [YW-1:0] C_PT1 = PT1_I[YW-1:0];
    localparam [XW-1:0] C_XL = XL_I[XW-1:0];
    localparam [YW-1:0] C_YL = YL_I[YW-1:0];
    localparam [AW-1:0] C_W1 = W1_I[AW-1:0];
    localparam [RXW-1:0] C_KW1 = KW1_I[RXW-1:0];
    localparam [RYW-1:0] C_KH1 = KH1_I[RYW-1:0];
    localparam [RXW-1:0] C_SW1 = SW1_I[RXW-1:0];
    localparam [RYW-1:0] C_SH1 = SH1_I[RYW-1:0];
    localparam HAS_PL = (PAD_L > 0) ? 1'b1 : 1'b0;
    localparam HAS_PT = (PAD_T > 0) ? 1'b1 : 1'b0;
    // some window lies entirely in the padding before the frame's first pixel
    localparam EARLY = ((K_H - 1 < PAD_T) || (K_H - 1 == PAD_T && K_W - 1 < PAD_L)) ? 1'b1 : 1'b0;

    // ------------------------------------------------------------------ scan position
    reg [XW-1:0] x;              // padded column
    reg [YW-1:0] y;              // padded row
    reg xreal, yreal;            // column / row inside the image
    reg [RXW-1:0] rx;            // columns until the next window column (0: this one)
    reg [RYW-1:0] ry;            // rows until the next window row
    reg [AW-1:0] wa;             // real column index = line buffer address of this column

    wire real_pos = xreal && yreal;
    wire emit = (rx == {RXW{1'b0}}) && (ry == {RYW{1'b0}});
    wire row_end = (x == C_WP1);
    wire frm_end = row_end && (y == C_HP1);

    // next position's column flags and line buffer address (registers only)
    wire nx_xreal = row_end ? !HAS_PL : ((HAS_PL && x == C_PL1) ? 1'b1 : ((x == C_XL) ? 1'b0 : xreal));
    wire nx_yreal = frm_end ? !HAS_PT : ((HAS_PT && y == C_PT1) ? 1'b1 : ((y == C_YL) ? 1'b0 : yreal));
    wire [AW-1:0] wa_inc = (wa == C_W1) ? {AW{1'b0}} : wa + 1'b1;
    wire [AW-1:0] nx_wa = xreal ? wa_inc : wa;

    // ------------------------------------------------------------------ flow control
    reg rdy;                     // = s_axis_tready: the input skid register is empty
    reg [DW-1:0] ibuf;           // the parked input beat (when !rdy)
    reg v0;                      // out0 (= m_axis) valid
    reg pend;                    // win holds a window for out0: the scan waits
    reg pre;                     // no pixel of this frame taken yet
    wire in_avail = !rdy || s_axis_tvalid;
    wire [DW-1:0] in_data = rdy ? s_axis_tdata : ibuf;
    // a window in the padding before the frame's first pixel waits for that pixel's
    // beat (EARLY configurations only): no output of a frame before its input starts
    wire need_in = real_pos || (EARLY && pre && emit);
    wire fire = (!need_in || in_avail) && !pend;
    wire take = fire && real_pos;
    wire push = fire && emit;
    wire pop = v0 && m_axis_tready;

    assign s_axis_tready = rdy;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            rdy <= 1'b1;
        end else if (rdy) begin
            if (s_axis_tvalid && !take) rdy <= 1'b0;
        end else if (take) begin
            rdy <= 1'b1;
        end
        if (rdy && !take) ibuf <= s_axis_tdata;
    end

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            x <= {XW{1'b0}};
            y <= {YW{1'b0}};
            xreal <= !HAS_PL;
            yreal <= !HAS_PT;
            rx <= C_KW1;
            ry <= C_KH1;
            wa <= {AW{1'b0}};
            pre <= 1'b1;
        end else if (fire) begin
            if (frm_end) pre <= 1'b1;
            else if (real_pos) pre <= 1'b0;
            x <= row_end ? {XW{1'b0}} : x + 1'b1;
            xreal <= nx_xreal;
            wa <= nx_wa;
            if (row_end) rx <= C_KW1;
            else rx <= (rx == {RXW{1'b0}}) ? C_SW1 : rx - 1'b1;
            if (row_end) begin
                y <= frm_end ? {YW{1'b0}} : y + 1'b1;
                yreal <= nx_yreal;
                if (frm_end) ry <= C_KH1;
                else ry <= (ry == {RYW{1'b0}}) ? C_SH1 : ry - 1'b1;
            end
        end
    end

    // ------------------------------------------------------------------ column and line buffers
    // colv[k*DW +: DW] = pixel (y - K_H + 1 + k, x); k = K_H-1 is this position's pixel
    wire [K_H*DW-1:0] colv;
    assign colv[(K_H-1)*DW +: DW] = real_pos ? in_data : {DW{1'b0}};

    genvar k;
    generate
        for (k = 0; k < K_H - 1; k = k + 1) begin : g_lb
            reg [DW-1:0] q;      // line k at this column (read one position ahead)
            if (WP == 1) begin : g_reg
                // W = 1 without side padding: the next position is this column again,
                // so the line is a plain register (a memory would need a write bypass)
                always @(posedge ap_clk) begin
                    if (fire) q <= colv[(k+1)*DW +: DW];
                end
            end else begin : g_mem
                (* ram_style = RAM_STYLE *) reg [DW-1:0] mem [0:IFM_DIM_W-1];
                always @(posedge ap_clk) begin
                    if (fire && xreal) mem[wa] <= colv[(k+1)*DW +: DW];
                end
                always @(posedge ap_clk) begin
                    if (fire) q <= nx_xreal ? mem[nx_wa] : {DW{1'b0}};
                end
            end
            assign colv[k*DW +: DW] = q;
        end
    endgenerate

    // ------------------------------------------------------------------ window
    // win: the window of the last scanned position; dwin: the window of this position
    // (win shifted by one column, the new column from colv), both in (ky, kx, c) order
    reg [OW_BITS-1:0] win;
    wire [OW_BITS-1:0] dwin;
    genvar ky, kx;
    generate
        for (ky = 0; ky < K_H; ky = ky + 1) begin : g_ky
            for (kx = 0; kx < K_W - 1; kx = kx + 1) begin : g_kx
                assign dwin[(ky*K_W + kx)*DW +: DW] = win[(ky*K_W + kx + 1)*DW +: DW];
            end
            assign dwin[(ky*K_W + K_W - 1)*DW +: DW] = colv[ky*DW +: DW];
        end
    endgenerate
    always @(posedge ap_clk) begin
        if (fire) win <= dwin;
    end

    // ------------------------------------------------------------------ output
    // out0 = m_axis_tdata.  A window that finds out0 occupied and not leaving stays in
    // win (pend) and the scan pauses until out0 takes it: two windows of storage, and
    // m_axis_tready only drives the output enables.
    reg [OW_BITS-1:0] out0;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            v0 <= 1'b0;
            pend <= 1'b0;
        end else begin
            v0 <= push || pend || (v0 && !pop);
            pend <= pend ? !pop : (push && v0 && !pop);
        end
        if (pend && pop) out0 <= win;
        else if (push && (!v0 || pop)) out0 <= dwin;
    end
    assign m_axis_tdata = out0;
    assign m_axis_tvalid = v0;
endmodule

`default_nettype wire
