// qloom_uart_link: a framed UART host link around qloom_top (the generated accelerator).
//
// Parameters
//   CLKS_PER_BIT  clock cycles per UART bit: round(clock Hz / baud)
//   IN_W, OUT_W   qloom_top's s_axis / m_axis tdata widths in bits (multiples of 8)
//   OUT_BEATS     m_axis beats per output frame
//   IN_FIFO       s_axis beats buffered between the receiver and qloom_top
//   OUT_FIFO      m_axis beats buffered between qloom_top and the transmitter
//
// Ports
//   ap_clk, ap_rst_n   clock, active-low synchronous reset (also qloom_top's)
//   uart_rxd           in, host -> FPGA serial line (8N1, idle high)
//   uart_txd           out, FPGA -> host serial line
//   status [7:0]       out, {overflow, length error, UART framing error, CRC error,
//                      output frames sent mod 16}; the error bits stay set until reset
//
// Protocol (bytes; every multi-byte field little-endian):
//   host -> FPGA  0xA5, LEN[15:0], LEN payload bytes, CRC8
//   FPGA -> host  0x5A, LEN[15:0] (= OUT_BEATS * OUT_W/8), payload, STATUS, CRC8
// A request payload is a whole number of s_axis beats (IN_W/8 bytes each, the beat's
// least significant byte first), fed to qloom_top as they arrive; a request may hold any
// number of frames. Every OUT_BEATS m_axis beats make one response, the beats' bytes
// least significant first. STATUS = status[7:4] when the response's status byte is sent.
// CRC8: polynomial x^8 + x^2 + x + 1 (0x07), initial value 0, no reflection, no final xor
// (the catalogue's CRC-8/SMBUS: check value 0xF4 for "123456789"), over LEN, the payload
// and (in a response) STATUS; the header byte is not covered. A request whose CRC does
// not match sets the CRC error bit (its beats have already gone to qloom_top).
// Depends on: qloom_uart_rx.v qloom_uart_tx.v qloom_fifo.v qloom_top.v
`default_nettype none

module qloom_uart_link #(
    parameter integer CLKS_PER_BIT = 17,
    parameter integer IN_W = 8,
    parameter integer OUT_W = 8,
    parameter integer OUT_BEATS = 1,
    parameter integer IN_FIFO = 512,
    parameter integer OUT_FIFO = 64
) (
    input  wire       ap_clk,
    input  wire       ap_rst_n,
    input  wire       uart_rxd,
    output wire       uart_txd,
    output wire [7:0] status
);
    if (IN_W % 8 != 0 || OUT_W % 8 != 0 || OUT_BEATS < 1) begin : g_err
        $error("qloom_uart_link: IN_W and OUT_W must be multiples of 8, OUT_BEATS >= 1");
    end
    localparam integer IN_BYTES = IN_W / 8;
    localparam integer OUT_BYTES = OUT_W / 8;
    localparam integer OUT_LEN_I = OUT_BEATS * OUT_BYTES;
    localparam [15:0] OUT_LEN = OUT_LEN_I[15:0];
    localparam integer IBW = $clog2(IN_BYTES + 1);
    localparam integer OBW = $clog2(OUT_BYTES + 1);
    localparam integer IN_LAST_I = IN_BYTES - 1;
    localparam integer OUT_LAST_I = OUT_BYTES - 1;
    localparam [IBW-1:0] IN_LAST = IN_LAST_I[IBW-1:0];
    localparam [OBW-1:0] OUT_LAST = OUT_LAST_I[OBW-1:0];
    localparam [15:0] BEATS = OUT_BEATS[15:0];

    function [7:0] crc8(input [7:0] c, input [7:0] d);
        integer i;
        reg [7:0] x;
        begin
            x = c ^ d;
            for (i = 0; i < 8; i = i + 1)
                x = x[7] ? ({x[6:0], 1'b0} ^ 8'h07) : {x[6:0], 1'b0};
            crc8 = x;
        end
    endfunction

    // ------------------------------------------------------------------ receive
    wire [7:0] rx_data;
    wire rx_valid, rx_ferr;
    qloom_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (
        .clk(ap_clk), .rst_n(ap_rst_n), .rxd(uart_rxd),
        .data(rx_data), .valid(rx_valid), .frame_err(rx_ferr));

    reg [2:0] rs;  // 0 header, 1 LEN low, 2 LEN high, 3 payload, 4 CRC
    reg [15:0] rlen;
    reg [7:0] rcrc;
    /* verilator lint_off UNUSEDSIGNAL */  // a one-byte beat needs no assembly register
    reg [IN_W-1:0] beat;
    /* verilator lint_on UNUSEDSIGNAL */
    reg [IBW-1:0] bidx;
    reg push;
    reg [IN_W-1:0] push_data;
    reg err_crc, err_len, err_frame, err_ovf;
    wire [IN_W-1:0] next_beat;
    if (IN_BYTES == 1) begin : g_ib1
        assign next_beat = rx_data;
    end else begin : g_ibn
        assign next_beat = {rx_data, beat[IN_W-1:8]};
    end

    wire if_ready;
    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            rs <= 3'd0;
            rlen <= 16'd0;
            rcrc <= 8'd0;
            beat <= {IN_W{1'b0}};
            bidx <= {IBW{1'b0}};
            push <= 1'b0;
            push_data <= {IN_W{1'b0}};
            err_crc <= 1'b0;
            err_len <= 1'b0;
            err_frame <= 1'b0;
            err_ovf <= 1'b0;
        end else begin
            push <= 1'b0;
            if (rx_ferr) err_frame <= 1'b1;
            if (push && !if_ready) err_ovf <= 1'b1;
            if (rx_valid) begin
                case (rs)
                    3'd0: if (rx_data == 8'hA5) begin
                        rs <= 3'd1;
                        rcrc <= 8'd0;
                    end
                    3'd1: begin
                        rlen[7:0] <= rx_data;
                        rcrc <= crc8(rcrc, rx_data);
                        rs <= 3'd2;
                    end
                    3'd2: begin
                        rlen[15:8] <= rx_data;
                        rcrc <= crc8(rcrc, rx_data);
                        rs <= ({rx_data, rlen[7:0]} == 16'd0) ? 3'd4 : 3'd3;
                        bidx <= {IBW{1'b0}};
                    end
                    3'd3: begin
                        beat <= next_beat;
                        rcrc <= crc8(rcrc, rx_data);
                        rlen <= rlen - 1'b1;
                        if (bidx == IN_LAST) begin
                            push <= 1'b1;
                            push_data <= next_beat;
                            bidx <= {IBW{1'b0}};
                        end else begin
                            bidx <= bidx + 1'b1;
                        end
                        if (rlen == 16'd1) begin
                            rs <= 3'd4;
                            if (bidx != IN_LAST) err_len <= 1'b1;
                        end
                    end
                    default: begin
                        if (rx_data != rcrc) err_crc <= 1'b1;
                        rs <= 3'd0;
                    end
                endcase
            end
        end
    end

    // ------------------------------------------------------------------ accelerator
    wire [IN_W-1:0] a_in_tdata;
    wire a_in_tvalid, a_in_tready;
    wire [OUT_W-1:0] a_out_tdata;
    wire a_out_tvalid, a_out_tready;
    wire [OUT_W-1:0] of_data;
    wire of_valid, of_ready;

    qloom_fifo #(.WIDTH(IN_W), .DEPTH(IN_FIFO)) u_in_fifo (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(push_data), .s_axis_tvalid(push), .s_axis_tready(if_ready),
        .m_axis_tdata(a_in_tdata), .m_axis_tvalid(a_in_tvalid), .m_axis_tready(a_in_tready));

    qloom_top u_top (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(a_in_tdata), .s_axis_tvalid(a_in_tvalid), .s_axis_tready(a_in_tready),
        .m_axis_tdata(a_out_tdata), .m_axis_tvalid(a_out_tvalid), .m_axis_tready(a_out_tready));

    qloom_fifo #(.WIDTH(OUT_W), .DEPTH(OUT_FIFO)) u_out_fifo (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(a_out_tdata), .s_axis_tvalid(a_out_tvalid), .s_axis_tready(a_out_tready),
        .m_axis_tdata(of_data), .m_axis_tvalid(of_valid), .m_axis_tready(of_ready));

    // ------------------------------------------------------------------ transmit
    reg [7:0] tx_data;
    reg tx_valid;
    wire tx_ready;
    qloom_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
        .clk(ap_clk), .rst_n(ap_rst_n), .data(tx_data), .valid(tx_valid), .ready(tx_ready),
        .txd(uart_txd));

    reg [2:0] ts;  // 0 idle, 1 LEN low, 2 LEN high, 3 payload, 4 STATUS, 5 CRC
    reg [7:0] tcrc;
    reg [OUT_W-1:0] obeat;
    reg [OBW-1:0] oidx;
    reg [15:0] ocnt;
    reg [3:0] frames_out;
    wire [3:0] errs = {err_ovf, err_len, err_frame, err_crc};
    assign status = {errs, frames_out};
    assign of_ready = (ts == 3'd3) && !tx_valid && (oidx == {OBW{1'b0}});

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            ts <= 3'd0;
            tcrc <= 8'd0;
            obeat <= {OUT_W{1'b0}};
            oidx <= {OBW{1'b0}};
            ocnt <= 16'd0;
            tx_data <= 8'd0;
            tx_valid <= 1'b0;
            frames_out <= 4'd0;
        end else if (tx_valid) begin
            if (tx_ready) tx_valid <= 1'b0;
        end else begin
            case (ts)
                3'd0: if (of_valid) begin
                    tx_data <= 8'h5A;
                    tx_valid <= 1'b1;
                    ts <= 3'd1;
                end
                3'd1: begin
                    tx_data <= OUT_LEN[7:0];
                    tx_valid <= 1'b1;
                    tcrc <= crc8(8'd0, OUT_LEN[7:0]);
                    ts <= 3'd2;
                end
                3'd2: begin
                    tx_data <= OUT_LEN[15:8];
                    tx_valid <= 1'b1;
                    tcrc <= crc8(tcrc, OUT_LEN[15:8]);
                    ts <= 3'd3;
                    ocnt <= BEATS;
                    oidx <= {OBW{1'b0}};
                end
                3'd3: if (oidx != {OBW{1'b0}} || of_valid) begin
                    tx_data <= (oidx == {OBW{1'b0}}) ? of_data[7:0] : obeat[7:0];
                    tcrc <= crc8(tcrc, (oidx == {OBW{1'b0}}) ? of_data[7:0] : obeat[7:0]);
                    tx_valid <= 1'b1;
                    obeat <= ((oidx == {OBW{1'b0}}) ? of_data : obeat) >> 8;
                    if (oidx == OUT_LAST) begin
                        oidx <= {OBW{1'b0}};
                        ocnt <= ocnt - 1'b1;
                        if (ocnt == 16'd1) ts <= 3'd4;
                    end else begin
                        oidx <= oidx + 1'b1;
                    end
                end
                3'd4: begin
                    tx_data <= {errs, 4'd0};
                    tx_valid <= 1'b1;
                    tcrc <= crc8(tcrc, {errs, 4'd0});
                    ts <= 3'd5;
                end
                default: begin
                    tx_data <= tcrc;
                    tx_valid <= 1'b1;
                    ts <= 3'd0;
                    frames_out <= frames_out + 1'b1;
                end
            endcase
        end
    end
endmodule

`default_nettype wire
