// qloom_credit_out: credit-managed output queue of a pipelined operator.
//
// An operator issues a beat into its internal pipeline (issue = 1 for one cycle)
// only while credit_ok; the beat reaches s_axis some fixed number of cycles later
// (and, with IN_REG = 1, is registered once more here).
// `pending` counts the beats issued and not yet consumed at m_axis; at most CREDITS
// are outstanding, and the output FIFO holds CREDITS + 1 beats, so s_axis is never
// refused and the operator's pipeline itself never stalls.
//
// Parameters
//   WIDTH     tdata width in bits (>= 1)
//   CREDITS   beats that may be in flight or queued (>= 1); the FIFO memory has
//             CREDITS words ("distributed")
//   IN_REG    1: s_axis goes through one valid-qualified register (qloom_vpipe)
//             before the FIFO (the operator's output register), 0: straight in
//
// Ports
//   issue      a beat enters the operator's pipeline this cycle (only while credit_ok)
//   credit_ok  pending != CREDITS (from a register, no path from m_axis_tready)
//   s_axis_tdata/tvalid  the issued beat when it leaves the pipeline (no tready:
//              it is always accepted)
//   m_axis_*   the operator's output stream
//
// Memory: qloom_fifo of CREDITS words of WIDTH bits + a $clog2(CREDITS+1)-bit counter
//   (+ WIDTH + 1 flip-flops with IN_REG).
//
// Depends on: qloom_fifo.v, qloom_vpipe.v
`default_nettype none

module qloom_credit_out #(
    parameter integer WIDTH = 8,
    parameter integer CREDITS = 5,
    parameter integer IN_REG = 0
) (
    input  wire             ap_clk,
    input  wire             ap_rst_n,
    input  wire             issue,
    output wire             credit_ok,
    input  wire [WIDTH-1:0] s_axis_tdata,
    input  wire             s_axis_tvalid,
    output wire [WIDTH-1:0] m_axis_tdata,
    output wire             m_axis_tvalid,
    input  wire             m_axis_tready
);
    if (CREDITS < 1) begin : g_err_credits
        $error("qloom_credit_out: CREDITS must be >= 1");
    end
    if (IN_REG != 0 && IN_REG != 1) begin : g_err_inreg
        $error("qloom_credit_out: IN_REG must be 0 or 1");
    end

    localparam integer PCW = $clog2(CREDITS + 1);
    localparam integer CREDITS_I = CREDITS;
    localparam [PCW-1:0] CREDITS_V = CREDITS_I[PCW-1:0];

    reg [PCW-1:0] pending;      // beats issued but not yet consumed at m_axis
    wire out_fire = m_axis_tvalid && m_axis_tready;
    assign credit_ok = (pending != CREDITS_V);

    always @(posedge ap_clk) begin
        if (!ap_rst_n) pending <= {PCW{1'b0}};
        else if (issue && !out_fire) pending <= pending + 1'b1;
        else if (!issue && out_fire) pending <= pending - 1'b1;
    end

    // Never overflows: at most CREDITS beats are issued and not yet consumed, and
    // the FIFO holds CREDITS + 1.  So its s_axis_tready is always 1 when a beat
    // arrives (credit accounting) and is not used.
    /* verilator lint_off UNUSEDSIGNAL */
    wire fifo_in_ready;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [WIDTH-1:0] fifo_in_data;
    wire fifo_in_valid;
    if (IN_REG != 0) begin : g_in_reg
        qloom_vpipe #(.WIDTH(WIDTH), .STAGES(1)) u_reg (
            .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .in_valid(s_axis_tvalid), .in_data(s_axis_tdata),
            .valid(fifo_in_valid), .data(fifo_in_data)
        );
    end else begin : g_in_wire
        assign fifo_in_valid = s_axis_tvalid;
        assign fifo_in_data = s_axis_tdata;
    end
    qloom_fifo #(
        .WIDTH(WIDTH),
        .DEPTH(CREDITS),
        .RAM_STYLE("distributed")
    ) u_fifo (
        .ap_clk(ap_clk),
        .ap_rst_n(ap_rst_n),
        .s_axis_tdata(fifo_in_data),
        .s_axis_tvalid(fifo_in_valid),
        .s_axis_tready(fifo_in_ready),
        .m_axis_tdata(m_axis_tdata),
        .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
