// qloom_mvau: matrix-vector-activation unit (FINN-R style MVAU), folded by PE/SIMD.
//
// For every input vector x (MW elements) computes y = W x (W: MH x MW integer
// matrix held in an on-chip ROM), then optionally a multi-threshold activation.
//
// Parameters
//   MW, MH        matrix width (input length) and height (output length)
//   PE, SIMD      output rows / input columns processed per cycle;
//                 MW % SIMD == 0, MH % PE == 0.  SF = MW/SIMD, NF = MH/PE.
//   IN_BITS, IN_SIGNED, IN_BIPOLAR   input element type (bipolar: IN_BITS must
//                 be 1; bit 1 = +1, bit 0 = -1)
//   W_BITS, W_SIGNED, W_BIPOLAR      weight type (same conventions)
//   ACC_BITS      signed accumulator width (the generator picks it so the dot
//                 product fits; partial sums may wrap, the arithmetic is modulo
//                 2^ACC_BITS).  In XNOR mode it must hold -MW..MW.
//   NUM_THRESH    0: no activation, output element = accumulator (ACC_BITS,
//                 signed, the true dot product also in XNOR mode).
//                 >0: output element = #{k : acc >= T[row][k]} + OUT_BIAS,
//                 OUT_BITS wide (two's complement wrap; OUT_SIGNED only tells
//                 the consumer how to read it).
//   OUT_BITS, OUT_SIGNED, OUT_BIAS   activation output type and offset
//   WEIGHT_FILE   $readmemh file of the weight ROM:
//                 NF*SF words of PE*SIMD*W_BITS bits, word index nf*SF + sf,
//                 weight (p, s) at bits [(p*SIMD + s)*W_BITS +: W_BITS], i.e.
//                 W[nf*PE + p][sf*SIMD + s] (bipolar: 1 bit, 1 = +1).
//   THRESH_FILE   $readmemh file of the threshold ROM (used if NUM_THRESH > 0):
//                 NF words of PE*NUM_THRESH*ACC_BITS bits, word index nf,
//                 threshold (p, k) at bits [(p*NUM_THRESH + k)*ACC_BITS +: ACC_BITS]
//                 = T[nf*PE + p][k], signed two's complement, ascending in k.
//                 Domain: the accumulator domain, except in XNOR mode (both
//                 IN_BIPOLAR and W_BIPOLAR) where the accumulator is the
//                 popcount pop = #{i : w_i == x_i} (dot = 2*pop - MW) and the
//                 thresholds are in the POPCOUNT domain:
//                 dot >= t  <=>  pop >= ceil((t + MW) / 2).
//   MUL_STYLE     0 auto (LUT shift-add if IN_BITS + W_BITS <= 10, else `*`),
//                 1 LUT shift-add, 2 `*` (Yosys synth_xilinx maps it to DSP48E1),
//                 3 bit planes: no products, per PE W_BITS*IN_BITS AND-popcounts weighted
//                 by +-2^(j+k) (qloom_dot_bitplane; integer weights and inputs only).
//                 4 DSP packing: PACK_K weights of consecutive PEs multiply the shared
//                 input in one DSP (qloom_mul_pack, fields of PACK_S bits, exact sign
//                 correction; Xilinx WP486), its P register in place of the product register.
//   RAM_STYLE     "auto" | "block" | "distributed": ram_style attribute of the
//                 weight ROM ("distributed" is emitted as "logic", which is how
//                 Yosys builds a LUT ROM; it cannot put a ROM in LUTRAM).
//   THR_STYLE     0: parallel compare bank (above); 1: binary search (qloom_thr_bsearch:
//                 STAGES = ceil(log2(NUM_THRESH+1)) compare stages, thresholds ACC_BITS+1
//                 bits wide, THRESH_FILE the prefix of its stage files THRESH_FILE_s<k>.mem,
//                 layout qloom.ops.base.bsearch_words; STAGES more cycles of latency)
//                 2: requantizer (qloom_thr_requant: count = clip((acc*M + B) >>> RQ_SHIFT,
//                 CMIN, CMAX) per channel, the generator's exact replacement of uniformly
//                 spaced thresholds; THRESH_FILE its NF-word parameter file; 2 more cycles)
//   THR_RAM_STYLE ram_style of the binary search's stage memories / the requantizer's
//                 parameter memory
//   RQ_MB, RQ_BB, RQ_SHIFT  the requantizer's multiplier and bias widths and its shift
//   ROUND_TRIP    cycles from issuing a vector's last input beat for an output beat
//                 to that beat's credit coming back without stalls (default: the
//                 pipeline depth, 9 + (SIMD > 4) + (NUM_THRESH > 0) + STAGES with THR_STYLE 1)
//   CREDITS       output beats in flight or queued (>= 1), default
//                 ceil(ROUND_TRIP/SF) + 1: enough for one output beat per SF cycles;
//                 the output FIFO (qloom_credit_out) has CREDITS words
//
// Streams
//   s_axis_tdata [SIMD*IN_BITS-1:0]: MW/SIMD beats per vector, element s of
//                 beat sf = x[sf*SIMD + s] at bits [s*IN_BITS +: IN_BITS].
//   m_axis_tdata [PE*OB-1:0] with OB = (NUM_THRESH > 0 ? OUT_BITS : ACC_BITS):
//                 MH/PE beats per vector, element p of beat nf = y[nf*PE + p].
//
// Cycles
//   One weight word per cycle: II = NF*SF cycles per vector when the input
//   arrives every cycle and the output is not back-pressured (the input is read
//   during the nf = 0 pass, buffered, and re-used for nf = 1..NF-1).  Latency
//   from the last input beat of a vector to its first output beat: ~9 cycles,
//   +1 with an adder-tree split (SIMD > 4), +1 with thresholds (NUM_THRESH > 0).
//   s_axis_tready and m_axis_t* are driven by registers only.
//
// Memory use
//   weight ROM NF*SF x PE*SIMD*W_BITS bits (RAM_STYLE), threshold ROM
//   NF x PE*NUM_THRESH*ACC_BITS bits, input buffer SF x SIMD*IN_BITS bits
//   (only if NF > 1), output FIFO (qloom_credit_out: qloom_fifo, distributed) of
//   CREDITS words of PE*OB bits (default ceil(ROUND_TRIP/SF)+1, ROUND_TRIP = 9..11,
//   the latency above),
//   accumulators PE*ACC_BITS flip-flops.
//   Pipeline (for Fmax): ROM/buffer outputs registered again (block RAM
//   clock-to-out is slow), products registered (PE*SIMD*min(PW, ACC_BITS) flip-flops;
//   LUT products summed by a balanced shift-add tree), per PE a balanced adder tree
//   over the SIMD products (depth ceil(log2 SIMD), node widths growing one bit per
//   level) registered before the accumulator and, for SIMD > 4, once more in the
//   middle.  XNOR mode registers no single matches: per group of 3 lanes the 2-bit
//   match count (one LUT6 per bit), two groups added into the 3-bit count of 6 lanes,
//   which is what is registered (~3*ceil(SIMD/6) flip-flops per PE), then a
//   balanced adder tree over those counts (node widths growing one bit per level),
//   split in its middle for SIMD > 4: the same depth (g_xnor).  Against 1-bit
//   leaves this saves ~1 LUT and ~0.9 flip-flop per lane on xc7 (Yosys), e.g. MW 576
//   MH 64 PE 16 SIMD 64 with a LUT ROM: 4727 LUT / 3420 FF (was 5817 / 4444).
//   The activation registers the PE*NUM_THRESH
//   parallel comparisons (thresholds read one stage ahead: one more copy of the
//   threshold word, PE*NUM_THRESH*ACC_BITS flip-flops), then counts them with a
//   small adder tree.
//
// Depends on: qloom_axis.vh, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v, qloom_thr_bsearch.v, qloom_thr_requant.v, qloom_mul_lane.v, qloom_dot_bitplane.v, qloom_mul_pack.v, qloom_popcount.v, qloom_tree.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_mvau #(
    parameter integer MW = 4, MH = 4, PE = 1, SIMD = 1,       // matrix, folding
    parameter integer IN_BITS = 4, IN_SIGNED = 0, IN_BIPOLAR = 0,  // input elements
    parameter integer W_BITS = 4, W_SIGNED = 1, W_BIPOLAR = 0,     // weights
    parameter integer ACC_BITS = 16, NUM_THRESH = 0, OUT_BITS = 4,
    // OUT_SIGNED documents how the consumer reads the output (the bits are the
    // same either way), so the RTL does not use it.
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
    // multiplier style (integer-by-integer products only): 0 = auto (LUT shift-add
    // when IN_BITS + W_BITS <= 10, else the * operator), 1 = LUT shift-add,
    // 2 = the * operator (Yosys maps it to DSP48 slices), 3 = bit planes (qloom_dot_bitplane),
    // 4 = DSP packing (qloom_mul_pack)
    parameter integer MUL_STYLE = 0,
    // MUL_STYLE 4 (DSP packing, qloom_mul_pack): products per DSP and their field width
    // (the product range's width; qloom.ops.mvau.dsp_pack chooses both)
    parameter integer PACK_K = 2, PACK_S = IN_BITS + W_BITS,
    // threshold unit: 0 parallel compare bank, 1 binary search (qloom_thr_bsearch),
    // 2 requantizer (qloom_thr_requant)
    parameter integer THR_STYLE = 0,
    /* verilator lint_off UNUSEDPARAM */
    parameter THR_RAM_STYLE = "distributed",
    /* verilator lint_on UNUSEDPARAM */
    parameter integer RQ_MB = 8, RQ_BB = 16, RQ_SHIFT = 8,
    // output credits: issue -> credit returned without stalls (the pipeline depth:
    // 9, +1 with the adder tree split for SIMD > 4, +1 with thresholds), and the
    // credits that keep one output beat per SF = MW/SIMD cycles flowing (only the
    // CREDITS default reads ROUND_TRIP: unused when CREDITS is given)
    /* verilator lint_off UNUSEDPARAM */
    parameter integer ROUND_TRIP = 9 + ((SIMD > 4) ? 1 : 0) + ((NUM_THRESH > 0) ? 1 : 0)
        + ((NUM_THRESH > 0 && THR_STYLE == 1) ? $clog2(NUM_THRESH + 1) : 0)
        + ((NUM_THRESH > 0 && THR_STYLE == 2) ? 2 : 0),
    /* verilator lint_on UNUSEDPARAM */
    parameter integer CREDITS = (ROUND_TRIP + MW / SIMD - 1) / (MW / SIMD) + 1,
    // derived widths (do not override)
    parameter integer OB = (NUM_THRESH > 0) ? OUT_BITS : ACC_BITS
) (
    `QLOOM_AXIS_PORTS(SIMD*IN_BITS, PE*OB)
);
    // number of nodes on level l of a balanced adder tree over n0 leaves
    `include "qloom_tree.vh"

    // illegal parameters stop elaboration
    if (SIMD < 1 || MW % SIMD != 0) begin : g_err_simd
        $error("qloom_mvau: MW must be a multiple of SIMD (SIMD >= 1)");
    end
    if (PE < 1 || MH % PE != 0) begin : g_err_pe
        $error("qloom_mvau: MH must be a multiple of PE (PE >= 1)");
    end
    if ((IN_BIPOLAR != 0 && IN_BITS != 1) || (W_BIPOLAR != 0 && W_BITS != 1)) begin : g_err_bip
        $error("qloom_mvau: bipolar inputs / weights must be 1 bit wide");
    end
    if (NUM_THRESH < 0) begin : g_err_nthresh
        $error("qloom_mvau: NUM_THRESH must be >= 0");
    end

    localparam integer SF = MW / SIMD;
    localparam integer NF = MH / PE;
    localparam integer XNOR = ((IN_BIPOLAR != 0) && (W_BIPOLAR != 0)) ? 1 : 0;
    localparam integer IB = IN_BITS;
    localparam integer WB = W_BITS;
    localparam integer PW = IB + WB + 2;          // signed product width
    localparam integer MUL_LUT = ((MUL_STYLE == 1) || (MUL_STYLE == 0 && IB + WB <= 10)) ? 1 : 0;
    // MUL_STYLE 4 (integer products only): DSP packing, PACK_K products of S = PACK_S bits
    localparam integer PACKED = (MUL_STYLE == 4 && XNOR == 0 && IN_BIPOLAR == 0 && W_BIPOLAR == 0) ? 1 : 0;
    localparam integer SFW = (SF > 1) ? $clog2(SF) : 1;
    localparam integer NFW = (NF > 1) ? $clog2(NF) : 1;
    localparam integer WAW = (NF * SF > 1) ? $clog2(NF * SF) : 1;
    localparam integer WWORD = PE * SIMD * WB;
    localparam integer TL = (SIMD > 1) ? $clog2(SIMD) : 0;   // adder tree levels
    localparam integer NT = (NUM_THRESH > 0) ? NUM_THRESH : 1;
    localparam integer TWORD = PE * NT * ACC_BITS;
    localparam integer SF_LAST_I = SF - 1;
    localparam integer NF_LAST_I = NF - 1;
    localparam integer WA_LAST_I = NF * SF - 1;
    localparam [SFW-1:0] SF_LAST = SF_LAST_I[SFW-1:0];
    localparam [NFW-1:0] NF_LAST = NF_LAST_I[NFW-1:0];
    localparam [WAW-1:0] WA_LAST = WA_LAST_I[WAW-1:0];

    // ------------------------------------------------------------------ ROMs
    // Yosys cannot map a ROM to LUTRAM; a "distributed" ROM is LUT logic ("logic").
    // String compare/select: the shorter string is zero-padded on the left, which is
    // the intended meaning (WIDTHEXPAND waived); attribute only (UNUSEDPARAM waived).
    /* verilator lint_off UNUSEDPARAM */
    /* verilator lint_off WIDTHEXPAND */
    localparam ROM_STYLE = (RAM_STYLE == "distributed") ? "logic" : RAM_STYLE;
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDPARAM */
    (* ram_style = ROM_STYLE *) reg [WWORD-1:0] wmem [0:NF*SF-1];
    initial $readmemh(WEIGHT_FILE, wmem);

    // ------------------------------------------------------------------ C0: issue
    reg [SFW-1:0] sf;
    reg [NFW-1:0] nf;
    reg [WAW-1:0] waddr;

    wire in_pass = (nf == {NFW{1'b0}});
    wire first_sf = (sf == {SFW{1'b0}});
    wire last_sf = (sf == SF_LAST);
    wire credit_ok;             // room for one more output beat (qloom_credit_out)
    wire slot_ok = !last_sf || credit_ok;
    wire issue = slot_ok && (!in_pass || s_axis_tvalid);
    assign s_axis_tready = in_pass && slot_ok;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            sf <= {SFW{1'b0}};
            nf <= {NFW{1'b0}};
            waddr <= {WAW{1'b0}};
        end else begin
            if (issue) begin
                sf <= last_sf ? {SFW{1'b0}} : sf + 1'b1;
                if (last_sf) nf <= (nf == NF_LAST) ? {NFW{1'b0}} : nf + 1'b1;
                waddr <= (waddr == WA_LAST) ? {WAW{1'b0}} : waddr + 1'b1;
            end
        end
    end

    // weight ROM read (synchronous, enable = issue)
    reg [WWORD-1:0] w1;
    always @(posedge ap_clk) begin
        if (issue) w1 <= wmem[waddr];
    end

    // input: straight from the stream during the nf = 0 pass, else from the buffer
    reg [SIMD*IB-1:0] sd1;
    wire [SIMD*IB-1:0] ib1;
    always @(posedge ap_clk) begin
        if (issue && in_pass) sd1 <= s_axis_tdata;
    end
    generate
        if (NF > 1) begin : g_ibuf
            reg [SIMD*IB-1:0] ibuf [0:SF-1];
            reg [SIMD*IB-1:0] ibq;
            always @(posedge ap_clk) begin
                if (issue && in_pass) ibuf[sf] <= s_axis_tdata;
            end
            always @(posedge ap_clk) begin
                if (issue && !in_pass) ibq <= ibuf[sf];
            end
            assign ib1 = ibq;
        end else begin : g_noibuf
            assign ib1 = sd1;
        end
    endgenerate

    // ------------------------------------------------------------------ control pipeline
    // valid bit, first / last sf and nf of each beat through the stages C1, C1r, CP,
    // CT (a register only with the adder tree split, TREG, else CT = CP) and C2
    localparam integer TREG = (TL >= 3) ? 1 : 0;
    localparam integer CTW = NFW + 2;               // {nf, last, first}
    localparam integer S_T = 2 + TREG;              // stages: 0 C1, 1 C1r, 2 CP, S_T CT, S_2 C2
    localparam integer S_2 = 3 + TREG;
    wire [S_2:0] cv;
    // every stage is exposed, each is read where needed (UNUSEDSIGNAL waived)
    /* verilator lint_off UNUSEDSIGNAL */
    wire [(S_2+1)*CTW-1:0] cd;
    /* verilator lint_on UNUSEDSIGNAL */
    qloom_vpipe #(.WIDTH(CTW), .STAGES(S_2 + 1)) u_ctl (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .in_valid(issue), .in_data({nf, last_sf, first_sf}),
        .valid(cv), .data(cd)
    );
    wire v1 = cv[0];
    wire vr = cv[1];
    wire vt = cv[S_T];
    wire v2 = cv[S_2];
    wire first2 = cd[S_2*CTW];
    wire last2 = cd[S_2*CTW + 1];
    // the enable of the adder tree split, unused without it (TREG = 0); the threshold
    // ROM address and read enable, unused when NUM_THRESH == 0
    /* verilator lint_off UNUSEDSIGNAL */
    wire vp = cv[2];
    wire lastt = cd[S_T*CTW + 1];
    wire [NFW-1:0] nft = cd[S_T*CTW + 2 +: NFW];
    wire [NFW-1:0] nf2 = cd[S_2*CTW + 2 +: NFW];
    /* verilator lint_on UNUSEDSIGNAL */

    reg src1;               // C1 beat: input from the stream (nf = 0 pass), not the buffer
    always @(posedge ap_clk) begin
        if (issue) src1 <= in_pass;
    end

    // ------------------------------------------------------------------ C1r: retime
    // the ROM / buffer outputs are registered once more (block RAM clock-to-out is slow)
    reg [WWORD-1:0] w1r;
    reg [SIMD*IB-1:0] x1r;
    always @(posedge ap_clk) begin
        if (v1) begin
            w1r <= w1;
            x1r <= src1 ? sd1 : ib1;
        end
    end

    // ------------------------------------------------------------------ CP: products (registered)
    // (the product / group-count registers themselves are in g_int / g_xnor below)

    // ------------------------------------------------------------------ CT: SIMD sum
    // balanced adder tree per PE; node widths grow by one bit per level (capped at
    // ACC_BITS); with 3 or more levels a register splits the tree after level TS
    // (XNOR mode: its own tree over lane-group counts, split where g_xnor says)
    localparam integer TS = (TL >= 3) ? (TL + 1) / 2 : TL + 1;
    wire [PE*ACC_BITS-1:0] dot_c;        // per PE: sum over the SIMD products

    genvar gp, gs, gl, gi;
    generate
        if (XNOR != 0) begin : g_xnor
            // ---- XNOR popcount (qloom_popcount) of the matches ~(x ^ w): the lanes in
            // groups of 3, a balanced adder tree over the group counts (node widths capped
            // at ACC_BITS; unsigned counts). CP registers level 1 of the tree (or 0), and
            // for SIMD > 4 (TREG) the split a level in the middle: the same pipeline depth
            // as the other modes.
            for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
                wire [SIMD-1:0] match = ~(x1r[SIMD-1:0] ^ w1r[gp*SIMD +: SIMD]);
                qloom_popcount #(.N(SIMD), .CAP(ACC_BITS), .TREG(TREG)) u_pc (
                    .ap_clk(ap_clk), .en_cp(vr), .en_split(vp), .bits(match),
                    .cnt(dot_c[gp*ACC_BITS +: ACC_BITS]));
            end
        end else if (MUL_STYLE == 3 && W_BIPOLAR == 0 && IN_BIPOLAR == 0) begin : g_bp
            // ---- bit planes (qloom_dot_bitplane): per PE, W_BITS*IN_BITS AND-popcounts
            // registered at CP (and the split) like the XNOR popcount, weighted and summed
            for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
                qloom_dot_bitplane #(
                    .SIMD(SIMD), .IB(IB), .IN_SIGNED(IN_SIGNED), .WB(WB), .W_SIGNED(W_SIGNED),
                    .ACC_BITS(ACC_BITS), .TREG(TREG)
                ) u_dot (
                    .ap_clk(ap_clk), .en_cp(vr), .en_split(vp), .x(x1r),
                    .w(w1r[gp*SIMD*WB +: SIMD*WB]), .dot(dot_c[gp*ACC_BITS +: ACC_BITS])
                );
            end
        end else begin : g_int
            // ---- integer products: PRW bits (the true product fits PW bits; modulo
            // 2^ACC_BITS if narrower), registered at CP, summed by a balanced adder tree
            localparam integer PRW = (ACC_BITS < PW) ? ACC_BITS : PW;
            wire [PE*SIMD*PRW-1:0] prodq;
            wire [PE*SIMD*PRW-1:0] prods;
            if (PACKED != 0) begin : g_pack
                // MUL_STYLE 4: PACK_K weights of consecutive PEs against the shared input
                // in one DSP multiplier (qloom_mul_pack; its P register is the CP register)
                localparam integer NG = (PE + PACK_K - 1) / PACK_K;
                for (gi = 0; gi < NG; gi = gi + 1) begin : g_grp
                    localparam integer KG = (PE - gi * PACK_K < PACK_K) ? PE - gi * PACK_K : PACK_K;
                    for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_simd
                        wire [KG*WB-1:0] wk;
                        wire [KG*PW-1:0] pk;
                        for (gp = 0; gp < KG; gp = gp + 1) begin : g_k
                            assign wk[gp*WB +: WB] = w1r[((gi*PACK_K + gp)*SIMD + gs)*WB +: WB];
                            /* verilator lint_off UNUSEDSIGNAL */
                            wire [PW-1:0] pt = pk[gp*PW +: PW];
                            /* verilator lint_on UNUSEDSIGNAL */
                            assign prodq[((gi*PACK_K + gp)*SIMD + gs)*PRW +: PRW] = pt[PRW-1:0];
                        end
                        qloom_mul_pack #(
                            .IB(IB), .IN_SIGNED(IN_SIGNED), .WB(WB), .W_SIGNED(W_SIGNED), .K(KG),
                            .S(PACK_S), .PW(PW)
                        ) u_pack (.ap_clk(ap_clk), .en(vr), .x(x1r[gs*IB +: IB]), .w(wk), .prod(pk));
                    end
                end
                /* verilator lint_off UNUSEDSIGNAL */
                wire [PE*SIMD*PRW-1:0] prods_unused = prods;
                /* verilator lint_on UNUSEDSIGNAL */
            end else begin : g_preg
                reg [PE*SIMD*PRW-1:0] prodr;
                always @(posedge ap_clk) begin
                    if (vr) prodr <= prods;
                end
                assign prodq = prodr;
            end
            for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
                for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_simd
                    wire [IB-1:0] xr = x1r[gs*IB +: IB];
                    wire [WB-1:0] wr = w1r[(gp*SIMD + gs)*WB +: WB];
                    wire [PW-1:0] prod;
                    // input and weight sign / zero extended to PW bits (each mode
                    // reads the operand(s) it needs: UNUSEDSIGNAL waived)
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [PW-1:0] xs = (IN_SIGNED != 0) ? {{(PW-IB){xr[IB-1]}}, xr} : {{(PW-IB){1'b0}}, xr};
                    wire [PW-1:0] ws = (W_SIGNED != 0) ? {{(PW-WB){wr[WB-1]}}, wr} : {{(PW-WB){1'b0}}, wr};
                    /* verilator lint_on UNUSEDSIGNAL */
                    if (W_BIPOLAR != 0) begin : g_wbip
                        // weight +1/-1: the product is +x or -x
                        assign prod = wr[0] ? xs : -xs;
                    end else if (IN_BIPOLAR != 0) begin : g_xbip
                        // input +1/-1: the product is +w or -w
                        assign prod = xr[0] ? ws : -ws;
                    end else begin : g_mul
                        // LUT shift-add or `*` (qloom_mul_lane, shared with qloom_vvau)
                        qloom_mul_lane #(
                            .IB(IB), .IN_SIGNED(IN_SIGNED), .WB(WB), .W_SIGNED(W_SIGNED), .PW(PW),
                            .MUL_LUT(MUL_LUT)
                        ) u_mul (.x(xr), .w(wr), .prod(prod));
                    end
                    // the product modulo 2^PRW (the top bits of a wider product cannot
                    // change the fitting / modulo result)
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [PW-1:0] prod_t = prod;
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign prods[(gp*SIMD + gs)*PRW +: PRW] = prod_t[PRW-1:0];
                end
                // balanced adder tree over the SIMD products (depth ceil(log2(SIMD)));
                // level gl holds NL nodes of LW bits (signed)
                for (gl = 0; gl <= TL; gl = gl + 1) begin : g_lvl
                    localparam integer NL = tree_n(SIMD, gl);
                    localparam integer LW = (PRW + gl > ACC_BITS) ? ACC_BITS : PRW + gl;
                    wire [NL*LW-1:0] v;
                    if (gl == 0) begin : g_leaf
                        assign v = prodq[gp*SIMD*PRW +: SIMD*PRW];
                    end else begin : g_add
                        localparam integer NP = tree_n(SIMD, gl - 1);
                        localparam integer PLW = (PRW + gl - 1 > ACC_BITS) ? ACC_BITS : PRW + gl - 1;
                        // the previous level, registered after level TS - 1 (if TREG)
                        wire [NP*PLW-1:0] u;
                        if (TREG != 0 && gl == TS) begin : g_reg
                            reg [NP*PLW-1:0] uq;
                            always @(posedge ap_clk) begin
                                if (vp) uq <= g_lvl[gl-1].v;
                            end
                            assign u = uq;
                        end else begin : g_wire
                            assign u = g_lvl[gl-1].v;
                        end
                        for (gi = 0; gi < NL; gi = gi + 1) begin : g_n
                            wire [LW-1:0] a, b;
                            if (LW == PLW) begin : g_same
                                // already ACC_BITS wide (modulo)
                                assign a = u[2*gi*PLW +: PLW];
                            end else begin : g_sx
                                assign a = {{(LW-PLW){u[2*gi*PLW+PLW-1]}}, u[2*gi*PLW +: PLW]};
                            end
                            if (2*gi + 1 < NP) begin : g_two
                                if (LW == PLW) begin : g_same
                                    assign b = u[(2*gi+1)*PLW +: PLW];
                                end else begin : g_sx
                                    assign b = {{(LW-PLW){u[(2*gi+1)*PLW+PLW-1]}}, u[(2*gi+1)*PLW +: PLW]};
                                end
                            end else begin : g_one
                                assign b = {LW{1'b0}};
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
        end
    endgenerate

    reg [PE*ACC_BITS-1:0] dot2;
    always @(posedge ap_clk) begin
        if (vt) dot2 <= dot_c;
    end

    // ------------------------------------------------------------------ C2: accumulate
    reg [PE*ACC_BITS-1:0] acc;
    reg fin3;
    integer ia;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) fin3 <= 1'b0;
        else fin3 <= v2 && last2;
        if (v2) begin
            for (ia = 0; ia < PE; ia = ia + 1)
                acc[ia*ACC_BITS +: ACC_BITS] <= first2 ? dot2[ia*ACC_BITS +: ACC_BITS]
                    : acc[ia*ACC_BITS +: ACC_BITS] + dot2[ia*ACC_BITS +: ACC_BITS];
        end
    end

    // ------------------------------------------------------------------ C3: activation
    // thresholds: ROM read one stage ahead (tq), copied beside the final accumulator
    // (thr3); C3 registers the PE*NUM_THRESH comparisons, C4 counts them
    wire [PE*OB-1:0] act;
    reg fin4;
    generate
        if (NUM_THRESH > 0 && THR_STYLE != 0) begin : g_thr_bs
            // binary search over the thresholds: the final accumulator and its row group
            // enter qloom_thr_bsearch at C3, the count leaves STAGES + 1 cycles later
            localparam integer S = $clog2(NUM_THRESH + 1);
            localparam integer AW = (S > OB) ? S : OB;
            localparam integer BIAS_I = OUT_BIAS;
            localparam [OB-1:0] BIAS_V = BIAS_I[OB-1:0];
            reg [NFW-1:0] nf3;
            always @(posedge ap_clk) begin
                if (v2 && last2) nf3 <= nf2;
            end
            wire [PE*S-1:0] cnt_b;
            wire bs_valid;
            if (THR_STYLE == 2) begin : g_rq
                qloom_thr_requant #(
                    .PE(PE), .NF(NF), .XW(ACC_BITS), .MB(RQ_MB), .BB(RQ_BB), .CB(S), .SHIFT(RQ_SHIFT),
                    .PARAM_FILE(THRESH_FILE), .RAM_STYLE(THR_RAM_STYLE)
                ) u_rq (
                    .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .in_valid(fin3), .in_nf(nf3), .in_x(acc),
                    .out_valid(bs_valid), .out_cnt(cnt_b)
                );
            end else begin : g_bsu
                qloom_thr_bsearch #(
                    .PE(PE), .NF(NF), .XW(ACC_BITS), .TB(ACC_BITS + 1), .NUM_THRESH(NUM_THRESH),
                    .THRESH_FILE(THRESH_FILE), .RAM_STYLE(THR_RAM_STYLE)
                ) u_bs (
                    .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .in_valid(fin3), .in_nf(nf3), .in_x(acc),
                    .out_valid(bs_valid), .out_cnt(cnt_b)
                );
            end
            always @* fin4 = bs_valid;
            genvar bp;
            for (bp = 0; bp < PE; bp = bp + 1) begin : g_o
                /* verilator lint_off UNUSEDSIGNAL */
                wire [AW-1:0] sum_b = {{(AW-S){1'b0}}, cnt_b[bp*S +: S]} + {{(AW-OB){1'b0}}, BIAS_V};
                /* verilator lint_on UNUSEDSIGNAL */
                assign act[bp*OB +: OB] = sum_b[OB-1:0];
            end
        end else if (NUM_THRESH > 0) begin : g_thr
            reg [TWORD-1:0] tmem [0:NF-1];
            initial $readmemh(THRESH_FILE, tmem);
            reg [TWORD-1:0] tq, thr3;
            always @(posedge ap_clk) begin
                if (vt && lastt) tq <= tmem[nft];
                if (v2 && last2) thr3 <= tq;
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
            localparam integer CL = (NUM_THRESH > 1) ? $clog2(NUM_THRESH) : 0;  // count tree levels
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
        end else if (XNOR != 0) begin : g_xnor_out
            // dot = 2*pop - MW
            localparam integer MW_I = MW;
            localparam [ACC_BITS-1:0] MW_V = MW_I[ACC_BITS-1:0];
            always @* fin4 = fin3;
            genvar go;
            for (go = 0; go < PE; go = go + 1) begin : g_o
                // 0 <= pop <= MW fits ACC_BITS-1 bits (ACC_BITS holds -MW..MW)
                wire [ACC_BITS-2:0] pop = acc[go*ACC_BITS +: ACC_BITS-1];
                assign act[go*OB +: OB] = {pop, 1'b0} - MW_V;
            end
        end else begin : g_raw
            always @* fin4 = fin3;
            assign act = acc;
        end
    endgenerate

    // ------------------------------------------------------------------ output queue
    // an output beat is issued with the last sf of its accumulation; C4: the output
    // register (IN_REG) before the queue
    qloom_credit_out #(
        .WIDTH(PE*OB),
        .CREDITS(CREDITS),
        .IN_REG(1)
    ) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .issue(issue && last_sf), .credit_ok(credit_ok),
        .s_axis_tdata(act), .s_axis_tvalid(fin4),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );

endmodule

`default_nettype wire
