// qloom_vpipe: a chain of valid-qualified pipeline registers.
//
// Stage s (0 .. STAGES-1) registers the stage before it (stage -1 = the input): its
// valid bit is reset to 0 and follows the previous valid bit every cycle; its data
// is loaded only when the previous valid bit is 1 (no reset, no load otherwise).
// Every stage is an output, so a pipeline can read its control at any depth.
//
// Parameters
//   WIDTH    data bits per stage (>= 1)
//   STAGES   number of stages (>= 1)
//
// Ports
//   in_valid, in_data   stage -1
//   valid[s]            valid bit of stage s
//   data[s*WIDTH +: WIDTH]   data of stage s
//
// Memory: STAGES*(WIDTH + 1) flip-flops.
`default_nettype none

module qloom_vpipe #(
    parameter integer WIDTH = 1,
    parameter integer STAGES = 1
) (
    input  wire                      ap_clk,
    input  wire                      ap_rst_n,
    input  wire                      in_valid,
    input  wire [WIDTH-1:0]          in_data,
    output wire [STAGES-1:0]         valid,
    output wire [STAGES*WIDTH-1:0]   data
);
    if (WIDTH < 1 || STAGES < 1) begin : g_err_size
        $error("qloom_vpipe: WIDTH and STAGES must be >= 1");
    end

    // stage s reads stage s-1: the input followed by every stage but the last
    wire [STAGES-1:0] vin;
    wire [STAGES*WIDTH-1:0] din;
    if (STAGES > 1) begin : g_chain
        assign vin = {valid[STAGES-2:0], in_valid};
        assign din = {data[(STAGES-1)*WIDTH-1:0], in_data};
    end else begin : g_one
        assign vin = in_valid;
        assign din = in_data;
    end
    genvar s;
    for (s = 0; s < STAGES; s = s + 1) begin : g_s
        reg vq;
        reg [WIDTH-1:0] dq;
        always @(posedge ap_clk) begin
            if (!ap_rst_n) vq <= 1'b0;
            else vq <= vin[s];
            if (vin[s]) dq <= din[s*WIDTH +: WIDTH];
        end
        assign valid[s] = vq;
        assign data[s*WIDTH +: WIDTH] = dq;
    end
endmodule

`default_nettype wire
