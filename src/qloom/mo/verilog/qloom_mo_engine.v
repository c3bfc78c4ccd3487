// qloom_mo_engine: the MO engine, first slice (qloom.mo; FINN-R Sec. 3.2 memory-optimized
// architecture). It runs the descriptor stream of a qloom.mo schedule from DRAM through one
// AXI4 master (32-bit data; INCR bursts of up to 256 beats): per descriptor it fetches the
// 128-byte record, loads the input rows (LOAD_IN), the weight block and its thresholds
// (LOAD_W), computes, and writes the output rows (STORE_OUT); END raises done.
//
// This slice: PE = SIMD = 1 (one MAC per cycle); MVAU layers (opcode 1), fully connected
// (FLAT) or behind the window generator (convolution: K, stride, pads, pad value), with or
// without thresholds; max / sum pools (opcodes 2, 3); integer / bipolar operands, runtime bit
// widths (the layout of qloom.mo.layout: records of fields, whole bytes per record). Phases
// run one after another (no double buffering yet): per descriptor, cycles
//   fetch + loads + pixels * rows * (MW + NT + 1) + store   (MVAU)
//   fetch + loads + pixels * C * (KH*KW + 1) + store         (pools)
// (qloom.mo.model.serial_cycles). Other opcodes set error and stop.
`timescale 1ns/1ps
module qloom_mo_engine #(
    parameter IBUF = 4096,  // bytes of the input buffer
    parameter WBUF = 16384, // bytes of the weight buffer
    parameter TBUF = 4096,  // bytes of the threshold buffer
    parameter OBUF = 4096   // bytes of the output buffer
) (
    input  wire        ap_clk,
    input  wire        ap_rst_n,
    input  wire        start,
    input  wire [31:0] desc_addr,
    output reg         done,
    output reg         error,
    // AXI4 read address / data
    output reg  [31:0] m_axi_araddr,
    output reg  [7:0]  m_axi_arlen,
    output reg         m_axi_arvalid,
    input  wire        m_axi_arready,
    input  wire [31:0] m_axi_rdata,
    input  wire        m_axi_rlast,
    input  wire        m_axi_rvalid,
    output wire        m_axi_rready,
    // AXI4 write address / data / response
    output reg  [31:0] m_axi_awaddr,
    output reg  [7:0]  m_axi_awlen,
    output reg         m_axi_awvalid,
    input  wire        m_axi_awready,
    output reg  [31:0] m_axi_wdata,
    output reg  [3:0]  m_axi_wstrb,
    output reg         m_axi_wlast,
    output reg         m_axi_wvalid,
    input  wire        m_axi_wready,
    input  wire        m_axi_bvalid,
    output wire        m_axi_bready
);
    // ---------------------------------------------------------------- buffers
    // (+8 bytes: a field read or written as 5 bytes never leaves the array)
    reg [7:0] dbuf [0:127];
    reg [7:0] ibuf [0:IBUF+7];
    reg [7:0] wbuf [0:WBUF+7];
    reg [7:0] tbuf [0:TBUF+7];
    reg [7:0] obuf [0:OBUF+7];
    integer z;
    initial for (z = 0; z < OBUF + 8; z = z + 1) obuf[z] = 8'd0;

    function [31:0] dword(input integer k);
        dword = {dbuf[4*k+3], dbuf[4*k+2], dbuf[4*k+1], dbuf[4*k]};
    endfunction

    // descriptor fields (qloom.mo.schedule.DESC_FIELDS order)
    wire [31:0] d_opcode = dword(0),  d_flags = dword(1),   d_ih = dword(2),  d_iw = dword(3);
    wire [31:0] d_ic = dword(4),      d_oh = dword(5),      d_ow = dword(6),  d_oc = dword(7);
    wire [31:0] d_k = dword(8),       d_s = dword(9),       d_pads = dword(10), d_padv = dword(11);
    wire [31:0] d_bits = dword(12),   d_row0 = dword(25),   d_rows = dword(26), d_irow0 = dword(27);
    wire [31:0] d_mh = dword(13),     d_mw = dword(14),     d_nt = dword(15), d_bias = dword(16);
    wire [31:0] d_in_addr = dword(17), d_in_bytes = dword(18), d_w_addr = dword(19), d_w_bytes = dword(20);
    wire [31:0] d_t_addr = dword(21),  d_t_bytes = dword(22),  d_out_addr = dword(23), d_out_bytes = dword(24);
    wire [31:0] d_nf0 = dword(29),     d_nfs = dword(30);
    wire [7:0] in_bits = d_bits[7:0], w_bits = d_bits[15:8], out_bits = d_bits[23:16], t_bits = d_bits[31:24];
    localparam F_LOAD_IN = 1, F_LOAD_W = 2, F_STORE = 4, F_FLAT = 8, F_HAS_T = 16, F_IN_S = 32,
               F_IN_B = 64, F_W_S = 128, F_W_B = 256, F_OUT_B = 1024;

    // a field of `bits` (1..32) at bit address `a` of a byte buffer, sign-extended or bipolar
    function signed [39:0] ext(input [39:0] raw, input [7:0] bits, input sgn, input bip);
        reg [39:0] m;
        begin
            m = raw & ((40'd1 << bits) - 40'd1);
            if (bip) ext = m[0] ? 40'sd1 : -40'sd1;
            else if (sgn && m[bits - 1]) ext = $signed(m | ~((40'd1 << bits) - 40'd1));
            else ext = $signed(m);
        end
    endfunction

    // ---------------------------------------------------------------- AXI read loader
    // loads `ld_n` bytes from `ld_addr` into buffer `ld_buf` (0 desc, 1 in, 2 w, 3 t) at offset 0
    reg        ld_busy;
    reg [1:0]  ld_buf;
    reg [31:0] ld_addr, ld_n, ld_next, ld_end, ld_beat_addr;
    reg        ld_ar_done;
    assign m_axi_rready = ld_busy && ld_ar_done;
    integer b;
    always @(posedge ap_clk) begin
        if (ld_busy && m_axi_rvalid && m_axi_rready) begin
            for (b = 0; b < 4; b = b + 1) begin
                if (ld_beat_addr + b >= ld_addr && ld_beat_addr + b < ld_addr + ld_n) begin
                    case (ld_buf)
                        2'd0: dbuf[ld_beat_addr + b - ld_addr] <= m_axi_rdata[8*b +: 8];
                        2'd1: ibuf[ld_beat_addr + b - ld_addr] <= m_axi_rdata[8*b +: 8];
                        2'd2: wbuf[ld_beat_addr + b - ld_addr] <= m_axi_rdata[8*b +: 8];
                        default: tbuf[ld_beat_addr + b - ld_addr] <= m_axi_rdata[8*b +: 8];
                    endcase
                end
            end
        end
    end

    // ---------------------------------------------------------------- main FSM
    localparam S_IDLE = 0, S_FETCH = 1, S_DEC = 2, S_LIN = 3, S_LW = 4, S_LT = 5, S_MAC = 6,
               S_THR = 7, S_OUT = 8, S_STORE = 9, S_DONE = 10, S_LOAD = 11, S_WB = 12;
    reg [3:0]  st, ret;
    reg [31:0] pc;          // address of the current descriptor
    reg [31:0] row, nrows, i, k, wbit, ibit, pbyte, c;
    reg signed [39:0] acc;
    reg [31:0] cnt;
    reg [31:0] pix_bytes, wrec_bytes, trec_bytes;
    // store
    reg [31:0] sw_addr, sw_end, sw_beats;
    reg        sw_aw_done;
    assign m_axi_bready = (st == S_WB);

    // window mode: output pixel (oy, ox), kernel position (ky, kx), channel (pools: the row)
    reg [31:0] oy, ox, ky, kx;
    wire        pool = (d_opcode == 2) || (d_opcode == 3);
    wire [31:0] ch = pool ? row : c;
    wire signed [31:0] iy = $signed(oy * d_s[15:0] + ky) - $signed({24'd0, d_pads[7:0]});
    wire signed [31:0] ix = $signed(ox * d_s[31:16] + kx) - $signed({24'd0, d_pads[15:8]});
    wire        in_win = (iy >= 0) && (iy < $signed(d_ih)) && (ix >= 0) && (ix < $signed(d_iw));
    wire [31:0] wina = ((iy - $signed(d_irow0)) * d_iw + ix) * pix_bytes * 8 + ch * in_bits;
    wire        flat = d_flags[3];
    wire [31:0] xa = flat ? ibit : wina;          // bit address of x_i
    wire [31:0] wa = wbit;                       // bit address of w_(row, i)
    wire [39:0] xraw = {ibuf[(xa >> 3) + 4], ibuf[(xa >> 3) + 3], ibuf[(xa >> 3) + 2], ibuf[(xa >> 3) + 1],
                        ibuf[xa >> 3]} >> xa[2:0];
    wire [39:0] wraw = {wbuf[(wa >> 3) + 4], wbuf[(wa >> 3) + 3], wbuf[(wa >> 3) + 2], wbuf[(wa >> 3) + 1],
                        wbuf[wa >> 3]} >> wa[2:0];
    wire [31:0] ta = row * trec_bytes * 8 + k * t_bits;
    wire [39:0] traw = {tbuf[(ta >> 3) + 4], tbuf[(ta >> 3) + 3], tbuf[(ta >> 3) + 2], tbuf[(ta >> 3) + 1],
                        tbuf[ta >> 3]} >> ta[2:0];
    wire signed [39:0] xin = ext(xraw, in_bits, d_flags[5], d_flags[6]);
    wire signed [39:0] xv = (flat || in_win) ? xin : {{8{d_padv[31]}}, d_padv};
    wire signed [39:0] wv = ext(wraw, w_bits, d_flags[7], d_flags[8]);
    wire signed [39:0] tv = ext(traw, t_bits, 1'b1, 1'b0);
    // the output field
    wire [31:0] opix = ((oy - d_row0) * d_ow + ox) * ((d_oc * out_bits + 7) >> 3) * 8;
    wire [31:0] oa = opix + (pool ? row : d_nf0 + row) * out_bits;
    wire [31:0] kk = (d_k[15:0]) * (d_k[31:16]);  // window size KH*KW
    wire [31:0] last_i = pool ? kk : d_mw;
    wire signed [39:0] res = !d_flags[4] ? acc : d_flags[10] ? {8'd0, cnt} : $signed({8'd0, cnt}) + $signed({{8{d_bias[31]}}, d_bias});
    wire [39:0] omask = ((40'd1 << out_bits) - 40'd1) << oa[2:0];
    wire [39:0] resb = (d_flags[10] && !d_flags[4]) ? {39'd0, res > 0} : res;  // bipolar: -1 -> 0
    wire [39:0] oval = (resb & ((40'd1 << out_bits) - 40'd1)) << oa[2:0];

    wire [31:0] ar_beats = (ld_end - ld_next + 3) >> 2;
    wire [7:0]  ar_len = (ar_beats > 256) ? 8'd255 : ar_beats[7:0] - 8'd1;
    wire [31:0] aw_beats = (sw_end - sw_addr + 3) >> 2;
    wire [7:0]  aw_len = (aw_beats > 256) ? 8'd255 : aw_beats[7:0] - 8'd1;

    task start_load(input [1:0] which, input [31:0] a, input [31:0] n, input [3:0] back);
        begin
            ld_buf <= which; ld_addr <= a; ld_n <= n; ld_next <= {a[31:2], 2'b00};
            ld_end <= a + n; ld_busy <= 1'b1; ld_ar_done <= 1'b0; ret <= back; st <= S_LOAD;
        end
    endtask

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            st <= S_IDLE; done <= 1'b0; error <= 1'b0; ld_busy <= 1'b0; m_axi_arvalid <= 1'b0;
            m_axi_awvalid <= 1'b0; m_axi_wvalid <= 1'b0;
        end else begin
            case (st)
                S_IDLE: if (start) begin pc <= desc_addr; start_load(2'd0, desc_addr, 32'd128, S_DEC); end
                S_LOAD: begin
                    // one burst at a time: AR, then its beats; the next burst after the last
                    if (!ld_ar_done && !m_axi_arvalid) begin
                        m_axi_araddr <= ld_next;
                        m_axi_arlen <= ar_len;
                        m_axi_arvalid <= 1'b1;
                    end else if (m_axi_arvalid && m_axi_arready) begin
                        m_axi_arvalid <= 1'b0; ld_ar_done <= 1'b1; ld_beat_addr <= m_axi_araddr;
                    end else if (m_axi_rvalid && m_axi_rready) begin
                        ld_beat_addr <= ld_beat_addr + 4;
                        if (m_axi_rlast) begin
                            ld_ar_done <= 1'b0;
                            ld_next <= ld_beat_addr + 4;
                            if (ld_beat_addr + 4 >= ld_end) begin ld_busy <= 1'b0; st <= ret; end
                        end
                    end
                end
                S_DEC: begin
                    if (d_opcode == 0) st <= S_DONE;
                    else if (d_opcode < 1 || d_opcode > 3) begin error <= 1'b1; st <= S_DONE; end
                    else if (d_flags[0]) start_load(2'd1, d_in_addr, d_in_bytes, S_LW);
                    else st <= S_LW;
                    pix_bytes <= (d_ic * in_bits + 7) >> 3;
                    wrec_bytes <= (w_bits + 7) >> 3;
                    trec_bytes <= (d_nt * t_bits + 7) >> 3;
                end
                S_LW: if (d_flags[1]) start_load(2'd2, d_w_addr, d_w_bytes, S_LT); else st <= S_LT;
                S_LT: begin
                    if (d_flags[1] && d_flags[4]) start_load(2'd3, d_t_addr, d_t_bytes, S_MAC);
                    else st <= S_MAC;
                    row <= 0; i <= 0; ibit <= 0; c <= 0; pbyte <= 0; wbit <= 0;
                    oy <= d_row0; ox <= 0; ky <= 0; kx <= 0;
                    acc <= (d_opcode == 2) ? -40'sd549755813888 : 40'sd0;
                    nrows <= pool ? d_oc : (d_nfs < d_mh - d_nf0) ? d_nfs : d_mh - d_nf0;
                end
                S_MAC: begin
                    // one element per cycle: MVAU acc += x_i * w_(row, i); pools max / sum
                    if (d_opcode == 2) acc <= (xv > acc) ? xv : acc;
                    else if (d_opcode == 3) acc <= acc + xv;
                    else acc <= acc + xv * wv;
                    wbit <= wbit + wrec_bytes * 8;
                    if (c + 1 == d_ic) begin c <= 0; pbyte <= pbyte + pix_bytes; ibit <= (pbyte + pix_bytes) * 8; end
                    else begin c <= c + 1; ibit <= ibit + in_bits; end
                    if (pool || c + 1 == d_ic) begin  // window order (ky, kx, c): c fastest
                        if (kx + 1 == d_k[31:16]) begin kx <= 0; ky <= ky + 1; end
                        else kx <= kx + 1;
                    end
                    if (i + 1 == last_i) begin
                        i <= 0; k <= 0; cnt <= 0; ky <= 0; kx <= 0;
                        st <= (d_flags[4] && !pool) ? S_THR : S_OUT;
                    end else i <= i + 1;
                end
                S_THR: begin
                    if (acc >= tv) cnt <= cnt + 1;
                    if (k + 1 == d_nt) st <= S_OUT;
                    k <= k + 1;
                end
                S_OUT: begin
                    {obuf[(oa >> 3) + 4], obuf[(oa >> 3) + 3], obuf[(oa >> 3) + 2], obuf[(oa >> 3) + 1], obuf[oa >> 3]} <=
                        ({obuf[(oa >> 3) + 4], obuf[(oa >> 3) + 3], obuf[(oa >> 3) + 2], obuf[(oa >> 3) + 1], obuf[oa >> 3]}
                         & ~omask) | oval;
                    acc <= (d_opcode == 2) ? -40'sd549755813888 : 40'sd0;
                    ibit <= 0; c <= 0; pbyte <= 0;
                    if (row + 1 == nrows) begin
                        row <= 0; wbit <= 0;
                        if (flat || (oy + 1 == d_row0 + d_rows && ox + 1 == d_ow)) begin
                            if (d_flags[2]) begin
                                sw_addr <= {d_out_addr[31:2], 2'b00}; sw_end <= d_out_addr + d_out_bytes;
                                sw_aw_done <= 1'b0; st <= S_STORE;
                            end else st <= S_FETCH;
                        end else begin
                            if (ox + 1 == d_ow) begin ox <= 0; oy <= oy + 1; end
                            else ox <= ox + 1;
                            st <= S_MAC;
                        end
                    end else begin
                        row <= row + 1; st <= S_MAC;
                    end
                end
                S_STORE: begin
                    // one burst at a time: AW, its W beats (byte strobes at the edges), B
                    if (!sw_aw_done && !m_axi_awvalid) begin
                        m_axi_awaddr <= sw_addr;
                        m_axi_awlen <= aw_len;
                        sw_beats <= {24'd0, aw_len} + 32'd1;
                        m_axi_awvalid <= 1'b1;
                    end else if (m_axi_awvalid && m_axi_awready) begin
                        m_axi_awvalid <= 1'b0; sw_aw_done <= 1'b1;
                    end
                    if (sw_aw_done && !(m_axi_wvalid && !m_axi_wready)) begin
                        if (m_axi_wvalid && m_axi_wready && m_axi_wlast) begin
                            m_axi_wvalid <= 1'b0; st <= S_WB;
                        end else if (sw_beats != 0) begin
                            for (b = 0; b < 4; b = b + 1) begin
                                m_axi_wstrb[b] <= (sw_addr + b >= d_out_addr) && (sw_addr + b < sw_end);
                                m_axi_wdata[8*b +: 8] <= obuf[sw_addr + b - d_out_addr];
                            end
                            m_axi_wvalid <= 1'b1; m_axi_wlast <= (sw_beats == 1);
                            sw_beats <= sw_beats - 1; sw_addr <= sw_addr + 4;
                        end
                    end
                end
                S_WB: if (m_axi_bvalid) begin
                    sw_aw_done <= 1'b0;
                    st <= (sw_addr >= sw_end) ? S_FETCH : S_STORE;
                end
                S_FETCH: begin pc <= pc + 128; start_load(2'd0, pc + 128, 32'd128, S_DEC); end
                S_DONE: done <= 1'b1;
                default: st <= S_IDLE;
            endcase
        end
    end
endmodule
