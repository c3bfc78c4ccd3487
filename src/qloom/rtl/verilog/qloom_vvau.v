// qloom_vvau: vector-vector-activation unit for depthwise convolutions (FINN's VVAU:
// K MACs per channel per output pixel), folded by PE (channels) and SIMD (kernel
// positions), with an optional multi-threshold activation.
//
// For every output pixel and channel c:  acc[c] = sum_k W[c][k] * x[k][c]
// (x: the pixel's window, K = K_H*K_W kernel positions of CHANNELS elements each),
// then out[c] = #{t : acc[c] >= T[c][t]} + OUT_BIAS (NUM_THRESH > 0) or acc[c].
//
// Parameters
//   CHANNELS, K   channels (C) and kernel positions per window (K_H*K_W)
//   PE, SIMD      channels / kernel positions per cycle; CHANNELS % PE == 0,
//                 K % SIMD == 0, and SIMD > 1 only with PE == CHANNELS (the window
//                 arrives in the SWG's (k, c) order, c innermost: a beat of several
//                 kernel positions is contiguous only when it holds every channel).
//                 NF = CHANNELS/PE, KF = K/SIMD.
//   IN_BITS, IN_SIGNED, IN_BIPOLAR   input element type (bipolar: 1 bit, 1 = +1)
//   W_BITS, W_SIGNED, W_BIPOLAR      weight type (same conventions)
//   ACC_BITS      signed accumulator width (the generator picks it so every
//                 accumulator and threshold fits; arithmetic is modulo 2^ACC_BITS)
//   NUM_THRESH    0: output element = accumulator (ACC_BITS, signed);
//                 >0: output = #{t : acc >= T[c][t]} + OUT_BIAS, OUT_BITS wide (wraps)
//   OUT_BITS, OUT_SIGNED, OUT_BIAS   activation output type and offset
//   WEIGHT_FILE   $readmemh file of the weight ROM: KF*NF words of PE*SIMD*W_BITS
//                 bits, word kf*NF + nf, weight (s, p) at bits
//                 [(s*PE + p)*W_BITS +: W_BITS] = W[nf*PE + p][kf*SIMD + s]
//                 (bipolar: 1 bit, 1 = +1)
//   THRESH_FILE   $readmemh file of the threshold ROM (NUM_THRESH > 0): NF words of
//                 PE*NUM_THRESH*ACC_BITS bits, word nf, threshold (p, t) at bits
//                 [(p*NUM_THRESH + t)*ACC_BITS +: ACC_BITS] = T[nf*PE + p][t]
//                 (signed, ascending in t; the layout of qloom_mvau / qloom_thresholding)
//   MUL_STYLE     integer products: 0 auto (LUT shift-add if IN_BITS + W_BITS <= 10,
//                 else `*`), 1 LUT shift-add, 2 `*` (Yosys maps it to DSP slices)
//   RAM_STYLE     "auto" | "block" | "distributed" (attribute of the weight ROM;
//                 "distributed" is emitted as "logic", a LUT ROM)
//   CREDITS       output beats in flight or queued (>= 1): the output FIFO
//                 (qloom_credit_out) has CREDITS words; the generator passes
//                 qloom.ops.vvau.vvau_credits (enough for full rate)
//
// Streams
//   s_axis_tdata [SIMD*PE*IN_BITS-1:0]: KF*NF beats per pixel in the order (kf, nf);
//                 element (s, p) at bits [(s*PE + p)*IN_BITS +: IN_BITS] =
//                 x[kf*SIMD + s][nf*PE + p], i.e. the SWG's window stream (ky, kx, c)
//                 cut into beats of PE*SIMD elements.
//   m_axis_tdata [PE*OB-1:0], OB = (NUM_THRESH > 0 ? OUT_BITS : ACC_BITS): NF beats
//                 per pixel, element p of beat nf = out[nf*PE + p].
//
// Architecture
//   One input beat and one weight word per cycle (no input buffer: every element is
//   used once).  Kernel folds are the outer loop, channel folds the inner one, so the
//   partial sums of the NF channel folds wait in a delay line of NF words of
//   PE*ACC_BITS bits (shift on every valid beat: word nf comes back NF beats later;
//   Yosys maps it to shift-register LUTs on Xilinx).  FINN's VVAU reads a depthwise
//   SWG stream (channel folds outer) and keeps PE accumulators instead; the cycle
//   count is the same.  Pipeline: ROM read + input register, retiming copy, products
//   registered, SIMD adder tree per PE registered, accumulate (delay line), then the
//   PE*NUM_THRESH comparisons registered, counted, and the output register.
//
// Cycles
//   II = KF*NF cycles per pixel (input every cycle, output not back-pressured).
//   Latency from a pixel's last input beat to its last output beat: 6 cycles, +2 with
//   thresholds (qloom.ops.vvau.latency_qloom_vvau).
//   s_axis_tready and m_axis_t* are driven by registers only.
//
// Memory use
//   weight ROM KF*NF x PE*SIMD*W_BITS, threshold ROM NF x PE*NUM_THRESH*ACC_BITS,
//   delay line NF x PE*ACC_BITS (shift register), output FIFO CREDITS x PE*OB
//   (distributed).
//
// Depends on: qloom_axis.vh, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v, qloom_mul_lane.v, qloom_tree.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_vvau #(
    parameter integer CHANNELS = 4, K = 9, PE = 1, SIMD = 1,       // window, folding
    parameter integer IN_BITS = 4, IN_SIGNED = 0, IN_BIPOLAR = 0,  // input elements
    parameter integer W_BITS = 4, W_SIGNED = 1, W_BIPOLAR = 0,     // weights
    parameter integer ACC_BITS = 16, NUM_THRESH = 0, OUT_BITS = 4,
    // OUT_SIGNED documents how the consumer reads the output (the bits are the same).
    /* verilator lint_off UNUSEDPARAM */
    parameter integer OUT_SIGNED = 0,
    /* verilator lint_on UNUSEDPARAM */
    parameter integer OUT_BIAS = 0,
    parameter WEIGHT_FILE = "weights.mem",
    parameter THRESH_FILE = "thresholds.mem",
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto",
    /* verilator lint_on UNUSEDPARAM */
    parameter integer MUL_STYLE = 0,
    parameter integer CREDITS = 8,
    // derived width (do not override)
    parameter integer OB = (NUM_THRESH > 0) ? OUT_BITS : ACC_BITS
) (
    `QLOOM_AXIS_PORTS(SIMD*PE*IN_BITS, PE*OB)
);
    // number of nodes on level l of a balanced adder tree over n0 leaves
    `include "qloom_tree.vh"

    // illegal parameters stop elaboration
    if (PE < 1 || CHANNELS % PE != 0) begin : g_err_pe
        $error("qloom_vvau: CHANNELS must be a multiple of PE (PE >= 1)");
    end
    if (SIMD < 1 || K % SIMD != 0) begin : g_err_simd
        $error("qloom_vvau: K must be a multiple of SIMD (SIMD >= 1)");
    end
    if (SIMD > 1 && PE != CHANNELS) begin : g_err_order
        $error("qloom_vvau: SIMD > 1 needs PE == CHANNELS (window stream in (k, c) order)");
    end
    if ((IN_BIPOLAR != 0 && IN_BITS != 1) || (W_BIPOLAR != 0 && W_BITS != 1)) begin : g_err_bip
        $error("qloom_vvau: bipolar inputs / weights must be 1 bit wide");
    end
    if (NUM_THRESH < 0) begin : g_err_nthresh
        $error("qloom_vvau: NUM_THRESH must be >= 0");
    end
    if (ACC_BITS < 2) begin : g_err_acc
        $error("qloom_vvau: ACC_BITS must be >= 2");
    end

    localparam integer NF = CHANNELS / PE;
    localparam integer KF = K / SIMD;
    localparam integer IB = IN_BITS;
    localparam integer WB = W_BITS;
    localparam integer LANES = SIMD * PE;
    localparam integer PW = IB + WB + 2;                       // signed product width
    localparam integer PRW = (ACC_BITS < PW) ? ACC_BITS : PW;  // as registered
    localparam integer MUL_LUT = ((MUL_STYLE == 1) || (MUL_STYLE == 0 && IB + WB <= 10)) ? 1 : 0;
    localparam integer NFW = (NF > 1) ? $clog2(NF) : 1;
    localparam integer KFW = (KF > 1) ? $clog2(KF) : 1;
    localparam integer WAW = (NF * KF > 1) ? $clog2(NF * KF) : 1;
    localparam integer WWORD = LANES * WB;
    localparam integer TL = (SIMD > 1) ? $clog2(SIMD) : 0;     // adder tree levels
    localparam integer NT = (NUM_THRESH > 0) ? NUM_THRESH : 1;
    localparam integer TWORD = PE * NT * ACC_BITS;
    localparam integer NF_LAST_I = NF - 1;
    localparam integer KF_LAST_I = KF - 1;
    localparam integer WA_LAST_I = NF * KF - 1;
    localparam [NFW-1:0] NF_LAST = NF_LAST_I[NFW-1:0];
    localparam [KFW-1:0] KF_LAST = KF_LAST_I[KFW-1:0];
    localparam [WAW-1:0] WA_LAST = WA_LAST_I[WAW-1:0];

    // ------------------------------------------------------------------ weight ROM
    /* verilator lint_off UNUSEDPARAM */
    /* verilator lint_off WIDTHEXPAND */
    localparam ROM_STYLE = (RAM_STYLE == "distributed") ? "logic" : RAM_STYLE;
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDPARAM */
    (* ram_style = ROM_STYLE *) reg [WWORD-1:0] wmem [0:NF*KF-1];
    initial $readmemh(WEIGHT_FILE, wmem);

    // ------------------------------------------------------------------ C0: issue
    reg [NFW-1:0] nf;
    reg [KFW-1:0] kf;
    reg [WAW-1:0] waddr;
    wire first_kf = (kf == {KFW{1'b0}});
    wire last_kf = (kf == KF_LAST);
    wire last_nf = (nf == NF_LAST);
    wire credit_ok;             // room for one more output beat (qloom_credit_out)
    wire slot_ok = !last_kf || credit_ok;
    wire issue = slot_ok && s_axis_tvalid;
    assign s_axis_tready = slot_ok;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            nf <= {NFW{1'b0}};
            kf <= {KFW{1'b0}};
            waddr <= {WAW{1'b0}};
        end else if (issue) begin
            nf <= last_nf ? {NFW{1'b0}} : nf + 1'b1;
            if (last_nf) kf <= last_kf ? {KFW{1'b0}} : kf + 1'b1;
            waddr <= (waddr == WA_LAST) ? {WAW{1'b0}} : waddr + 1'b1;
        end
    end

    // C1: weight word (synchronous ROM read) and input beat
    reg [WWORD-1:0] w1;
    reg [LANES*IB-1:0] x1;
    always @(posedge ap_clk) begin
        if (issue) begin
            w1 <= wmem[waddr];
            x1 <= s_axis_tdata;
        end
    end

    // control: {nf, last, first} valid with C1 (w1, x1), C1r (w1r, x1r), CP (prodq)
    // and CT (dot2, the accumulate stage CA)
    localparam integer CTW = NFW + 2;
    wire [3:0] cv;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [4*CTW-1:0] cd;
    /* verilator lint_on UNUSEDSIGNAL */
    qloom_vpipe #(.WIDTH(CTW), .STAGES(4)) u_ctl (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .in_valid(issue), .in_data({nf, last_kf, first_kf}),
        .valid(cv), .data(cd)
    );
    wire v1 = cv[0];
    wire vr = cv[1];
    wire vp = cv[2];
    wire va = cv[3];
    wire first_a = cd[3*CTW];
    wire last_a = cd[3*CTW + 1];
    // the threshold ROM address and enable (CP), unused when NUM_THRESH == 0
    /* verilator lint_off UNUSEDSIGNAL */
    wire lastp = cd[2*CTW + 1];
    wire [NFW-1:0] nfp = cd[2*CTW + 2 +: NFW];
    /* verilator lint_on UNUSEDSIGNAL */

    // C1r: the ROM output and the input registered once more (block RAM clock-to-out)
    reg [WWORD-1:0] w1r;
    reg [LANES*IB-1:0] x1r;
    always @(posedge ap_clk) begin
        if (v1) begin
            w1r <= w1;
            x1r <= x1;
        end
    end

    // ------------------------------------------------------------------ CP: products
    reg [LANES*PRW-1:0] prodq;
    wire [PE*ACC_BITS-1:0] dot_c;        // per PE: sum over the SIMD products
    wire [LANES*PRW-1:0] prods;
    always @(posedge ap_clk) begin
        if (vr) prodq <= prods;
    end

    genvar gl, gi, gs, gp;
    generate
        for (gi = 0; gi < LANES; gi = gi + 1) begin : g_lane
            wire [IB-1:0] xr = x1r[gi*IB +: IB];
            wire [WB-1:0] wr = w1r[gi*WB +: WB];
            wire [PW-1:0] prod;
            // operands sign / zero extended to PW bits (each mode reads what it needs)
            /* verilator lint_off UNUSEDSIGNAL */
            wire [PW-1:0] xs = (IN_SIGNED != 0) ? {{(PW-IB){xr[IB-1]}}, xr} : {{(PW-IB){1'b0}}, xr};
            wire [PW-1:0] ws = (W_SIGNED != 0) ? {{(PW-WB){wr[WB-1]}}, wr} : {{(PW-WB){1'b0}}, wr};
            /* verilator lint_on UNUSEDSIGNAL */
            if (IN_BIPOLAR != 0 && W_BIPOLAR != 0) begin : g_xnor
                assign prod = (xr[0] == wr[0]) ? {{(PW-1){1'b0}}, 1'b1} : {PW{1'b1}};
            end else if (W_BIPOLAR != 0) begin : g_wbip
                assign prod = wr[0] ? xs : -xs;
            end else if (IN_BIPOLAR != 0) begin : g_xbip
                assign prod = xr[0] ? ws : -ws;
            end else begin : g_mul
                // LUT shift-add or `*` (qloom_mul_lane, shared with qloom_mvau)
                qloom_mul_lane #(
                    .IB(IB), .IN_SIGNED(IN_SIGNED), .WB(WB), .W_SIGNED(W_SIGNED), .PW(PW),
                    .MUL_LUT(MUL_LUT)
                ) u_mul (.x(xr), .w(wr), .prod(prod));
            end
            /* verilator lint_off UNUSEDSIGNAL */
            wire [PW-1:0] prod_t = prod;
            /* verilator lint_on UNUSEDSIGNAL */
            assign prods[gi*PRW +: PRW] = prod_t[PRW-1:0];
        end

        // ------------------------------------------------------------------ CT: SIMD sum
        // per PE lane p a balanced adder tree over the SIMD products (s*PE + p),
        // node widths growing one bit per level (capped at ACC_BITS), registered
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
            for (gl = 0; gl <= TL; gl = gl + 1) begin : g_lvl
                localparam integer NL = tree_n(SIMD, gl);
                localparam integer LW = (PRW + gl > ACC_BITS) ? ACC_BITS : PRW + gl;
                wire [NL*LW-1:0] v;
                if (gl == 0) begin : g_leaf
                    for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_s
                        assign v[gs*LW +: LW] = prodq[(gs*PE + gp)*PRW +: PRW];
                    end
                end else begin : g_add
                    localparam integer NP = tree_n(SIMD, gl - 1);
                    localparam integer PLW = (PRW + gl - 1 > ACC_BITS) ? ACC_BITS : PRW + gl - 1;
                    wire [NP*PLW-1:0] u = g_lvl[gl-1].v;
                    for (gi = 0; gi < NL; gi = gi + 1) begin : g_n
                        wire [LW-1:0] a, b;
                        if (LW == PLW) begin : g_asame
                            assign a = u[2*gi*PLW +: PLW];
                        end else begin : g_asx
                            assign a = {{(LW-PLW){u[2*gi*PLW+PLW-1]}}, u[2*gi*PLW +: PLW]};
                        end
                        if (2*gi + 1 >= NP) begin : g_bnone
                            assign b = {LW{1'b0}};
                        end else if (LW == PLW) begin : g_bsame
                            assign b = u[(2*gi+1)*PLW +: PLW];
                        end else begin : g_bsx
                            assign b = {{(LW-PLW){u[(2*gi+1)*PLW+PLW-1]}}, u[(2*gi+1)*PLW +: PLW]};
                        end
                        assign v[gi*LW +: LW] = a + b;
                    end
                end
            end
            localparam integer TW = (PRW + TL > ACC_BITS) ? ACC_BITS : PRW + TL;
            wire [TW-1:0] tsum = g_lvl[TL].v;
            if (TW == ACC_BITS) begin : g_full
                assign dot_c[gp*ACC_BITS +: ACC_BITS] = tsum;
            end else begin : g_sext
                assign dot_c[gp*ACC_BITS +: ACC_BITS] = {{(ACC_BITS-TW){tsum[TW-1]}}, tsum};
            end
        end
    endgenerate

    reg [PE*ACC_BITS-1:0] dot2;
    always @(posedge ap_clk) begin
        if (vp) dot2 <= dot_c;
    end

    // ------------------------------------------------------------------ CA: accumulate
    // the delay line: dl[0] is the newest partial sum, dl[NF-1] the one of the channel
    // fold this beat continues (issued NF beats earlier)
    reg [PE*ACC_BITS-1:0] dl [0:NF-1];
    wire [PE*ACC_BITS-1:0] head = dl[NF-1];
    wire [PE*ACC_BITS-1:0] acc_new;
    genvar ga;
    for (ga = 0; ga < PE; ga = ga + 1) begin : g_acc
        assign acc_new[ga*ACC_BITS +: ACC_BITS] = (first_a ? {ACC_BITS{1'b0}} : head[ga*ACC_BITS +: ACC_BITS])
            + dot2[ga*ACC_BITS +: ACC_BITS];
    end
    integer il;
    always @(posedge ap_clk) begin
        if (va) begin
            dl[0] <= acc_new;
            for (il = 1; il < NF; il = il + 1) dl[il] <= dl[il-1];
        end
    end
    wire [PE*ACC_BITS-1:0] acc = dl[0];     // a finished accumulator, the cycle after CA
    reg fin3;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) fin3 <= 1'b0;
        else fin3 <= va && last_a;
    end

    // ------------------------------------------------------------------ activation
    // thresholds: ROM read at CP (tq), copied beside the accumulator at CA (thr3);
    // C3 registers the PE*NUM_THRESH comparisons, C4 counts them
    wire [PE*OB-1:0] act;
    reg fin4;
    generate
        if (NUM_THRESH > 0) begin : g_thr
            reg [TWORD-1:0] tmem [0:NF-1];
            initial $readmemh(THRESH_FILE, tmem);
            reg [TWORD-1:0] tq, thr3;
            always @(posedge ap_clk) begin
                if (vp && lastp) tq <= tmem[nfp];
                if (va && last_a) thr3 <= tq;
            end
            reg [PE*NUM_THRESH-1:0] ge4;
            integer tp, tk;
            always @(posedge ap_clk) begin
                if (!ap_rst_n) fin4 <= 1'b0;
                else fin4 <= fin3;
                if (fin3) begin
                    for (tp = 0; tp < PE; tp = tp + 1)
                        for (tk = 0; tk < NUM_THRESH; tk = tk + 1)
                            ge4[tp*NUM_THRESH + tk] <= $signed(acc[tp*ACC_BITS +: ACC_BITS]) >=
                                $signed(thr3[(tp*NUM_THRESH + tk)*ACC_BITS +: ACC_BITS]);
                end
            end
            localparam integer BIAS_I = OUT_BIAS;
            localparam [OB-1:0] BIAS_V = BIAS_I[OB-1:0];
            localparam integer CL = (NUM_THRESH > 1) ? $clog2(NUM_THRESH) : 0;
            genvar cp, cl, ci;
            for (cp = 0; cp < PE; cp = cp + 1) begin : g_cnt
                // balanced tree of small adders over the NUM_THRESH comparison bits
                for (cl = 0; cl <= CL; cl = cl + 1) begin : g_cl
                    localparam integer NC = tree_n(NUM_THRESH, cl);
                    localparam integer CW = cl + 1;
                    wire [NC*CW-1:0] c;
                    if (cl == 0) begin : g_leaf
                        assign c = ge4[cp*NUM_THRESH +: NUM_THRESH];
                    end else begin : g_add
                        localparam integer NPC = tree_n(NUM_THRESH, cl - 1);
                        for (ci = 0; ci < NC; ci = ci + 1) begin : g_n
                            if (2*ci + 1 < NPC) begin : g_two
                                assign c[ci*CW +: CW] = {1'b0, g_cl[cl-1].c[2*ci*(CW-1) +: CW-1]}
                                    + {1'b0, g_cl[cl-1].c[(2*ci+1)*(CW-1) +: CW-1]};
                            end else begin : g_one
                                assign c[ci*CW +: CW] = {1'b0, g_cl[cl-1].c[2*ci*(CW-1) +: CW-1]};
                            end
                        end
                    end
                end
                // count (CL+1 bits) + bias, modulo 2^OB
                localparam integer XW = (CL + 1 > OB) ? CL + 1 : OB;
                /* verilator lint_off UNUSEDSIGNAL */
                wire [XW-1:0] cnt_x = {{(XW-CL-1){1'b0}}, g_cl[CL].c} + {{(XW-OB){1'b0}}, BIAS_V};
                /* verilator lint_on UNUSEDSIGNAL */
                assign act[cp*OB +: OB] = cnt_x[OB-1:0];
            end
        end else begin : g_raw
            always @* fin4 = fin3;
            assign act = acc;
        end
    endgenerate

    // ------------------------------------------------------------------ output queue
    // an output beat is issued with the last kernel fold of its channel fold; the
    // output register (IN_REG) before the queue
    qloom_credit_out #(
        .WIDTH(PE*OB),
        .CREDITS(CREDITS),
        .IN_REG(1)
    ) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .issue(issue && last_kf), .credit_ok(credit_ok),
        .s_axis_tdata(act), .s_axis_tvalid(fin4),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );

endmodule

`default_nettype wire
