// qloom_dot_bitplane: one PE's SIMD-lane dot product of qloom_mvau by bit planes
// (MUL_STYLE 3): no multipliers, only AND-popcounts and a few shifted adds.
//
// With x = sum_k cx_k 2^k x_k (IB bits) and w = sum_j cw_j 2^j w_j (WB bits), where the
// plane sign c is -1 for the top bit of a two's-complement operand and +1 otherwise,
//
//     sum_i w_i x_i = sum_{j,k} cw_j cx_k 2^(j+k) popcount_i(w_ij AND x_ik)
//
// (the bit-serial / bit-plane decomposition of Umuroglu, Rasnayake, Sjalander, "BISMO:
// a scalable bit-serial matrix multiplication overlay", FPL 2018, Sec. II; FINN-R,
// Blott et al., TRETS 2018, Sec. 4.3 on arbitrary-precision MVAUs), evaluated here
// bit-parallel: WB*IB popcounts (qloom_popcount, the tree of qloom_mvau's XNOR popcount:
// the lanes in groups of 3, the 2-bit count of a group's three ANDs one LUT6 per bit
// of its 6 inputs, a balanced adder tree over the group counts, node widths 2 + level),
// then the counts weighted by 2^(j+k): the positive ones summed, the negative ones
// summed, the difference taken (modulo 2^ACC_BITS: the caller's accumulator width).
//
// Parameters
//   SIMD            lanes
//   IB, IN_SIGNED   input width and signedness (not bipolar)
//   WB, W_SIGNED    weight width and signedness (not bipolar)
//   ACC_BITS        output width (the sum modulo 2^ACC_BITS)
//   TREG            1: a second register level inside the trees (qloom_mvau's tree
//                   split, SIMD > 4), enabled by en_split
//
// Ports
//   x [SIMD*IB]     lane s at bits [s*IB +: IB]
//   w [SIMD*WB]     lane s at bits [s*WB +: WB]
//   en_cp           registers tree level XR (the 3-bit counts of 6 lanes when a level is
//                   left for the split, else the group counts): qloom_mvau's CP stage
//   en_split        registers tree level XSL (TREG = 1): qloom_mvau's tree split
//   dot [ACC_BITS]  combinational from the last register: the same pipeline depth as
//                   qloom_mvau's product register + adder tree (CP, split, then dot2 in
//                   the caller)
//
// Cost (per PE, SIMD lanes): WB*IB times the XNOR popcount's (2 LUT per 3 lanes + the
// tree), + (WB*IB - 1) adders of at most ACC_BITS bits; registers: WB*IB times the XNOR
// popcount's CP and split registers (qloom.ops.mvau.xnor_popcount).
// Depends on: qloom_popcount.v
`default_nettype none

module qloom_dot_bitplane #(
    parameter integer SIMD = 4,
    parameter integer IB = 2, IN_SIGNED = 0,
    parameter integer WB = 2, W_SIGNED = 1,
    parameter integer ACC_BITS = 10,
    parameter integer TREG = 0
) (
    input  wire                 ap_clk,
    input  wire                 en_cp,
    // the split's enable, unused without it (TREG = 0)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                 en_split,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [SIMD*IB-1:0]   x,
    input  wire [SIMD*WB-1:0]   w,
    output wire [ACC_BITS-1:0]  dot
);
    localparam integer NPL = IB * WB;                 // plane pairs, q = j*IB + k
    localparam integer XG = (SIMD + 2) / 3;           // lane groups of 3
    localparam integer XTL = (XG > 1) ? $clog2(XG) : 0;
    localparam integer XW = 2 + XTL;                  // count width (holds 0..SIMD)
    // the weighted counts, ACC_BITS wide (wider than ACC_BITS only when XW is)
    localparam integer CWD = (XW > ACC_BITS) ? XW : ACC_BITS;

    wire [NPL*XW-1:0] cnt;                            // popcount of plane pair q
    wire [NPL*ACC_BITS-1:0] pos, neg;                 // running sums (chain over q)

    genvar gq, gs;
    generate
        for (gq = 0; gq < NPL; gq = gq + 1) begin : g_pl
            localparam integer J = gq / IB;           // weight bit
            localparam integer K = gq % IB;           // input bit
            localparam integer NEG = (((W_SIGNED != 0) && (J == WB - 1)) ? 1 : 0)
                ^ (((IN_SIGNED != 0) && (K == IB - 1)) ? 1 : 0);
            wire [SIMD-1:0] both;                     // lane s: x_s bit K AND w_s bit J
            for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_and
                assign both[gs] = x[gs*IB + K] & w[gs*WB + J];
            end
            qloom_popcount #(.N(SIMD), .CAP(XW), .TREG(TREG)) u_pc (
                .ap_clk(ap_clk), .en_cp(en_cp), .en_split(en_split), .bits(both),
                .cnt(cnt[gq*XW +: XW]));
            // the count weighted by 2^(J+K), modulo 2^ACC_BITS (unused top bits of a
            // count wider than ACC_BITS: UNUSEDSIGNAL waived)
            /* verilator lint_off UNUSEDSIGNAL */
            wire [CWD-1:0] cx = {{(CWD-XW){1'b0}}, cnt[gq*XW +: XW]};
            wire [CWD-1:0] sh = cx << (J + K);
            /* verilator lint_on UNUSEDSIGNAL */
            wire [ACC_BITS-1:0] t = sh[ACC_BITS-1:0];
            wire [ACC_BITS-1:0] pprev, nprev;
            if (gq == 0) begin : g_first
                assign pprev = {ACC_BITS{1'b0}};
                assign nprev = {ACC_BITS{1'b0}};
            end else begin : g_next
                assign pprev = pos[(gq-1)*ACC_BITS +: ACC_BITS];
                assign nprev = neg[(gq-1)*ACC_BITS +: ACC_BITS];
            end
            if (NEG != 0) begin : g_neg
                assign pos[gq*ACC_BITS +: ACC_BITS] = pprev;
                assign neg[gq*ACC_BITS +: ACC_BITS] = nprev + t;
            end else begin : g_pos
                assign pos[gq*ACC_BITS +: ACC_BITS] = pprev + t;
                assign neg[gq*ACC_BITS +: ACC_BITS] = nprev;
            end
        end
    endgenerate

    assign dot = pos[(NPL-1)*ACC_BITS +: ACC_BITS] - neg[(NPL-1)*ACC_BITS +: ACC_BITS];
endmodule

`default_nettype wire
