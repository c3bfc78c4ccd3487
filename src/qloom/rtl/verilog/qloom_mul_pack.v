// qloom_mul_pack: K integer products sharing one operand in one DSP multiplier (registered).
//
// The K weights w_0..w_{K-1} (of K different PEs) are packed into one wide operand
//     A = sum_k w_k * 2^(k*S)          (w_k sign- or zero-extended, exact integer sum)
// and multiplied by the shared activation x once: P = A * x = sum_k (w_k * x) * 2^(k*S).
// Every product p_k = w_k * x fits S bits (signed when either operand is signed). A
// negative lower field borrows from the fields above it; adding the constant
// OFS = sum_k 2^(k*S + S-1) in the same DSP (its post-adder) makes every field offset
// binary, p_k + 2^(S-1) in [0, 2^S), so nothing crosses a field boundary and
//     p_k = P[k*S +: S] - 2^(S-1)  (the field with its top bit inverted, read signed)
// (unsigned x unsigned: no offset, the fields are the unsigned S-bit slices).
// Source of the packing: Xilinx WP486 "Deep Learning with INT8 Optimization on Xilinx
// Devices" (2017): two INT8 products sharing one operand in one DSP48E2, the low
// product's sign borrowed from the high one and corrected; K > 2 fields of low-bit
// products: Sommer et al., "DSP-Packing: Squeezing Low-precision Arithmetic into FPGA
// DSP Blocks" (FPL 2022). The correction by a constant offset is qloom's (offset-binary
// fields); the facts only, this is qloom's own RTL.
//
// The packed operand A ((K-1)*S + WB + 1 bits, signed) is built in LUTs from the weights
// (A's low S bits are w_0's sign extension, the bits above the packed upper weights minus
// w_0's sign: one small decrement per field); P is registered with enable `en` (Yosys synth_xilinx absorbs the
// multiplier and this register into one DSP48E1 / DSP48E2 with PREG = 1 when A fits the
// multiplier's 25 / 27-bit port and x its 18-bit port; the caller checks that,
// qloom.ops.mvau.dsp_pack); the field corrections are combinational after the register.
//
// Parameters
//   IB, IN_SIGNED   shared operand (activation) width and signedness
//   WB, W_SIGNED    weight width and signedness
//   K               products per multiplier (>= 1)
//   S               field width: the product range's bit width (signed width when either
//                   operand is signed), >= the true width of every w * x
//   PW              width of each output product (sign- / zero-extended from S; PW >= S)
//
// Ports: ap_clk, en (register enable), x [IB], w [K*WB] (weight k at [k*WB +: WB]);
// prod [K*PW] (product k at [k*PW +: PW], one cycle after en).
//
`default_nettype none

module qloom_mul_pack #(
    parameter integer IB = 6, IN_SIGNED = 0,
    parameter integer WB = 6, W_SIGNED = 1,
    parameter integer K = 2,
    parameter integer S = 12,
    parameter integer PW = IB + WB + 2
) (
    input  wire          ap_clk,
    input  wire          en,
    input  wire [IB-1:0] x,
    input  wire [K*WB-1:0] w,
    output wire [K*PW-1:0] prod
);
    localparam integer SGN = ((IN_SIGNED != 0) || (W_SIGNED != 0)) ? 1 : 0;
    // the packed operand: (K-1)*S + WB + 1 bits (signed; the extra bit holds the
    // borrow of a negative lower field below the most negative top weight)
    localparam integer AW = (K - 1) * S + WB + 1;
    localparam integer XW = IB + ((IN_SIGNED != 0) ? 0 : 1);
    localparam integer PPW = AW + XW;
    if (K < 1 || S < 2 || PW < S || S > IB + WB + 1) begin : g_err
        $error("qloom_mul_pack: K >= 1 and 2 <= S <= PW, S <= IB + WB + 1");
    end
    genvar gk;
    generate
        // a_k: the packed value of weights k..K-1, (K-1-k)*S + WB + 1 bits, built from the
        // top: a_k = {a_{k+1} - (w_k < 0), sext(w_k)[S-1:0]}
        for (gk = K - 1; gk >= 0; gk = gk - 1) begin : g_a
            localparam integer W_K = (K - 1 - gk) * S + WB + 1;
            wire [WB-1:0] wk = w[gk*WB +: WB];
            /* verilator lint_off UNUSEDSIGNAL */
            wire neg = (W_SIGNED != 0) ? wk[WB-1] : 1'b0;   // unused by the top field
            /* verilator lint_on UNUSEDSIGNAL */
            wire [W_K-1:0] a;
            if (gk == K - 1) begin : g_top
                if (W_SIGNED != 0) begin : g_s
                    assign a = {wk[WB-1], wk};
                end else begin : g_u
                    assign a = {1'b0, wk};
                end
            end else begin : g_field
                localparam integer W_UP = W_K - S;
                wire [S-1:0] low = (W_SIGNED != 0) ? {{(S-WB){wk[WB-1]}}, wk} : {{(S-WB){1'b0}}, wk};
                wire [W_UP-1:0] up = g_a[gk+1].a - {{(W_UP-1){1'b0}}, neg};
                assign a = {up, low};
            end
        end
    endgenerate
    wire signed [AW-1:0] as = g_a[0].a;
    wire signed [XW-1:0] xs;
    generate
        if (IN_SIGNED != 0) begin : g_xs
            assign xs = x;
        end else begin : g_xu
            assign xs = {1'b0, x};
        end
    endgenerate
    // offset: half of every field (signed products only), so that each field of
    // P = A * x + OFS is p_k + 2^(S-1) in [0, 2^S): no borrow crosses a field boundary
    function [PPW-1:0] offset(input integer dummy);
        integer k;
        begin
            offset = {PPW{1'b0}};
            if (SGN != 0)
                for (k = 0; k < K; k = k + 1) offset[k*S + S - 1] = 1'b1;
            if (dummy < 0) offset = {PPW{1'b0}};
        end
    endfunction
    localparam [PPW-1:0] OFS = offset(0);
    reg signed [PPW-1:0] p;
    always @(posedge ap_clk) begin
        if (en) p <= as * xs + $signed(OFS);
    end
    // unpack: field k is offset binary (signed products: the top bit inverted)
    generate
        for (gk = 0; gk < K; gk = gk + 1) begin : g_f
            wire [S-1:0] f = p[gk*S +: S];
            if (SGN != 0) begin : g_s
                assign prod[gk*PW +: PW] = {{(PW-S+1){~f[S-1]}}, f[S-2:0]};
            end else begin : g_u
                assign prod[gk*PW +: PW] = {{(PW-S){1'b0}}, f};
            end
        end
    endgenerate
    // the top bits of P beyond the K fields are unused
    /* verilator lint_off UNUSEDSIGNAL */
    wire [PPW-1:0] p_all = p;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
