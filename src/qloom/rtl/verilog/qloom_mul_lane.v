// qloom_mul_lane: one integer product lane of qloom_mvau / qloom_vvau (combinational).
//
// prod = x * w, both operands sign- or zero-extended to PW bits, the result modulo 2^PW.
//
// Parameters
//   IB, IN_SIGNED   input width and signedness
//   WB, W_SIGNED    weight width and signedness
//   PW              product width (the callers use IB + WB + 2)
//   MUL_LUT         1: shift-and-add over the weight bits (the top bit of a signed weight
//                   weighs -2^(WB-1)), the WB partial products summed by a balanced tree
//                   of depth ceil(log2 WB): LUT logic; 0: the `*` operator (Yosys
//                   synth_xilinx maps it to DSP48 slices)
//
// Ports: x [IB], w [WB] in; prod [PW] out. No clock: the callers register the product.
// Depends on: qloom_tree.vh
`default_nettype none

module qloom_mul_lane #(
    parameter integer IB = 4, IN_SIGNED = 0,
    parameter integer WB = 4, W_SIGNED = 1,
    parameter integer PW = IB + WB + 2,
    parameter integer MUL_LUT = 1
) (
    input  wire [IB-1:0] x,
    input  wire [WB-1:0] w,
    output wire [PW-1:0] prod
);
    // number of nodes on level l of a balanced adder tree over n0 leaves
    `include "qloom_tree.vh"

    wire [PW-1:0] xs = (IN_SIGNED != 0) ? {{(PW-IB){x[IB-1]}}, x} : {{(PW-IB){1'b0}}, x};
    genvar gm, gq;
    generate
        if (MUL_LUT != 0) begin : g_lut
            localparam integer ML = (WB > 1) ? $clog2(WB) : 0;
            for (gm = 0; gm <= ML; gm = gm + 1) begin : g_ml
                localparam integer NM = tree_n(WB, gm);
                wire [NM*PW-1:0] q;
                if (gm == 0) begin : g_pp
                    for (gq = 0; gq < WB; gq = gq + 1) begin : g_b
                        wire [PW-1:0] sh = xs << gq;
                        if ((W_SIGNED != 0) && (gq == WB - 1)) begin : g_neg
                            assign q[gq*PW +: PW] = w[gq] ? -sh : {PW{1'b0}};
                        end else begin : g_pos
                            assign q[gq*PW +: PW] = w[gq] ? sh : {PW{1'b0}};
                        end
                    end
                end else begin : g_sum
                    localparam integer NPM = tree_n(WB, gm - 1);
                    for (gq = 0; gq < NM; gq = gq + 1) begin : g_n
                        if (2*gq + 1 < NPM) begin : g_two
                            assign q[gq*PW +: PW] = g_ml[gm-1].q[2*gq*PW +: PW]
                                + g_ml[gm-1].q[(2*gq+1)*PW +: PW];
                        end else begin : g_one
                            assign q[gq*PW +: PW] = g_ml[gm-1].q[2*gq*PW +: PW];
                        end
                    end
                end
            end
            assign prod = g_ml[ML].q;
        end else begin : g_op
            wire [PW-1:0] ws = (W_SIGNED != 0) ? {{(PW-WB){w[WB-1]}}, w} : {{(PW-WB){1'b0}}, w};
            assign prod = xs * ws;
        end
    endgenerate
endmodule

`default_nettype wire
