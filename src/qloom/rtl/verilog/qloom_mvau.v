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
//                 1 LUT shift-add, 2 `*` (Yosys synth_xilinx maps it to DSP48E1).
//   RAM_STYLE     "auto" | "block" | "distributed": ram_style attribute of the
//                 weight ROM ("distributed" is emitted as "logic", which is how
//                 Yosys builds a LUT ROM; it cannot put a ROM in LUTRAM).
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
//   from the last input beat of a vector to its first output beat: ~7 cycles.
//   s_axis_tready and m_axis_t* are driven by registers only.
//
// Memory use
//   weight ROM NF*SF x PE*SIMD*W_BITS bits (RAM_STYLE), threshold ROM
//   NF x PE*NUM_THRESH*ACC_BITS bits, input buffer SF x SIMD*IN_BITS bits
//   (only if NF > 1), output FIFO (qloom_fifo, distributed) of
//   ceil(7/SF)+1 words of PE*OB bits, accumulators PE*ACC_BITS flip-flops.
//   Per PE the SIMD products are summed by a balanced adder tree (depth
//   ceil(log2 SIMD)), registered before the accumulator.  The activation compares
//   PE*NUM_THRESH thresholds in parallel.
//
// Depends on: qloom_fifo.v
`default_nettype none

module qloom_mvau #(
    parameter integer MW = 4,
    parameter integer MH = 4,
    parameter integer PE = 1,
    parameter integer SIMD = 1,
    parameter integer IN_BITS = 4,
    parameter integer IN_SIGNED = 0,
    parameter integer IN_BIPOLAR = 0,
    parameter integer W_BITS = 4,
    parameter integer W_SIGNED = 1,
    parameter integer W_BIPOLAR = 0,
    parameter integer ACC_BITS = 16,
    parameter integer NUM_THRESH = 0,
    parameter integer OUT_BITS = 4,
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
    // 2 = the * operator (Yosys maps it to DSP48 slices)
    parameter integer MUL_STYLE = 0,
    // derived widths (do not override)
    parameter integer OB = (NUM_THRESH > 0) ? OUT_BITS : ACC_BITS
) (
    input  wire                    ap_clk,
    input  wire                    ap_rst_n,
    input  wire [SIMD*IN_BITS-1:0] s_axis_tdata,
    input  wire                    s_axis_tvalid,
    output wire                    s_axis_tready,
    output wire [PE*OB-1:0]        m_axis_tdata,
    output wire                    m_axis_tvalid,
    input  wire                    m_axis_tready
);
    // number of nodes on level l of a balanced adder tree over n0 leaves
    function integer tree_n(input integer n0, input integer l);
        integer i, n;
        begin
            n = n0;
            for (i = 0; i < l; i = i + 1) n = (n + 1) / 2;
            tree_n = n;
        end
    endfunction

    localparam integer SF = MW / SIMD;
    localparam integer NF = MH / PE;
    localparam integer XNOR = ((IN_BIPOLAR != 0) && (W_BIPOLAR != 0)) ? 1 : 0;
    localparam integer IB = IN_BITS;
    localparam integer WB = W_BITS;
    localparam integer PW = IB + WB + 2;          // signed product width
    localparam integer MUL_LUT = ((MUL_STYLE == 1) || (MUL_STYLE == 0 && IB + WB <= 10)) ? 1 : 0;
    localparam integer SFW = (SF > 1) ? $clog2(SF) : 1;
    localparam integer NFW = (NF > 1) ? $clog2(NF) : 1;
    localparam integer WAW = (NF * SF > 1) ? $clog2(NF * SF) : 1;
    localparam integer WWORD = PE * SIMD * WB;
    localparam integer TL = (SIMD > 1) ? $clog2(SIMD) : 0;   // adder tree levels
    localparam integer NT = (NUM_THRESH > 0) ? NUM_THRESH : 1;
    localparam integer TWORD = PE * NT * ACC_BITS;
    localparam integer ROUND_TRIP = 7;             // issue -> credit returned, no stalls
    localparam integer CREDITS = (ROUND_TRIP + SF - 1) / SF + 1;
    localparam integer PCW = $clog2(CREDITS + 1);
    localparam integer SF_LAST_I = SF - 1;
    localparam integer NF_LAST_I = NF - 1;
    localparam integer WA_LAST_I = NF * SF - 1;
    localparam integer CREDITS_I = CREDITS;
    localparam [SFW-1:0] SF_LAST = SF_LAST_I[SFW-1:0];
    localparam [NFW-1:0] NF_LAST = NF_LAST_I[NFW-1:0];
    localparam [WAW-1:0] WA_LAST = WA_LAST_I[WAW-1:0];
    localparam [PCW-1:0] CREDITS_V = CREDITS_I[PCW-1:0];

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
    reg [PCW-1:0] pending;      // output beats issued (last sf) but not yet consumed
    wire out_fire;

    wire in_pass = (nf == {NFW{1'b0}});
    wire first_sf = (sf == {SFW{1'b0}});
    wire last_sf = (sf == SF_LAST);
    wire credit_ok = (pending != CREDITS_V);
    wire slot_ok = !last_sf || credit_ok;
    wire issue = slot_ok && (!in_pass || s_axis_tvalid);
    assign s_axis_tready = in_pass && slot_ok;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            sf <= {SFW{1'b0}};
            nf <= {NFW{1'b0}};
            waddr <= {WAW{1'b0}};
            pending <= {PCW{1'b0}};
        end else begin
            if (issue) begin
                sf <= last_sf ? {SFW{1'b0}} : sf + 1'b1;
                if (last_sf) nf <= (nf == NF_LAST) ? {NFW{1'b0}} : nf + 1'b1;
                waddr <= (waddr == WA_LAST) ? {WAW{1'b0}} : waddr + 1'b1;
            end
            if ((issue && last_sf) && !out_fire) pending <= pending + 1'b1;
            else if (!(issue && last_sf) && out_fire) pending <= pending - 1'b1;
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

    reg v1, first1, last1, src1;
    reg [NFW-1:0] nf1;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            v1 <= 1'b0;
        end else begin
            v1 <= issue;
        end
        if (issue) begin
            first1 <= first_sf;
            last1 <= last_sf;
            src1 <= in_pass;
            nf1 <= nf;
        end
    end

    // ------------------------------------------------------------------ C1: products + SIMD sum
    wire [SIMD*IB-1:0] x1 = src1 ? sd1 : ib1;
    wire [PE*SIMD*ACC_BITS-1:0] prods;   // every product, sign-extended/wrapped to ACC_BITS
    wire [PE*ACC_BITS-1:0] dot_c;        // per PE: sum over the SIMD products

    genvar gp, gs, gl, gi;
    generate
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
            for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_simd
                wire [IB-1:0] xr = x1[gs*IB +: IB];
                wire [WB-1:0] wr = w1[(gp*SIMD + gs)*WB +: WB];
                wire [PW-1:0] prod;
                if (XNOR != 0) begin : g_xnor
                    assign prod = {{(PW-1){1'b0}}, ~(xr[0] ^ wr[0])};
                end else if (W_BIPOLAR != 0) begin : g_wbip
                    // weight +1/-1: the product is +x or -x
                    wire [PW-1:0] xs;
                    if (IN_SIGNED != 0) begin : g_xs
                        assign xs = {{(PW-IB){xr[IB-1]}}, xr};
                    end else begin : g_xu
                        assign xs = {{(PW-IB){1'b0}}, xr};
                    end
                    assign prod = wr[0] ? xs : -xs;
                end else if (IN_BIPOLAR != 0) begin : g_xbip
                    // input +1/-1: the product is +w or -w
                    wire [PW-1:0] ws;
                    if (W_SIGNED != 0) begin : g_ws
                        assign ws = {{(PW-WB){wr[WB-1]}}, wr};
                    end else begin : g_wu
                        assign ws = {{(PW-WB){1'b0}}, wr};
                    end
                    assign prod = xr[0] ? ws : -ws;
                end else begin : g_mul
                    wire [PW-1:0] xs;
                    if (IN_SIGNED != 0) begin : g_xs
                        assign xs = {{(PW-IB){xr[IB-1]}}, xr};
                    end else begin : g_xu
                        assign xs = {{(PW-IB){1'b0}}, xr};
                    end
                    if (MUL_LUT != 0) begin : g_lut
                        // shift-and-add over the weight bits (the top bit of a
                        // signed weight has weight -2^(WB-1)): LUT logic
                        reg [PW-1:0] pm;
                        integer b;
                        always @* begin
                            pm = {PW{1'b0}};
                            for (b = 0; b < WB; b = b + 1) begin
                                if (wr[b]) begin
                                    if ((W_SIGNED != 0) && (b == WB - 1)) pm = pm - (xs << b);
                                    else pm = pm + (xs << b);
                                end
                            end
                        end
                        assign prod = pm;
                    end else begin : g_op
                        wire [PW-1:0] ws;
                        if (W_SIGNED != 0) begin : g_ws
                            assign ws = {{(PW-WB){wr[WB-1]}}, wr};
                        end else begin : g_wu
                            assign ws = {{(PW-WB){1'b0}}, wr};
                        end
                        assign prod = xs * ws;
                    end
                end
                if (ACC_BITS > PW) begin : g_sext
                    assign prods[(gp*SIMD + gs)*ACC_BITS +: ACC_BITS] =
                        {{(ACC_BITS-PW){prod[PW-1]}}, prod};
                end else begin : g_trunc
                    // modulo-2^ACC_BITS arithmetic: the top product bits cannot
                    // change the (fitting) result.
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [PW-1:0] prod_t = prod;
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign prods[(gp*SIMD + gs)*ACC_BITS +: ACC_BITS] = prod_t[ACC_BITS-1:0];
                end
            end
            // balanced adder tree over the SIMD products (depth ceil(log2(SIMD)))
            for (gl = 0; gl <= TL; gl = gl + 1) begin : g_lvl
                localparam integer NL = tree_n(SIMD, gl);
                wire [NL*ACC_BITS-1:0] v;
                if (gl == 0) begin : g_leaf
                    assign v = prods[gp*SIMD*ACC_BITS +: SIMD*ACC_BITS];
                end else begin : g_add
                    localparam integer NP = tree_n(SIMD, gl - 1);
                    for (gi = 0; gi < NL; gi = gi + 1) begin : g_n
                        if (2*gi + 1 < NP) begin : g_two
                            assign v[gi*ACC_BITS +: ACC_BITS] = g_lvl[gl-1].v[2*gi*ACC_BITS +: ACC_BITS]
                                + g_lvl[gl-1].v[(2*gi+1)*ACC_BITS +: ACC_BITS];
                        end else begin : g_one
                            assign v[gi*ACC_BITS +: ACC_BITS] = g_lvl[gl-1].v[2*gi*ACC_BITS +: ACC_BITS];
                        end
                    end
                end
            end
            assign dot_c[gp*ACC_BITS +: ACC_BITS] = g_lvl[TL].v;
        end
    endgenerate

    reg [PE*ACC_BITS-1:0] dot2;
    reg v2, first2, last2;
    // nf2 addresses the threshold ROM; unused when NUM_THRESH == 0
    /* verilator lint_off UNUSEDSIGNAL */
    reg [NFW-1:0] nf2;
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge ap_clk) begin
        if (!ap_rst_n) v2 <= 1'b0;
        else v2 <= v1;
        if (v1) begin
            dot2 <= dot_c;
            first2 <= first1;
            last2 <= last1;
            nf2 <= nf1;
        end
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
    wire [PE*OB-1:0] act;
    generate
        if (NUM_THRESH > 0) begin : g_thr
            reg [TWORD-1:0] tmem [0:NF-1];
            initial $readmemh(THRESH_FILE, tmem);
            reg [TWORD-1:0] thr3;
            always @(posedge ap_clk) begin
                if (v2 && last2) thr3 <= tmem[nf2];
            end
            localparam integer BIAS_I = OUT_BIAS;
            localparam [OB-1:0] BIAS_V = BIAS_I[OB-1:0];
            reg [PE*OB-1:0] act_c;
            reg [OB-1:0] cnt;
            integer tp, tk;
            always @* begin
                act_c = {PE*OB{1'b0}};
                for (tp = 0; tp < PE; tp = tp + 1) begin
                    cnt = BIAS_V;
                    for (tk = 0; tk < NUM_THRESH; tk = tk + 1)
                        if ($signed(acc[tp*ACC_BITS +: ACC_BITS]) >=
                            $signed(thr3[(tp*NUM_THRESH + tk)*ACC_BITS +: ACC_BITS]))
                            cnt = cnt + 1'b1;
                    act_c[tp*OB +: OB] = cnt;
                end
            end
            assign act = act_c;
        end else if (XNOR != 0) begin : g_xnor_out
            // dot = 2*pop - MW
            localparam integer MW_I = MW;
            localparam [ACC_BITS-1:0] MW_V = MW_I[ACC_BITS-1:0];
            genvar go;
            for (go = 0; go < PE; go = go + 1) begin : g_o
                // 0 <= pop <= MW fits ACC_BITS-1 bits (ACC_BITS holds -MW..MW)
                wire [ACC_BITS-2:0] pop = acc[go*ACC_BITS +: ACC_BITS-1];
                assign act[go*OB +: OB] = {pop, 1'b0} - MW_V;
            end
        end else begin : g_raw
            assign act = acc;
        end
    endgenerate

    reg [PE*OB-1:0] o4;
    reg o4v;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) o4v <= 1'b0;
        else o4v <= fin3;
        if (fin3) o4 <= act;
    end

    // ------------------------------------------------------------------ output queue
    // Never overflows: at most CREDITS beats are issued and not yet consumed, and
    // the FIFO holds CREDITS + 1.
    // fifo_in_ready is always 1 when o4v is (credit accounting), so it is not used.
    /* verilator lint_off UNUSEDSIGNAL */
    wire fifo_in_ready;
    /* verilator lint_on UNUSEDSIGNAL */
    qloom_fifo #(
        .WIDTH(PE*OB),
        .DEPTH(CREDITS),
        .RAM_STYLE("distributed")
    ) u_out (
        .ap_clk(ap_clk),
        .ap_rst_n(ap_rst_n),
        .s_axis_tdata(o4),
        .s_axis_tvalid(o4v),
        .s_axis_tready(fifo_in_ready),
        .m_axis_tdata(m_axis_tdata),
        .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready)
    );
    assign out_fire = m_axis_tvalid && m_axis_tready;

endmodule

`default_nettype wire
