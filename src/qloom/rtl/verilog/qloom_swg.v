// qloom_swg: sliding window generator (im2col as a stream).
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input image height, width
//   CHANNELS, SIMD         channels; SIMD channels per beat (CHANNELS % SIMD == 0), CF = CHANNELS/SIMD
//   K_H, K_W               kernel
//   S_H, S_W               stride
//   PAD_T, PAD_B, PAD_L, PAD_R   zero padding (the padding value is all-zero bits, the
//                          integer 0 of signed, unsigned and of the ±1-free encodings)
//   ELEM_BITS              element width
//   RAM_STYLE              "auto" | "block" | "distributed" (attribute of the line buffer)
//   CREDITS                output beats in flight or queued (>= 1, default 5): the output
//                          FIFO has CREDITS words (qloom_credit_out)
//   OFM_DIM_H = (IFM_DIM_H + PAD_T + PAD_B - K_H) / S_H + 1 (floor), OFM_DIM_W likewise.
//
// Streams (NHWC, raster order, element i of a beat at bits [i*ELEM_BITS +: ELEM_BITS])
//   s_axis_tdata [SIMD*ELEM_BITS-1:0]: IFM_DIM_H*IFM_DIM_W*CF beats per frame,
//     beat (y, x, cf) holds channels cf*SIMD .. cf*SIMD+SIMD-1 of pixel (y, x).
//   m_axis_tdata [SIMD*ELEM_BITS-1:0]: for each output pixel (oy, ox) in raster order
//     the window in order (ky, kx, cf): OFM_DIM_H*OFM_DIM_W*K_H*K_W*CF beats per frame,
//     beat = padded_input[oy*S_H + ky - PAD_T][ox*S_W + kx - PAD_L][cf*SIMD +: SIMD].
//
// Architecture
//   A circular line buffer of R whole input rows (slot = row mod R).  The writer
//   stores a row when a slot is free; the reader starts output row oy when every
//   input row it needs is complete, and then releases the rows no later window
//   needs.  Rows are counted continuously across frames, so the next frame's
//   rows are loaded while the current frame's last windows are still read.
//   R = max(K_H + S_H, LEFT + NEED0) where NEED0 = rows needed by output row 0
//   and LEFT = rows still held at the end of a frame: enough to overlap input
//   and output completely (and never dead-lock); plus one spare row when the
//   output has fewer than twice as many beats as the input (input-bound).
//   Timing: no multiplication or modulo on the beat path.  The writer's address
//   runs 0..DEPTH-1 cyclically; the reader keeps this beat's input row/column, row
//   base address (slot*ROWW) and column address (ix*CF + cf) in incrementally
//   updated registers (read address = one addition); row bookkeeping uses
//   absolute row numbers (compare = sign of a short difference) and per-output-row
//   descriptors (rows needed, rows released, base address) prepared one row ahead
//   from a small constant table, so every register input is one short addition.
//
// Cycles (no stalls)
//   1 output beat per cycle and 1 input beat per cycle, concurrently:
//   steady state about max(OUT_BEATS, IN_BEATS) cycles per frame, with
//   OUT_BEATS = OFM_H*OFM_W*K_H*K_W*CF, IN_BEATS = IFM_H*IFM_W*CF (see
//   qloom.ops.swg.cycles_qloom_swg).  Latency: the first output beat leaves ~4
//   cycles after the last input beat of input row K_H-1-PAD_T arrives.
//   s_axis_tready and m_axis_t* come from registers (no combinational path).
//
// Memory use
//   line buffer R * IFM_DIM_W * CF words of SIMD*ELEM_BITS bits (simple dual port)
//   + output FIFO (qloom_credit_out: qloom_fifo, CREDITS words, distributed).
//
// Depends on: qloom_axis.vh, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_swg #(
    parameter integer IFM_DIM_H = 5, IFM_DIM_W = 5, CHANNELS = 2, SIMD = 1,  // input map, lanes
    parameter integer K_H = 3, K_W = 3, S_H = 1, S_W = 1,                    // kernel, stride
    parameter integer PAD_T = 0, PAD_B = 0, PAD_L = 0, PAD_R = 0,            // zero padding
    parameter integer ELEM_BITS = 8,
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto",
    /* verilator lint_on UNUSEDPARAM */
    parameter integer CREDITS = 5
) (
    `QLOOM_AXIS_PORTS(SIMD*ELEM_BITS, SIMD*ELEM_BITS)
);
    // bits of an unsigned 0..v
    function integer bw(input integer v);
        begin
            bw = (v > 1) ? $clog2(v + 1) : 1;
        end
    endfunction

    // illegal parameters stop elaboration
    if (SIMD < 1 || CHANNELS % SIMD != 0) begin : g_err_simd
        $error("qloom_swg: CHANNELS must be a multiple of SIMD (SIMD >= 1)");
    end
    if (K_H < 1 || K_W < 1 || S_H < 1 || S_W < 1) begin : g_err_ks
        $error("qloom_swg: K_H, K_W, S_H and S_W must be >= 1");
    end
    if (K_H > IFM_DIM_H + PAD_T + PAD_B || K_W > IFM_DIM_W + PAD_L + PAD_R) begin : g_err_k
        $error("qloom_swg: the kernel must fit in the padded image");
    end

    localparam integer DW = SIMD * ELEM_BITS;
    localparam integer CF = CHANNELS / SIMD;
    localparam integer OFM_H = (IFM_DIM_H + PAD_T + PAD_B - K_H) / S_H + 1;
    localparam integer OFM_W = (IFM_DIM_W + PAD_L + PAD_R - K_W) / S_W + 1;
    localparam integer ROWW = IFM_DIM_W * CF;                  // beats per input row
    // rows needed by output row 0, rows held at the end of a frame
    localparam integer NEED0_A = (K_H - PAD_T < 0) ? 0 : K_H - PAD_T;
    localparam integer NEED0 = (NEED0_A > IFM_DIM_H) ? IFM_DIM_H : NEED0_A;
    localparam integer LAST_LO_A = (OFM_H - 1) * S_H - PAD_T;
    localparam integer LAST_LO_B = (LAST_LO_A < 0) ? 0 : LAST_LO_A;
    localparam integer LAST_LO = (LAST_LO_B > IFM_DIM_H) ? IFM_DIM_H : LAST_LO_B;
    localparam integer LEFT = IFM_DIM_H - LAST_LO;
    localparam integer R_A = K_H + S_H;
    localparam integer R_B = (LEFT + NEED0 > R_A) ? LEFT + NEED0 : R_A;
    // when the input side is (nearly) the bottleneck, one spare row lets the writer
    // start the next row before the reader has released the oldest one
    localparam integer OUT_BEATS = OFM_H * OFM_W * K_H * K_W * CF;
    localparam integer IN_BEATS = IFM_DIM_H * ROWW;
    localparam integer R = (OUT_BEATS < 2 * IN_BEATS) ? R_B + 1 : R_B;
    localparam integer DEPTH = R * ROWW;
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;

    // widths: row numbers (signed / modular), input columns (signed), column
    // addresses ix*CF + cf (signed), loop counters
    localparam integer RW = bw(4 * (IFM_DIM_H + PAD_T + PAD_B + K_H + S_H + R)) + 1;
    localparam integer XW = bw(2 * (IFM_DIM_W + PAD_L + PAD_R + K_W + S_W)) + 1;
    localparam integer CW = bw(2 * (IFM_DIM_W + PAD_L + PAD_R + K_W + S_W) * CF) + 1;
    localparam integer TW = ((AW > CW) ? AW : CW) + 1;
    localparam integer CFW = bw(CF - 1);
    localparam integer KXW = bw(K_W - 1);
    localparam integer KYW = bw(K_H - 1);
    localparam integer OXW = bw(OFM_W - 1);
    localparam integer OYW = bw(OFM_H - 1);
    localparam integer WCW = bw(ROWW - 1);

    // ---- per output row constants (row numbers relative to the frame)
    // first / one past the last input row output row oy needs (clipped to the image)
    function integer rlo_f(input integer oy);
        integer a;
        begin
            a = oy * S_H - PAD_T;
            rlo_f = (a < 0) ? 0 : ((a > IFM_DIM_H) ? IFM_DIM_H : a);
        end
    endfunction
    function integer rhi1_f(input integer oy);
        integer a;
        begin
            a = oy * S_H - PAD_T + K_H - 1;
            rhi1_f = (a >= IFM_DIM_H) ? IFM_DIM_H : a + 1;
        end
    endfunction
    // increments from output row oy to the next one (the last row: to row 0 of the next frame)
    function integer dneed_f(input integer oy);
        begin
            dneed_f = (oy < OFM_H - 1) ? rhi1_f(oy + 1) - rhi1_f(oy) : IFM_DIM_H + rhi1_f(0) - rhi1_f(OFM_H - 1);
        end
    endfunction
    function integer dlim_f(input integer oy);
        begin
            dlim_f = (oy < OFM_H - 1) ? rlo_f(oy + 1) - rlo_f(oy) : IFM_DIM_H + rlo_f(0) - rlo_f(OFM_H - 1);
        end
    endfunction
    // non-negative residue mod R
    function integer modr(input integer v);
        begin
            modr = ((v % R) + R) % R;
        end
    endfunction

    // constants at their widths
    localparam integer IFM_H_I = IFM_DIM_H;
    localparam integer IFM_W_I = IFM_DIM_W;
    localparam integer NPT_I = -PAD_T;
    localparam integer NPL_I = -PAD_L;
    localparam integer NPLC_I = -PAD_L * CF;
    localparam integer S_H_I = S_H;
    localparam integer S_W_I = S_W;
    localparam integer S_WC_I = S_W * CF;
    localparam integer R_I = R;
    localparam integer CF1_I = CF - 1;
    localparam integer KW1_I = K_W - 1;
    localparam integer KH1_I = K_H - 1;
    localparam integer OW1_I = OFM_W - 1;
    localparam integer OH1_I = OFM_H - 1;
    localparam integer ROWW_I = ROWW;
    localparam integer ROWW1_I = ROWW - 1;
    localparam integer DEPTH1_I = DEPTH - 1;
    localparam integer DEPTHR_I = DEPTH - ROWW;
    // buffer base address (slot * ROWW) of the first row of output row 0, frame 0
    // (absolute input row -PAD_T: slot (-PAD_T) mod R), and its increments
    localparam integer BASE0_I = modr(-PAD_T) * ROWW;
    localparam integer DB_ROW_I = modr(S_H) * ROWW;
    localparam integer DB_FRM_I = modr(IFM_DIM_H - (OFM_H - 1) * S_H) * ROWW;
    localparam integer DB_ROW_M_I = DB_ROW_I - DEPTH;
    localparam integer DB_FRM_M_I = DB_FRM_I - DEPTH;
    // row descriptors of output rows 0 and 1 (or row 0 of frame 1 when OFM_H = 1)
    localparam integer NEED_0_I = rhi1_f(0);
    localparam integer LIM_0_I = rlo_f(0) + R;
    localparam integer OYN_0_I = (OFM_H > 1) ? 1 : 0;
    localparam integer IY0N_0_I = (OFM_H > 1) ? S_H - PAD_T : -PAD_T;
    localparam integer BASEN_0_I = (BASE0_I + ((OFM_H > 1) ? DB_ROW_I : DB_FRM_I)) % DEPTH;
    localparam integer NEEDN_0_I = NEED_0_I + dneed_f(0);
    localparam integer LIMN_0_I = LIM_0_I + dlim_f(0);

    localparam [RW-1:0] C_IFM_H = IFM_H_I[RW-1:0];
    localparam [XW-1:0] C_IFM_W = IFM_W_I[XW-1:0];
    localparam [RW-1:0] C_NPT = NPT_I[RW-1:0];
    localparam [XW-1:0] C_NPL = NPL_I[XW-1:0];
    localparam [CW-1:0] C_NPLC = NPLC_I[CW-1:0];
    localparam [RW-1:0] C_S_H = S_H_I[RW-1:0];
    localparam [XW-1:0] C_S_W = S_W_I[XW-1:0];
    localparam [CW-1:0] C_S_WC = S_WC_I[CW-1:0];
    localparam [RW-1:0] C_R = R_I[RW-1:0];
    localparam [CFW-1:0] C_CF1 = CF1_I[CFW-1:0];
    localparam [KXW-1:0] C_KW1 = KW1_I[KXW-1:0];
    localparam [KYW-1:0] C_KH1 = KH1_I[KYW-1:0];
    localparam [OXW-1:0] C_OW1 = OW1_I[OXW-1:0];
    localparam [OYW-1:0] C_OH1 = OH1_I[OYW-1:0];
    localparam [WCW-1:0] C_ROWW1 = ROWW1_I[WCW-1:0];
    localparam [AW-1:0] C_ROWW = ROWW_I[AW-1:0];
    localparam [AW-1:0] C_DEPTH1 = DEPTH1_I[AW-1:0];
    localparam [AW-1:0] C_DEPTHR = DEPTHR_I[AW-1:0];
    localparam [AW-1:0] C_DB_ROW = DB_ROW_I[AW-1:0];
    localparam [AW-1:0] C_DB_FRM = DB_FRM_I[AW-1:0];
    localparam [AW:0] C_DB_ROW_M = DB_ROW_M_I[AW:0];
    localparam [AW:0] C_DB_FRM_M = DB_FRM_M_I[AW:0];
    localparam [AW-1:0] C_BASE0 = BASE0_I[AW-1:0];
    localparam [AW-1:0] C_BASEN_0 = BASEN_0_I[AW-1:0];
    localparam [RW-1:0] C_NEED_0 = NEED_0_I[RW-1:0];
    localparam [RW-1:0] C_LIM_0 = LIM_0_I[RW-1:0];
    localparam [RW-1:0] C_NEEDN_0 = NEEDN_0_I[RW-1:0];
    localparam [RW-1:0] C_LIMN_0 = LIMN_0_I[RW-1:0];
    localparam [RW-1:0] C_IY0N_0 = IY0N_0_I[RW-1:0];
    localparam [OYW-1:0] C_OYN_0 = OYN_0_I[OYW-1:0];

    // per-row increment tables (constants; a small LUT ROM indexed by the row number)
    wire [RW-1:0] t_dneed [0:OFM_H-1];
    wire [RW-1:0] t_dlim [0:OFM_H-1];
    genvar gt;
    generate
        for (gt = 0; gt < OFM_H; gt = gt + 1) begin : g_tab
            localparam integer DN_I = dneed_f(gt);
            localparam integer DL_I = dlim_f(gt);
            assign t_dneed[gt] = DN_I[RW-1:0];
            assign t_dlim[gt] = DL_I[RW-1:0];
        end
    endgenerate

    (* ram_style = RAM_STYLE *) reg [DW-1:0] mem [0:DEPTH-1];

    // ------------------------------------------------------------------ row accounting
    // Row numbers are absolute (input rows since reset, modulo 2^RW); comparisons
    // use the sign of the (small) difference.
    //   wrows   rows the writer has completed
    //   rlimit  first row that may not be started yet: first row not released + R
    //   cur_need / cur_lim: output row oy needs rows < cur_need; opening it releases
    //           the rows below cur_lim - R.  nx_*: the same for the next output row,
    //           so that every update is one short addition of registered values.
    reg [RW-1:0] wrows, rlimit;
    reg [RW-1:0] cur_need, cur_lim, nx_need, nx_lim;
    reg signed [RW-1:0] cur_iy0, nx_iy0;      // oy*S_H - PAD_T (frame relative)
    reg [AW-1:0] cur_base, nx_base;           // buffer address of row iy0 (slot * ROWW)
    reg [OYW-1:0] oyn;                        // output row number of nx_*

    // ------------------------------------------------------------------ writer
    // rows are written in order to consecutive slots, so the write address simply
    // runs 0 .. DEPTH-1 cyclically
    reg [WCW-1:0] wcol;          // beat index within the row
    reg [AW-1:0] waddr;
    wire in_row = (wcol != {WCW{1'b0}});
    wire [RW-1:0] lim_diff = wrows - rlimit;
    assign s_axis_tready = in_row || lim_diff[RW-1];
    wire w_fire = s_axis_tvalid && s_axis_tready;
    wire w_end = w_fire && (wcol == C_ROWW1);

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            wcol <= {WCW{1'b0}};
            waddr <= {AW{1'b0}};
            wrows <= {RW{1'b0}};
        end else if (w_fire) begin
            wcol <= w_end ? {WCW{1'b0}} : wcol + 1'b1;
            waddr <= (waddr == C_DEPTH1) ? {AW{1'b0}} : waddr + 1'b1;
            if (w_end) wrows <= wrows + 1'b1;
        end
    end

    always @(posedge ap_clk) begin
        if (w_fire) mem[waddr] <= s_axis_tdata;
    end

    // ------------------------------------------------------------------ reader
    reg [CFW-1:0] cf;
    reg [KXW-1:0] kx;
    reg [KYW-1:0] ky;
    reg [OXW-1:0] ox;
    reg signed [XW-1:0] ix0, ix;        // ox*S_W - PAD_L, this beat's input column
    reg signed [RW-1:0] iy;             // this beat's input row (frame relative)
    reg signed [CW-1:0] cb, col;        // ix0*CF, this beat's ix*CF + cf
    reg [AW-1:0] rbase;                 // buffer address of row iy (slot * ROWW)
    reg row_open;                       // output row oy has started (its rows are present)

    wire [RW-1:0] need_diff = wrows - cur_need;
    wire rows_ok = row_open || !need_diff[RW-1];
    wire credit_ok;                     // room for one more beat (qloom_credit_out)
    wire issue = rows_ok && credit_ok;

    wire last_cf = (cf == C_CF1);
    wire last_kx = (kx == C_KW1);
    wire last_ky = (ky == C_KH1);
    wire last_ox = (ox == C_OW1);
    wire end_kr = last_cf && last_kx;             // end of a kernel row
    wire last_win = end_kr && last_ky;
    wire last_row = last_win && last_ox;

    // next window / next row start values (one short addition each)
    wire signed [XW-1:0] ix0_n = last_ox ? $signed(C_NPL) : ix0 + $signed(C_S_W);
    wire signed [CW-1:0] cb_n = last_ox ? $signed(C_NPLC) : cb + $signed(C_S_WC);
    wire [AW-1:0] rbase_inc = (rbase == C_DEPTHR) ? {AW{1'b0}} : rbase + C_ROWW;
    // nx_* advance by one output row: base modulo DEPTH (two parallel sums)
    wire nx_lastrow = (oyn == C_OH1);
    wire [AW-1:0] nb_a = nx_base + (nx_lastrow ? C_DB_FRM : C_DB_ROW);
    wire [AW:0] nb_b = {1'b0, nx_base} + (nx_lastrow ? C_DB_FRM_M : C_DB_ROW_M);
    wire [AW-1:0] nx_base_n = nb_b[AW] ? nb_a : nb_b[AW-1:0];

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            cf <= {CFW{1'b0}}; kx <= {KXW{1'b0}}; ky <= {KYW{1'b0}}; ox <= {OXW{1'b0}};
            ix0 <= $signed(C_NPL);
            ix <= $signed(C_NPL);
            iy <= $signed(C_NPT);
            cb <= $signed(C_NPLC);
            col <= $signed(C_NPLC);
            rbase <= C_BASE0;
            row_open <= 1'b0;
            rlimit <= C_R;
            cur_need <= C_NEED_0; cur_lim <= C_LIM_0;
            cur_iy0 <= $signed(C_NPT); cur_base <= C_BASE0;
            nx_need <= C_NEEDN_0; nx_lim <= C_LIMN_0;
            nx_iy0 <= $signed(C_IY0N_0); nx_base <= C_BASEN_0;
            oyn <= C_OYN_0;
        end else if (issue) begin
            // the row opens with its first beat: release the rows it no longer needs
            if (!row_open) rlimit <= cur_lim;
            row_open <= !last_row;
            cf <= last_cf ? {CFW{1'b0}} : cf + 1'b1;
            col <= end_kr ? (last_ky ? cb_n : cb) : col + 1'b1;
            if (last_cf) begin
                kx <= last_kx ? {KXW{1'b0}} : kx + 1'b1;
                ix <= last_kx ? (last_ky ? ix0_n : ix0) : ix + 1'b1;
            end
            if (end_kr) begin
                ky <= last_ky ? {KYW{1'b0}} : ky + 1'b1;
                iy <= last_ky ? (last_ox ? nx_iy0 : cur_iy0) : iy + 1'b1;
                rbase <= last_ky ? (last_ox ? nx_base : cur_base) : rbase_inc;
            end
            if (last_win) begin
                ox <= last_ox ? {OXW{1'b0}} : ox + 1'b1;
                ix0 <= ix0_n;
                cb <= cb_n;
            end
            if (last_row) begin
                cur_need <= nx_need; cur_lim <= nx_lim;
                cur_iy0 <= nx_iy0; cur_base <= nx_base;
                nx_need <= nx_need + t_dneed[oyn];
                nx_lim <= nx_lim + t_dlim[oyn];
                nx_iy0 <= nx_lastrow ? $signed(C_NPT) : nx_iy0 + $signed(C_S_H);
                nx_base <= nx_base_n;
                oyn <= nx_lastrow ? {OYW{1'b0}} : oyn + 1'b1;
            end
        end
    end

    // this beat's buffer address and padding (from registers: one addition / compares)
    wire [TW-1:0] raddr_w = {{(TW-AW){1'b0}}, rbase} + {{(TW-CW){col[CW-1]}}, col};
    wire [AW-1:0] raddr = raddr_w[AW-1:0];
    wire is_pad = iy[RW-1] || ($signed(iy) >= $signed(C_IFM_H)) ||
                  ix[XW-1] || ($signed(ix) >= $signed(C_IFM_W));

    // buffer read (synchronous) and padding
    reg [DW-1:0] rdata;
    reg v1, pad1;
    always @(posedge ap_clk) begin
        if (issue) rdata <= mem[raddr];
    end
    always @(posedge ap_clk) begin
        if (!ap_rst_n) v1 <= 1'b0;
        else v1 <= issue;
        if (issue) pad1 <= is_pad;
    end
    wire [DW-1:0] odata = pad1 ? {DW{1'b0}} : rdata;

    // the high sum bits of the read address (it wraps modulo 2^AW; padded beats
    // read an arbitrary word)
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_hi = |raddr_w[TW-1:AW];
    /* verilator lint_on UNUSEDSIGNAL */

    // ------------------------------------------------------------------ output queue
    qloom_credit_out #(
        .WIDTH(DW),
        .CREDITS(CREDITS)
    ) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .issue(issue), .credit_ok(credit_ok),
        .s_axis_tdata(odata), .s_axis_tvalid(v1),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
