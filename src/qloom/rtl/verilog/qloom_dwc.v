// qloom_dwc: AXI4-Stream data width converter.
//
// Parameters
//   IN_WIDTH, OUT_WIDTH   tdata widths; one must be a multiple of the other.
//
// Behaviour (element order preserved, first elements leave first)
//   OUT = n*IN (up):   n input beats form one output beat, input beat j at
//                      bits [j*IN_WIDTH +: IN_WIDTH].
//   IN = n*OUT (down): one input beat gives n output beats, output beat j =
//                      input bits [j*OUT_WIDTH +: OUT_WIDTH].
//   IN = OUT:          a registered pipeline stage (skid buffer).
//
// Cycles (no stalls): max(input beats, output beats): one beat per cycle on the
//   wider... i.e. on the narrower side, which carries more beats.  Latency 1-2.
//   s_axis_tready and m_axis_t* come from registers only.
// Memory: up: OUT_WIDTH (assembly) + OUT_WIDTH (output) flip-flops;
//         down / equal: 2 x IN_WIDTH flip-flops.
// Depends on: qloom_axis.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_dwc #(
    parameter integer IN_WIDTH = 8,
    parameter integer OUT_WIDTH = 16
) (
    `QLOOM_AXIS_PORTS(IN_WIDTH, OUT_WIDTH)
);
    // illegal parameters stop elaboration
    if (IN_WIDTH < 1 || OUT_WIDTH < 1 ||
        (OUT_WIDTH % IN_WIDTH != 0 && IN_WIDTH % OUT_WIDTH != 0)) begin : g_err_width
        $error("qloom_dwc: IN_WIDTH and OUT_WIDTH must be >= 1 and one a multiple of the other");
    end

    generate
        if (OUT_WIDTH > IN_WIDTH) begin : g_up
            localparam integer N = OUT_WIDTH / IN_WIDTH;
            localparam integer CW = $clog2(N);
            localparam integer N1_I = N - 1;
            localparam [CW-1:0] N1 = N1_I[CW-1:0];
            reg [OUT_WIDTH-IN_WIDTH-1:0] asm_d;   // the first N-1 beats
            reg [CW-1:0] cnt;
            reg [OUT_WIDTH-1:0] o;
            reg ov;
            wire last = (cnt == N1);
            // the N-th beat needs a free output register
            assign s_axis_tready = !last || !ov;
            wire fire = s_axis_tvalid && s_axis_tready;
            always @(posedge ap_clk) begin
                if (!ap_rst_n) begin
                    cnt <= {CW{1'b0}};
                    ov <= 1'b0;
                end else begin
                    if (fire) cnt <= last ? {CW{1'b0}} : cnt + 1'b1;
                    if (fire && last) ov <= 1'b1;
                    else if (m_axis_tready) ov <= 1'b0;
                end
                if (fire && !last) asm_d[cnt*IN_WIDTH +: IN_WIDTH] <= s_axis_tdata;
                if (fire && last) o <= {s_axis_tdata, asm_d};
            end
            assign m_axis_tdata = o;
            assign m_axis_tvalid = ov;
        end else begin : g_down
            // IN_WIDTH = N * OUT_WIDTH (N >= 1): a 2-entry skid buffer of input beats,
            // the head is sent in N slices
            localparam integer N = IN_WIDTH / OUT_WIDTH;
            localparam integer CW = (N > 1) ? $clog2(N) : 1;
            localparam integer N1_I = N - 1;
            localparam [CW-1:0] N1 = N1_I[CW-1:0];
            reg [IN_WIDTH-1:0] head, spare;
            reg head_v, spare_v;
            reg [CW-1:0] cnt;
            wire last = (cnt == N1);
            wire out_fire = head_v && m_axis_tready;
            wire head_free = !head_v || (out_fire && last);
            assign s_axis_tready = !spare_v;
            wire fire = s_axis_tvalid && !spare_v;
            always @(posedge ap_clk) begin
                if (!ap_rst_n) begin
                    head_v <= 1'b0;
                    spare_v <= 1'b0;
                    cnt <= {CW{1'b0}};
                end else begin
                    if (out_fire) cnt <= last ? {CW{1'b0}} : cnt + 1'b1;
                    if (head_free) begin
                        head_v <= spare_v || fire;
                        spare_v <= spare_v && fire;
                    end else begin
                        spare_v <= spare_v || fire;
                    end
                end
                if (head_free) head <= spare_v ? spare : s_axis_tdata;
                if (fire && (!head_free || spare_v)) spare <= s_axis_tdata;
            end
            assign m_axis_tdata = head[cnt*OUT_WIDTH +: OUT_WIDTH];
            assign m_axis_tvalid = head_v;
        end
    endgenerate
endmodule

`default_nettype wire
