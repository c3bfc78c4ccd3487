// qloom_mvau_const: the stream shell of a constant-weight (multiplierless) MVAU.
//
// A fully unrolled MVAU (PE = MH, SIMD = MW) whose weights are constants computes
// y = act(W x) as an adder graph generated per layer (qloom.ops.mvau_const: shift-add
// with common subexpressions, then the threshold counts).  The generated module
// instantiates this shell and its core: the shell accepts one input vector per cycle
// (II = 1) while the credit check allows, hands it to the core unregistered
// (core_x), and takes the core's result DEPTH cycles later (core_y: the core has
// DEPTH register levels and never stalls); the result goes straight into the
// output FIFO of CREDITS words (qloom_credit_out, IN_REG 0).
//
// Parameters
//   IN_W     input tdata width (MW * IN_BITS)
//   OUT_W    output tdata width (MH * OUT_BITS)
//   DEPTH    register levels of the core (>= 0)
//   CREDITS  beats in flight or queued (>= DEPTH + 2, qloom.ops.mvau_const)
//
// Ports: `QLOOM_AXIS_PORTS, plus core_x (the accepted beat, valid while issue) and
// core_y (the core's result for the beat issued DEPTH cycles earlier).
//
// Cycles: one vector per cycle; latency (first input beat to output beat) DEPTH + 2
// (output register, FIFO) as qloom.ops.mvau_const.latency_qloom_mvau_const says.
//
// Depends on: qloom_axis.vh, qloom_credit_out.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_mvau_const #(
    parameter integer IN_W = 8,
    parameter integer OUT_W = 8,
    parameter integer DEPTH = 1,
    parameter integer CREDITS = 4
) (
    `QLOOM_AXIS_PORTS(IN_W, OUT_W),
    output wire [IN_W-1:0]  core_x,
    input  wire [OUT_W-1:0] core_y
);
    if (DEPTH < 0) begin : g_err_depth
        $error("qloom_mvau_const: DEPTH must be >= 0");
    end
    if (CREDITS < DEPTH + 2) begin : g_err_credits
        $error("qloom_mvau_const: CREDITS must be >= DEPTH + 2");
    end

    wire credit_ok;
    wire issue = s_axis_tvalid && credit_ok;
    assign s_axis_tready = credit_ok;
    assign core_x = s_axis_tdata;

    // valid bits along the core's register levels
    wire y_valid;
    if (DEPTH > 1) begin : g_vdelay
        reg [DEPTH-1:0] vq;
        always @(posedge ap_clk) begin
            if (!ap_rst_n) vq <= {DEPTH{1'b0}};
            else vq <= {vq[DEPTH-2:0], issue};
        end
        assign y_valid = vq[DEPTH-1];
    end else if (DEPTH == 1) begin : g_vone
        reg vq;
        always @(posedge ap_clk) begin
            if (!ap_rst_n) vq <= 1'b0;
            else vq <= issue;
        end
        assign y_valid = vq;
    end else begin : g_vnone
        assign y_valid = issue;
    end

    qloom_credit_out #(.WIDTH(OUT_W), .CREDITS(CREDITS), .IN_REG(0)) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .issue(issue), .credit_ok(credit_ok),
        .s_axis_tdata(core_y), .s_axis_tvalid(y_valid),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
