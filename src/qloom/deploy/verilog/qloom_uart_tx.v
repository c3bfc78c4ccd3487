// qloom_uart_tx: UART transmitter, 8N1, LSB first.
//
// Parameters
//   CLKS_PER_BIT  clock cycles per bit (>= 1): round(clock Hz / baud)
//
// Ports
//   data [7:0], valid   in, the byte to send; taken in a cycle where valid && ready
//   ready               out, high when idle (one byte in flight at a time)
//   txd                 out, the serial line (idle high), from a register
//
// Timing: 10 bit periods (start, 8 data, stop) per byte, back to back.
`default_nettype none

module qloom_uart_tx #(
    parameter integer CLKS_PER_BIT = 17
) (
    input  wire       clk,
    input  wire       rst_n,
    input  wire [7:0] data,
    input  wire       valid,
    output wire       ready,
    output reg        txd
);
    if (CLKS_PER_BIT < 1) begin : g_err
        $error("qloom_uart_tx: CLKS_PER_BIT must be >= 1");
    end
    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    localparam integer FULL_I = CLKS_PER_BIT - 1;
    localparam [CW-1:0] FULL = FULL_I[CW-1:0];

    reg [8:0] shift;  // data bits then the stop bit, sent LSB first after the start bit
    reg [3:0] left;   // bits still to send after the current one
    reg [CW-1:0] cnt;
    reg busy;

    assign ready = !busy;

    always @(posedge clk) begin
        if (!rst_n) begin
            txd <= 1'b1;
            busy <= 1'b0;
            shift <= 9'h1ff;
            left <= 4'd0;
            cnt <= {CW{1'b0}};
        end else if (!busy) begin
            if (valid) begin
                txd <= 1'b0;  // start bit
                shift <= {1'b1, data};
                left <= 4'd9;
                cnt <= FULL;
                busy <= 1'b1;
            end
        end else if (cnt != 0) begin
            cnt <= cnt - 1'b1;
        end else if (left != 0) begin
            txd <= shift[0];
            shift <= {1'b1, shift[8:1]};
            left <= left - 1'b1;
            cnt <= FULL;
        end else begin
            busy <= 1'b0;  // the stop bit has lasted one period
        end
    end
endmodule

`default_nettype wire
