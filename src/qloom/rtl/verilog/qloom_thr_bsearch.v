// qloom_thr_bsearch: pipelined binary-search multi-threshold unit, PE lanes.
//
// out = #{k : x >= T[c][k]} for N = NUM_THRESH ascending thresholds per channel c, found
// by a binary search over the thresholds padded to 2^S - 1 (S = STAGES =
// ceil(log2(N + 1)); padded thresholds are the largest TB-bit value, above every input):
// stage k decides bit S-1-k of the count by one comparison against the threshold chosen
// by the bits decided so far (FINN's binary-search thresholding, Blott et al. FINN-R
// 2018 / the finn-rtllib thresholding unit: the facts, not the code). One comparator of
// max(XW, TB) bits per stage and lane instead of N in a parallel compare bank.
//
// Parameters
//   PE            lanes (independent inputs, the same channel group nf)
//   NF            channel groups: lane p of group nf is channel nf*PE + p
//   XW            input width (signed two's complement; the caller sign/zero-extends)
//   TB            threshold width (signed); the generator picks TB so that the pad value
//                 2^(TB-1) - 1 exceeds every input
//   NUM_THRESH    N >= 1 thresholds per channel
//   STAGES        S = ceil(log2(N + 1)) (do not override)
//   THRESH_FILE   file-name prefix: stage k's $readmemh file is THRESH_FILE + "_s<k>.mem"
//                 ("" (the default): no file, the memories are left uninitialized)
//                 (k = 0..S-1, one decimal digit). Stage 0: NF words of PE*TB bits,
//                 word nf, lane p at [p*TB +: TB] = Tpad[c][2^(S-1) - 1].
//                 Stage k >= 1: NF*2^(k-1) words of PE*2*TB bits, word nf*2^(k-1) + q
//                 (q: the k-1 count bits decided before stage k-1), lane p at
//                 [p*2*TB +: 2*TB], entry j (the bit decided at stage k-1) at
//                 [j*TB +: TB] = Tpad[c][((2q + j) << (S-k)) + 2^(S-k-1) - 1].
//                 (Layout: qloom.ops.base.bsearch_words.)
//   RAM_STYLE     ram_style attribute of the stage memories ("distributed" is emitted as
//                 "logic", a LUT ROM; "block" block RAM for the stages of at least
//                 BRAM_MIN_DEPTH words, LUT ROM for the shallower ones)
//   BRAM_MIN_DEPTH the depth from which a stage goes to block RAM with RAM_STYLE "block"
//
// Ports (no back-pressure: a stall-free pipeline, valid-qualified)
//   in_valid, in_nf [NFW], in_x [PE*XW]     sampled at a clock edge
//   out_valid, out_cnt [PE*S]                the count, S = STAGES bits per lane
// Latency: S + 1 cycles (the input register, which also reads stage 0, then one
//   register per stage; stage k+1's pair of candidates is read while stage k compares).
// Memory per lane: stage k holds NF*2^k thresholds (2^S - 1 per channel in all).
//
`default_nettype none

module qloom_thr_bsearch #(
    parameter integer PE = 1, NF = 1, XW = 9, TB = 10, NUM_THRESH = 3,
    parameter integer STAGES = $clog2(NUM_THRESH + 1),
    parameter THRESH_FILE = "",
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto",
    parameter integer BRAM_MIN_DEPTH = 256,
    /* verilator lint_on UNUSEDPARAM */
    parameter integer NFW = (NF > 1) ? $clog2(NF) : 1
) (
    input  wire                ap_clk,
    input  wire                ap_rst_n,
    input  wire                in_valid,
    input  wire [NFW-1:0]      in_nf,
    input  wire [PE*XW-1:0]    in_x,
    output wire                out_valid,
    output wire [PE*STAGES-1:0] out_cnt
);
    if (NUM_THRESH < 1 || STAGES != $clog2(NUM_THRESH + 1) || STAGES > 9) begin : g_err_n
        $error("qloom_thr_bsearch: NUM_THRESH must be 1..511 and STAGES = clog2(NUM_THRESH + 1)");
    end
    if (PE < 1 || NF < 1) begin : g_err_pe
        $error("qloom_thr_bsearch: PE and NF must be >= 1");
    end

    localparam integer S = STAGES;
    localparam integer CW = (XW > TB) ? XW : TB;   // comparison width
    /* verilator lint_off UNUSEDPARAM */
    /* verilator lint_off WIDTHEXPAND */
    localparam ROM_STYLE = (RAM_STYLE == "distributed") ? "logic" : RAM_STYLE;
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDPARAM */

    // valid bits: v[k] = stage k's registers hold a beat (k = 0..S-1), v[S] = the count
    reg [S:0] v;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) v <= {(S+1){1'b0}};
        else v <= {v[S-1:0], in_valid};
    end
    assign out_valid = v[S];

    // the channel group along the pipeline (stages 0..S-2 address the next stage's pair)
    localparam integer NS = (S > 1) ? S - 1 : 1;
    // (unused with S = 1: UNUSEDSIGNAL waived)
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NFW*NS-1:0] nfv;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (S > 1) begin : g_nf
            reg [NFW*NS-1:0] r;
            integer ir;
            always @(posedge ap_clk) begin
                if (in_valid) r[0 +: NFW] <= in_nf;
                for (ir = 1; ir < NS; ir = ir + 1)
                    if (v[ir-1]) r[ir*NFW +: NFW] <= r[(ir-1)*NFW +: NFW];
            end
            assign nfv = r;
        end else begin : g_nonf
            assign nfv = {NFW*NS{1'b0}};
        end
    endgenerate

    genvar gp, gk;
    generate
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
            // stage gk: the input copy x, the count bits decided before it (gk bits, in
            // g_p.pre), the threshold t it compares against, its decision b
            for (gk = 0; gk < S; gk = gk + 1) begin : g_st
                localparam [8*7-1:0] SUF = {"_s", 8'd48 + gk[7:0], ".mem"};
                reg [XW-1:0] x;
                wire [TB-1:0] t;
                if (gk == 0) begin : g_in
                    reg [TB-1:0] tq;
                    always @(posedge ap_clk) begin
                        if (in_valid) x <= in_x[gp*XW +: XW];
                    end
                    // block RAM only from BRAM_MIN_DEPTH words, else a LUT ROM
                    /* verilator lint_off WIDTHEXPAND */
                    if (ROM_STYLE == "block" && NF < BRAM_MIN_DEPTH) begin : g_m
                    /* verilator lint_on WIDTHEXPAND */
                        (* ram_style = "logic" *) reg [PE*TB-1:0] mem [0:NF-1];
                        if (THRESH_FILE != "") begin : g_init
                            initial $readmemh({THRESH_FILE, SUF}, mem);
                        end
                        always @(posedge ap_clk) begin
                            if (in_valid) tq <= mem[in_nf][gp*TB +: TB];
                        end
                    end else begin : g_m
                        (* ram_style = ROM_STYLE *) reg [PE*TB-1:0] mem [0:NF-1];
                        if (THRESH_FILE != "") begin : g_init
                            initial $readmemh({THRESH_FILE, SUF}, mem);
                        end
                        always @(posedge ap_clk) begin
                            if (in_valid) tq <= mem[in_nf][gp*TB +: TB];
                        end
                    end
                    assign t = tq;
                end else begin : g_p
                    reg [gk-1:0] pre;
                    always @(posedge ap_clk) begin
                        if (v[gk-1]) x <= g_st[gk-1].x;
                    end
                    if (gk == 1) begin : g_b1
                        always @(posedge ap_clk) begin
                            if (v[gk-1]) pre <= g_st[gk-1].b;
                        end
                    end else begin : g_bk
                        always @(posedge ap_clk) begin
                            if (v[gk-1]) pre <= {g_st[gk-1].g_p.pre, g_st[gk-1].b};
                        end
                    end
                    // the pair of candidates, read while stage gk-1 compares, at
                    // word nf*2^(gk-1) + (the gk-1 bits decided before stage gk-1)
                    localparam integer D = NF << (gk - 1);
                    localparam integer AW = (D > 1) ? $clog2(D) : 1;
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [NFW+S-1:0] afull;
                    /* verilator lint_on UNUSEDSIGNAL */
                    if (gk == 1) begin : g_a1
                        assign afull = {{S{1'b0}}, nfv[0 +: NFW]};
                    end else begin : g_ak
                        assign afull = ({{S{1'b0}}, nfv[(gk-1)*NFW +: NFW]} << (gk - 1))
                            | {{(NFW+S-gk+1){1'b0}}, g_st[gk-1].g_p.pre};
                    end
                    wire [AW-1:0] addr = afull[AW-1:0];
                    reg [2*TB-1:0] pq;
                    /* verilator lint_off WIDTHEXPAND */
                    if (ROM_STYLE == "block" && D < BRAM_MIN_DEPTH) begin : g_m
                    /* verilator lint_on WIDTHEXPAND */
                        (* ram_style = "logic" *) reg [PE*2*TB-1:0] mem [0:D-1];
                        if (THRESH_FILE != "") begin : g_init
                            initial $readmemh({THRESH_FILE, SUF}, mem);
                        end
                        always @(posedge ap_clk) begin
                            if (v[gk-1]) pq <= mem[addr][gp*2*TB +: 2*TB];
                        end
                    end else begin : g_m
                        (* ram_style = ROM_STYLE *) reg [PE*2*TB-1:0] mem [0:D-1];
                        if (THRESH_FILE != "") begin : g_init
                            initial $readmemh({THRESH_FILE, SUF}, mem);
                        end
                        always @(posedge ap_clk) begin
                            if (v[gk-1]) pq <= mem[addr][gp*2*TB +: 2*TB];
                        end
                    end
                    assign t = pre[0] ? pq[TB +: TB] : pq[0 +: TB];
                end
                wire [CW-1:0] xe = {{(CW-XW){x[XW-1]}}, x};
                wire [CW-1:0] te = {{(CW-TB){t[TB-1]}}, t};
                wire b = $signed(xe) >= $signed(te);
            end
            // the count: the S decided bits
            reg [S-1:0] cnt;
            if (S == 1) begin : g_c1
                always @(posedge ap_clk) begin
                    if (v[S-1]) cnt <= g_st[S-1].b;
                end
            end else begin : g_cs
                always @(posedge ap_clk) begin
                    if (v[S-1]) cnt <= {g_st[S-1].g_p.pre, g_st[S-1].b};
                end
            end
            assign out_cnt[gp*S +: S] = cnt;
        end
    endgenerate
endmodule

`default_nettype wire
