// qloom_repad: changes how many beats a padded vector occupies on a stream.
//
// Between a layer whose folding pads its output vector (an MVAU with PE not
// dividing MH emits ceil(MH/PE)*PE elements, the padding rows last) and one that
// expects another padded length (an MVAU with SIMD not dividing MW reads
// ceil(MW/SIMD)*SIMD elements, its padding columns weighted zero), on the gcd
// width of the two beat widths (qloom.ops.repad).
//
// Parameters
//   WIDTH   tdata bits (one beat: gcd(producer, consumer) elements)
//   N_IN    input beats per vector
//   N_OUT   output beats per vector
//
// Behaviour, per vector: the first min(N_IN, N_OUT) beats pass unchanged; with
//   N_IN > N_OUT the last N_IN - N_OUT input beats are dropped (they hold only
//   padding), with N_OUT > N_IN N_OUT - N_IN zero beats follow the last input beat.
// Cycles (no stalls): max(N_IN, N_OUT) per vector.  Latency 1 (registered output).
// s_axis_tready depends on m_axis_tready (one output register, no skid buffer):
//   the generator always puts a DWC or the FIFO behind it.
// Memory: WIDTH + 1 output flip-flops and a clog2(max(N_IN, N_OUT)) counter.
// Depends on: qloom_axis.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_repad #(
    parameter integer WIDTH = 8,
    parameter integer N_IN = 3,
    parameter integer N_OUT = 4
) (
    `QLOOM_AXIS_PORTS(WIDTH, WIDTH)
);
    localparam integer N = (N_IN > N_OUT) ? N_IN : N_OUT;
    localparam integer NMIN = (N_IN < N_OUT) ? N_IN : N_OUT;
    localparam integer CW = (N > 1) ? $clog2(N) : 1;
    localparam integer N1_I = N - 1;
    localparam integer NMIN_I = NMIN;
    localparam [CW-1:0] N1 = N1_I[CW-1:0];

    if (WIDTH < 1 || N_IN < 1 || N_OUT < 1) begin : g_err
        $error("qloom_repad: WIDTH, N_IN and N_OUT must be >= 1");
    end

    reg [CW-1:0] k;          // beat slot within the vector, 0 .. max(N_IN, N_OUT) - 1
    reg [WIDTH-1:0] o;
    reg ov;
    /* verilator lint_off UNSIGNED */
    wire pass = ({1'b0, k} < NMIN_I[CW:0]);
    /* verilator lint_on UNSIGNED */
    wire drop = (N_IN > N_OUT) && !pass;   // a padding beat to discard
    wire ins = (N_OUT > N_IN) && !pass;    // a zero beat to insert
    wire can = !ov || m_axis_tready;       // the output register takes a beat
    assign s_axis_tready = drop || (pass && can);
    wire in_fire = s_axis_tvalid && s_axis_tready;
    wire load = (pass && in_fire) || (ins && can);
    wire step = in_fire || (ins && can);
    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            k <= {CW{1'b0}};
            ov <= 1'b0;
        end else begin
            if (step) k <= (k == N1) ? {CW{1'b0}} : k + 1'b1;
            if (load) ov <= 1'b1;
            else if (m_axis_tready) ov <= 1'b0;
        end
        if (load) o <= pass ? s_axis_tdata : {WIDTH{1'b0}};
    end
    assign m_axis_tdata = o;
    assign m_axis_tvalid = ov;
endmodule

`default_nettype wire
