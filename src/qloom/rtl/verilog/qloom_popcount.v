// qloom_popcount: the population count of N bits, pipelined like qloom_mvau's adder tree.
// The XNOR popcount of binary MVAUs (qloom_mvau, ~(x ^ w) per lane) and each plane pair of
// the bit-plane dot product (qloom_dot_bitplane, x_k & w_j per lane) are this one tree.
//
// The bits are taken in groups of 3: the 2-bit count of a group (each bit a function of
// the group's 3 bits, which the caller computes from 6 inputs: one LUT6 per bit) is a leaf
// of a balanced adder tree over the XG = ceil(N/3) groups (depth XTL = ceil(log2 XG), node
// widths 2 + level, capped at CAP bits; unsigned counts). Cost model:
// qloom.ops.mvau.xnor_popcount (2 LUT per 3 lanes + the tree's adders).
//
// Registers: level XR of the tree -- level 1 (the 3-bit counts of 6 lanes: 3 flip-flops per
// 6 lanes instead of 6) when a level is left for the split, else level 0 --, enabled by
// en_cp (qloom_mvau's CP stage); with TREG = 1 (qloom_mvau's tree split, SIMD > 4) also
// level XSL, the middle of the levels after XR, enabled by en_split. The count leaves
// combinationally from the last register.
//
// Parameters
//   N       bits counted
//   CAP     the widest node (bits); the count is taken modulo 2^CAP (qloom_mvau: ACC_BITS;
//           qloom_dot_bitplane: 2 + XTL, so nothing is cut)
//   TREG    1: the second register level (en_split)
//
// Ports
//   bits [N]      the bits to count
//   cnt  [CAP]    the count modulo 2^CAP, zero-extended to CAP bits
// Depends on: qloom_tree.vh
`default_nettype none

module qloom_popcount #(
    parameter integer N = 4,
    parameter integer CAP = 8,
    parameter integer TREG = 0
) (
    input  wire             ap_clk,
    input  wire             en_cp,
    // the split's enable, unused without it (TREG = 0)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire             en_split,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [N-1:0]     bits,
    output wire [CAP-1:0]   cnt
);
    `include "qloom_tree.vh"

    localparam integer XG = (N + 2) / 3;              // groups of 3 bits
    localparam integer XTL = (XG > 1) ? $clog2(XG) : 0;
    localparam integer XR = (XTL >= 1 + TREG) ? 1 : 0;
    localparam integer XSL = ((XTL + XR + 1) / 2 > XR + 1) ? (XTL + XR + 1) / 2 : XR + 1;
    localparam integer XW = (2 + XTL > CAP) ? CAP : 2 + XTL;

    genvar gl, gi, gs;
    generate
        for (gl = 0; gl <= XTL; gl = gl + 1) begin : g_lvl
            localparam integer NL = tree_n(XG, gl);
            localparam integer LW = (2 + gl > CAP) ? CAP : 2 + gl;
            wire [NL*LW-1:0] v;                       // this level's counts
            wire [NL*LW-1:0] q;                       // as the next level sees them
            if (gl == 0) begin : g_leaf
                for (gi = 0; gi < XG; gi = gi + 1) begin : g_grp
                    wire [2:0] m;                     // the group's bits (0 beyond N)
                    for (gs = 0; gs < 3; gs = gs + 1) begin : g_m
                        if (3*gi + gs < N) begin : g_lane
                            assign m[gs] = bits[3*gi + gs];
                        end else begin : g_pad
                            assign m[gs] = 1'b0;
                        end
                    end
                    // LW = 2 here (callers keep CAP >= 2)
                    assign v[gi*LW +: LW] = {(m[0] & m[1]) | (m[0] & m[2]) | (m[1] & m[2]),
                        m[0] ^ m[1] ^ m[2]};
                end
            end else begin : g_add
                localparam integer NP = tree_n(XG, gl - 1);
                localparam integer PLW = (1 + gl > CAP) ? CAP : 1 + gl;
                wire [NP*PLW-1:0] u = g_lvl[gl-1].q;
                for (gi = 0; gi < NL; gi = gi + 1) begin : g_n
                    wire [LW-1:0] a, b;
                    if (LW == PLW) begin : g_asame
                        assign a = u[2*gi*PLW +: PLW];
                    end else begin : g_aext
                        assign a = {{(LW-PLW){1'b0}}, u[2*gi*PLW +: PLW]};
                    end
                    if (2*gi + 1 >= NP) begin : g_bnone
                        assign b = {LW{1'b0}};
                    end else if (LW == PLW) begin : g_bsame
                        assign b = u[(2*gi+1)*PLW +: PLW];
                    end else begin : g_bext
                        assign b = {{(LW-PLW){1'b0}}, u[(2*gi+1)*PLW +: PLW]};
                    end
                    assign v[gi*LW +: LW] = a + b;
                end
            end
            if (gl == XR) begin : g_cp
                reg [NL*LW-1:0] r;
                always @(posedge ap_clk) begin
                    if (en_cp) r <= v;
                end
                assign q = r;
            end else if (TREG != 0 && gl == XSL) begin : g_split
                reg [NL*LW-1:0] r;
                always @(posedge ap_clk) begin
                    if (en_split) r <= v;
                end
                assign q = r;
            end else begin : g_wire
                assign q = v;
            end
        end
        if (XW == CAP) begin : g_full
            assign cnt = g_lvl[XTL].q;
        end else begin : g_zext
            assign cnt = {{(CAP-XW){1'b0}}, g_lvl[XTL].q};
        end
    endgenerate
endmodule

`default_nettype wire
