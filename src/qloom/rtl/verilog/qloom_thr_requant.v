// qloom_thr_requant: per-channel integer requantizer in place of a multi-threshold unit,
// PE lanes.
//
// out = clip((x * M[c] + B[c]) >>> SHIFT, CMIN[c], CMAX[c]) for channel c (arithmetic
// shift: floor division by 2^SHIFT). The generator (qloom.ops.mvau.requant_words) emits
// it only where it equals the threshold count #{k : x >= T[c][k]} for every reachable x
// (uniformly spaced thresholds, the usual case after a uniform quantizer; the exactness
// argument is qloom.ops.mvau_const.requantizer's docstring). One multiplier per lane
// (`*`: Yosys synth_xilinx maps a 25 x 18 product, its operand and output registers and
// the bias add to one DSP48E1) instead of NUM_THRESH comparators or a binary search.
//
// Parameters
//   PE            lanes (independent inputs, the same channel group nf)
//   NF            channel groups: lane p of group nf is channel nf*PE + p
//   XW            input width (signed two's complement)
//   MB            multiplier width (M unsigned, 1 <= M < 2^MB)
//   BB            bias width (B signed)
//   CB            count width (CMIN, CMAX unsigned, the output)
//   SHIFT         the right shift, one for every channel
//   PARAM_FILE    $readmemh file: NF words of PE*RW bits, RW = MB + BB + 2*CB, lane p at
//                 [p*RW +: RW] = {CMAX, CMIN, B, M} (M in the low bits)
//                 ("": no file, the memory is left uninitialized)
//   RAM_STYLE     ram_style attribute of the parameter memory ("distributed" -> "logic")
//
// Ports (no back-pressure: a stall-free pipeline, valid-qualified)
//   in_valid, in_nf [NFW], in_x [PE*XW]     sampled at a clock edge
//   out_valid, out_cnt [PE*CB]               the clipped quotient
// Latency: 3 cycles (input + parameter read, product + bias, clip).
//
`default_nettype none

module qloom_thr_requant #(
    parameter integer PE = 1, NF = 1, XW = 9, MB = 8, BB = 16, CB = 4, SHIFT = 8,
    parameter PARAM_FILE = "",
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "distributed",
    /* verilator lint_on UNUSEDPARAM */
    parameter integer NFW = (NF > 1) ? $clog2(NF) : 1
) (
    input  wire ap_clk, ap_rst_n,
    // the same stream as qloom_thr_bsearch's (interchangeable inside qloom_mvau)
    input  wire in_valid, input wire [NFW-1:0] in_nf, input wire [PE*XW-1:0] in_x,
    output wire out_valid, output wire [PE*CB-1:0] out_cnt
);
    if (PE < 1 || NF < 1 || MB < 1 || BB < 1 || CB < 1 || SHIFT < 0) begin : g_err
        $error("qloom_thr_requant: PE, NF, MB, BB, CB must be >= 1 and SHIFT >= 0");
    end

    localparam integer RW = MB + BB + 2 * CB;
    // product + bias width: the product's XW + MB + 1 bits, the bias, one carry bit
    localparam integer PW0 = XW + MB + 1;
    localparam integer YW = ((PW0 > BB) ? PW0 : BB) + 1;
    localparam integer QW = (YW > SHIFT) ? YW - SHIFT : 1;   // quotient width
    localparam integer QX = ((QW > CB) ? QW : CB) + 1;       // compared width
    /* verilator lint_off UNUSEDPARAM */
    /* verilator lint_off WIDTHEXPAND */
    localparam ROM_STYLE = (RAM_STYLE == "distributed") ? "logic" : RAM_STYLE;
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDPARAM */

    reg [2:0] v;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) v <= 3'b000;
        else v <= {v[1:0], in_valid};
    end
    assign out_valid = v[2];

    (* ram_style = ROM_STYLE *) reg [PE*RW-1:0] mem [0:NF-1];
    if (PARAM_FILE != "") begin : g_init
        initial $readmemh(PARAM_FILE, mem);
    end
    reg [PE*RW-1:0] w0;
    always @(posedge ap_clk) begin
        if (in_valid) w0 <= mem[in_nf];
    end

    genvar gp;
    generate
        for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
            reg signed [XW-1:0] x0;
            always @(posedge ap_clk) begin
                if (in_valid) x0 <= in_x[gp*XW +: XW];
            end
            wire [RW-1:0] wl = w0[gp*RW +: RW];
            wire signed [MB:0] m0 = {1'b0, wl[0 +: MB]};
            wire signed [YW-1:0] b0 = {{(YW-BB){wl[MB+BB-1]}}, wl[MB +: BB]};
            // the clip bounds travel beside the product
            reg [2*CB-1:0] lim1;
            reg signed [YW-1:0] y1;
            always @(posedge ap_clk) begin
                if (v[0]) begin
                    y1 <= x0 * m0 + b0;
                    lim1 <= wl[MB + BB +: 2*CB];
                end
            end
            // the quotient, sign-extended or cut to QX bits (it fits: |q| < 2^(QW-1))
            /* verilator lint_off WIDTHTRUNC */
            /* verilator lint_off WIDTHEXPAND */
            wire signed [QX-1:0] qs = y1 >>> SHIFT;
            /* verilator lint_on WIDTHEXPAND */
            /* verilator lint_on WIDTHTRUNC */
            wire signed [QX-1:0] lo = {{(QX-CB){1'b0}}, lim1[0 +: CB]};
            wire signed [QX-1:0] hi = {{(QX-CB){1'b0}}, lim1[CB +: CB]};
            reg [CB-1:0] cnt;
            always @(posedge ap_clk) begin
                if (v[1]) cnt <= (qs < lo) ? lim1[0 +: CB] : (qs > hi) ? lim1[CB +: CB] : qs[CB-1:0];
            end
            assign out_cnt[gp*CB +: CB] = cnt;
        end
    endgenerate
endmodule

`default_nettype wire
