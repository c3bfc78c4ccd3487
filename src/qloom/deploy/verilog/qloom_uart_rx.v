// qloom_uart_rx: UART receiver, 8 data bits, no parity, 1 stop bit (8N1), LSB first.
//
// Parameters
//   CLKS_PER_BIT  clock cycles per bit (>= 4): round(clock Hz / baud)
//
// Ports
//   rxd          in, the serial line (idle high); synchronized by two flip-flops
//   data [7:0]   out, the received byte, valid for the cycle where valid = 1
//   valid        out, one-cycle pulse per byte whose stop bit was 1
//   frame_err    out, one-cycle pulse per byte whose stop bit was 0 (byte dropped)
//
// Timing: a falling edge starts a byte; the start bit is re-checked half a bit later
// (a glitch shorter than that is ignored) and each data bit and the stop bit are
// sampled one bit period apart from there, i.e. in the middle of each bit.
`default_nettype none

module qloom_uart_rx #(
    parameter integer CLKS_PER_BIT = 17
) (
    input  wire       clk,
    input  wire       rst_n,
    input  wire       rxd,
    output reg  [7:0] data,
    output reg        valid,
    output reg        frame_err
);
    if (CLKS_PER_BIT < 4) begin : g_err
        $error("qloom_uart_rx: CLKS_PER_BIT must be >= 4");
    end
    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    localparam integer FULL_I = CLKS_PER_BIT - 1;
    localparam [CW-1:0] FULL = FULL_I[CW-1:0];
    localparam integer HALF_I = CLKS_PER_BIT / 2 - 1;
    localparam [CW-1:0] HALF = HALF_I[CW-1:0];

    reg rx_m, rx_s;  // two-flip-flop synchronizer
    reg [1:0] state;  // 0 idle, 1 start bit, 2 data bits, 3 stop bit
    reg [CW-1:0] cnt;
    reg [2:0] bit_i;
    reg [7:0] shift;

    always @(posedge clk) begin
        if (!rst_n) begin
            rx_m <= 1'b1;
            rx_s <= 1'b1;
            state <= 2'd0;
            cnt <= {CW{1'b0}};
            bit_i <= 3'd0;
            shift <= 8'd0;
            data <= 8'd0;
            valid <= 1'b0;
            frame_err <= 1'b0;
        end else begin
            rx_m <= rxd;
            rx_s <= rx_m;
            valid <= 1'b0;
            frame_err <= 1'b0;
            case (state)
                2'd0: if (!rx_s) begin
                    state <= 2'd1;
                    cnt <= HALF;
                end
                2'd1: if (cnt != 0) cnt <= cnt - 1'b1;
                      else if (rx_s) state <= 2'd0;  // a glitch, not a start bit
                      else begin
                          state <= 2'd2;
                          cnt <= FULL;
                          bit_i <= 3'd0;
                      end
                2'd2: if (cnt != 0) cnt <= cnt - 1'b1;
                      else begin
                          shift <= {rx_s, shift[7:1]};
                          cnt <= FULL;
                          bit_i <= bit_i + 1'b1;
                          if (bit_i == 3'd7) state <= 2'd3;
                      end
                default: if (cnt != 0) cnt <= cnt - 1'b1;
                      else begin
                          state <= 2'd0;
                          data <= shift;
                          valid <= rx_s;
                          frame_err <= !rx_s;
                      end
            endcase
        end
    end
endmodule

`default_nettype wire
