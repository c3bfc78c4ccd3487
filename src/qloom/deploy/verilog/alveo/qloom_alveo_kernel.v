// qloom_alveo_kernel: qloom_top as a Vitis RTL kernel (Alveo U250, AWS F1).
//
// Interfaces (names as the Vitis RTL kernel interface requirements ask, UG1393 "RTL
// Kernels: Kernel Interface Requirements"): ap_clk, ap_rst_n (active low), s_axi_control
// (AXI4-Lite slave, 32-bit data), m_axi_gmem (AXI4 master, 64-bit addresses, DW-bit data),
// interrupt (level, active high).
//
// Control registers: the register map of Vitis UG1393 "Control Requirements for XRT-Managed
// Kernels" (Table 1, Register Address Map: 0x0 control, 0x4 GIE, 0x8 IER, 0xC ISR, kernel
// arguments from 0x10 as kernel.xml declares them), the 0x00 bits of the ap_ctrl_hs protocol
// as Vitis HLS lays them out (UG1399 "S_AXILITE Control Register Map"), the interrupt of
// UG1393 "Interrupt" (active high, GIE and IER, cleared by writing 1 to ISR bit 0):
//   0x00 control: bit 0 ap_start (R/W, cleared by the kernel when it starts = ap_ready),
//                 bit 1 ap_done (R, clear on read), bit 2 ap_idle (R), bit 3 ap_ready (R, clear on read)
//   0x04 global interrupt enable (bit 0)
//   0x08 IP interrupt enable (bit 0 ap_done, bit 1 ap_ready)
//   0x0C IP interrupt status (bit 0 ap_done, bit 1 ap_ready; toggle on write of 1)
//   0x10/0x14 x: input buffer address, low/high 32 bits
//   0x18/0x1C y: output buffer address, low/high 32 bits
//   0x20 n_frames: frames to run (32 bits)
//
// Data path: the read engine fetches n_frames * IN_BEATS s_axis beats from x (each beat in an
// IN_PAD-bit slot, DW / IN_PAD slots per memory word, the first beat in the least significant
// slot) in INCR bursts of at most BURST words that never cross a 4 KB boundary, into a FIFO of
// FIFO_DEPTH words; an unpacker feeds qloom_top's s_axis; a packer gathers m_axis beats into
// OUT_PAD-bit slots of y the same way (unused slots of the last word are zero) and the write
// engine writes whole words. ap_done rises when every write is acknowledged (BRESP seen).
// Addresses must be aligned to DW/8 bytes (XRT buffers are 4 KB aligned).
`default_nettype none

module qloom_alveo_kernel #(
    parameter integer IN_W = 8,
    parameter integer OUT_W = 8,
    parameter integer IN_PAD = 8,
    parameter integer OUT_PAD = 8,
    parameter integer IN_BEATS = 1,
    parameter integer OUT_BEATS = 1,
    parameter integer DW = 512,
    parameter integer BURST = 16,
    parameter integer FIFO_DEPTH = 32
) (
    input  wire ap_clk,
    input  wire ap_rst_n,
    // AXI4-Lite control
    input  wire        s_axi_control_awvalid,
    output wire        s_axi_control_awready,
    input  wire [11:0] s_axi_control_awaddr,
    input  wire        s_axi_control_wvalid,
    output wire        s_axi_control_wready,
    input  wire [31:0] s_axi_control_wdata,
    input  wire [3:0]  s_axi_control_wstrb,
    output wire        s_axi_control_bvalid,
    input  wire        s_axi_control_bready,
    output wire [1:0]  s_axi_control_bresp,
    input  wire        s_axi_control_arvalid,
    output wire        s_axi_control_arready,
    input  wire [11:0] s_axi_control_araddr,
    output wire        s_axi_control_rvalid,
    input  wire        s_axi_control_rready,
    output wire [31:0] s_axi_control_rdata,
    output wire [1:0]  s_axi_control_rresp,
    /* verilator lint_off SYMRSVDWORD */
    output wire        interrupt,  // the name Vitis requires (Verilator renames it in C++)
    /* verilator lint_on SYMRSVDWORD */
    // AXI4 master to device memory
    output wire          m_axi_gmem_awvalid,
    input  wire          m_axi_gmem_awready,
    output wire [63:0]   m_axi_gmem_awaddr,
    output wire [7:0]    m_axi_gmem_awlen,
    output wire [2:0]    m_axi_gmem_awsize,
    output wire [1:0]    m_axi_gmem_awburst,
    output wire          m_axi_gmem_wvalid,
    input  wire          m_axi_gmem_wready,
    output wire [DW-1:0] m_axi_gmem_wdata,
    output wire [DW/8-1:0] m_axi_gmem_wstrb,
    output wire          m_axi_gmem_wlast,
    input  wire          m_axi_gmem_bvalid,
    output wire          m_axi_gmem_bready,
    input  wire [1:0]    m_axi_gmem_bresp,
    output wire          m_axi_gmem_arvalid,
    input  wire          m_axi_gmem_arready,
    output wire [63:0]   m_axi_gmem_araddr,
    output wire [7:0]    m_axi_gmem_arlen,
    output wire [2:0]    m_axi_gmem_arsize,
    output wire [1:0]    m_axi_gmem_arburst,
    input  wire          m_axi_gmem_rvalid,
    output wire          m_axi_gmem_rready,
    input  wire [DW-1:0] m_axi_gmem_rdata,
    input  wire          m_axi_gmem_rlast,
    input  wire [1:0]    m_axi_gmem_rresp
);
    localparam integer WB = DW / 8;                 // bytes per memory word
    localparam integer WB_LOG = $clog2(WB);
    localparam integer PAGE_WORDS = 4096 / WB;      // words per 4 KB page
    localparam integer IN_PER = DW / IN_PAD;        // s_axis beats per memory word
    localparam integer OUT_PER = DW / OUT_PAD;      // m_axis beats per memory word
    localparam integer CW = 48;                     // beat and word counters
    localparam integer FW = $clog2(FIFO_DEPTH + 1);
    localparam integer LW = $clog2(BURST + 1);
    localparam integer SW = $clog2(IN_PER + 1);
    localparam integer OW = $clog2(OUT_PER + 1);
    localparam integer IN_LAST_I = IN_PER - 1;
    localparam integer OUT_LAST_I = OUT_PER - 1;
    localparam [CW-1:0] BURST_C = {{(CW - 32){1'b0}}, BURST};
    localparam [CW-1:0] PAGE_C = {{(CW - 32){1'b0}}, PAGE_WORDS};
    localparam [CW-1:0] IN_PER_C = {{(CW - 32){1'b0}}, IN_PER};
    localparam [CW-1:0] OUT_PER_C = {{(CW - 32){1'b0}}, OUT_PER};
    localparam [SW-1:0] SLOT_LAST = IN_LAST_I[SW-1:0];
    localparam [OW-1:0] OSLOT_LAST = OUT_LAST_I[OW-1:0];

    // ------------------------------------------------------------ control registers
    localparam [1:0] IDLE = 2'd0, SETUP = 2'd1, RUN = 2'd2;
    reg [1:0] state;
    reg ap_start, ap_done, ap_ready, gie;
    reg [1:0] ier, isr;
    reg [63:0] x_addr, y_addr;
    reg [31:0] n_frames;
    wire ap_idle = (state == IDLE);
    wire finish;

    reg aw_ok, w_ok, bvalid_r, rvalid_r;
    reg [11:0] aw_a;
    reg [31:0] w_d, rdata_r;
    reg [3:0] w_s;
    assign s_axi_control_awready = !aw_ok && !bvalid_r;
    assign s_axi_control_wready = !w_ok && !bvalid_r;
    assign s_axi_control_bvalid = bvalid_r;
    assign s_axi_control_bresp = 2'b00;
    assign s_axi_control_arready = !rvalid_r;
    assign s_axi_control_rvalid = rvalid_r;
    assign s_axi_control_rdata = rdata_r;
    assign s_axi_control_rresp = 2'b00;
    assign interrupt = gie && |(isr & ier);

    wire [31:0] wmask = {{8{w_s[3]}}, {8{w_s[2]}}, {8{w_s[1]}}, {8{w_s[0]}}};
    wire do_write = aw_ok && w_ok;
    wire do_read = s_axi_control_arvalid && !rvalid_r;
    wire [31:0] ctrl_word = {28'd0, ap_ready, ap_idle, ap_done, ap_start};
    wire start = (state == IDLE) && ap_start;

    function [31:0] merge(input [31:0] old, input [31:0] d, input [31:0] m);
        merge = (old & ~m) | (d & m);
    endfunction

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            aw_ok <= 1'b0; w_ok <= 1'b0; bvalid_r <= 1'b0; rvalid_r <= 1'b0;
            aw_a <= 12'd0; w_d <= 32'd0; w_s <= 4'd0; rdata_r <= 32'd0;
            ap_start <= 1'b0; ap_done <= 1'b0; ap_ready <= 1'b0; gie <= 1'b0; ier <= 2'd0; isr <= 2'd0;
            x_addr <= 64'd0; y_addr <= 64'd0; n_frames <= 32'd0;
        end else begin
            if (s_axi_control_awvalid && s_axi_control_awready) begin aw_ok <= 1'b1; aw_a <= s_axi_control_awaddr; end
            if (s_axi_control_wvalid && s_axi_control_wready) begin
                w_ok <= 1'b1; w_d <= s_axi_control_wdata; w_s <= s_axi_control_wstrb;
            end
            if (s_axi_control_bvalid && s_axi_control_bready) bvalid_r <= 1'b0;
            if (s_axi_control_rvalid && s_axi_control_rready) rvalid_r <= 1'b0;
            // kernel events (before register accesses: a read clears only what it returned)
            if (start) begin
                ap_start <= 1'b0;
                ap_ready <= 1'b1;
                if (ier[1]) isr[1] <= 1'b1;
            end
            if (finish) begin
                ap_done <= 1'b1;
                if (ier[0]) isr[0] <= 1'b1;
            end
            if (do_write) begin
                aw_ok <= 1'b0; w_ok <= 1'b0; bvalid_r <= 1'b1;
                case (aw_a[7:2])
                    6'h00: if (w_s[0] && w_d[0]) ap_start <= 1'b1;
                    6'h01: gie <= w_s[0] ? w_d[0] : gie;
                    6'h02: ier <= w_s[0] ? w_d[1:0] : ier;
                    6'h03: if (w_s[0]) isr <= isr ^ w_d[1:0];
                    6'h04: x_addr[31:0] <= merge(x_addr[31:0], w_d, wmask);
                    6'h05: x_addr[63:32] <= merge(x_addr[63:32], w_d, wmask);
                    6'h06: y_addr[31:0] <= merge(y_addr[31:0], w_d, wmask);
                    6'h07: y_addr[63:32] <= merge(y_addr[63:32], w_d, wmask);
                    6'h08: n_frames <= merge(n_frames, w_d, wmask);
                    default: ;
                endcase
            end
            if (do_read) begin
                rvalid_r <= 1'b1;
                case (s_axi_control_araddr[7:2])
                    6'h00: begin
                        rdata_r <= ctrl_word;
                        if (ap_done) ap_done <= 1'b0;
                        if (ap_ready && !start) ap_ready <= 1'b0;
                    end
                    6'h01: rdata_r <= {31'd0, gie};
                    6'h02: rdata_r <= {30'd0, ier};
                    6'h03: rdata_r <= {30'd0, isr};
                    6'h04: rdata_r <= x_addr[31:0];
                    6'h05: rdata_r <= x_addr[63:32];
                    6'h06: rdata_r <= y_addr[31:0];
                    6'h07: rdata_r <= y_addr[63:32];
                    6'h08: rdata_r <= n_frames;
                    default: rdata_r <= 32'd0;
                endcase
            end
        end
    end

    // ------------------------------------------------------------ run state
    reg [CW-1:0] in_total, out_total, out_words;
    reg [CW-1:0] in_sent, out_recv, rd_issue_left, wr_issue_left, wr_acked;
    reg [63:0] rd_addr, wr_addr;
    reg rd_busy, wr_busy, aw_done, b_wait;
    wire all_done = (in_sent == in_total) && (out_recv == out_total) && (rd_issue_left == 0) && !rd_busy
                    && (wr_acked == out_words) && !wr_busy;
    assign finish = (state == RUN) && all_done;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            state <= IDLE;
            in_total <= 0; out_total <= 0; out_words <= 0;
        end else begin
            case (state)
                IDLE: if (ap_start) state <= SETUP;
                SETUP: state <= RUN;
                RUN: if (all_done) state <= IDLE;
                default: state <= IDLE;
            endcase
            if (start) begin
                in_total <= {{(CW - 32){1'b0}}, n_frames} * IN_BEATS;
                out_total <= {{(CW - 32){1'b0}}, n_frames} * OUT_BEATS;
            end
            if (state == SETUP) out_words <= (out_total + OUT_PER_C - 1'b1) / OUT_PER_C;
        end
    end

    // ------------------------------------------------------------ read engine
    wire [FW-1:0] rf_count;
    wire rf_full, rf_empty;
    wire [DW-1:0] rf_head;
    wire rf_pop;
    reg arvalid_r;
    reg [7:0] arlen_r;
    reg [63:0] araddr_r;
    wire [CW-1:0] page_left_rd = PAGE_C - {{(CW - 12 + WB_LOG){1'b0}}, rd_addr[11:WB_LOG]};
    wire [CW-1:0] rd_len = (rd_issue_left < BURST_C) ? ((rd_issue_left < page_left_rd) ? rd_issue_left : page_left_rd)
                                                   : ((BURST_C < page_left_rd) ? BURST_C : page_left_rd);
    assign m_axi_gmem_arvalid = arvalid_r;
    assign m_axi_gmem_araddr = araddr_r;
    assign m_axi_gmem_arlen = arlen_r;
    assign m_axi_gmem_arsize = WB_LOG[2:0];
    assign m_axi_gmem_arburst = 2'b01;  // INCR
    assign m_axi_gmem_rready = rd_busy && !arvalid_r && !rf_full;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            arvalid_r <= 1'b0; arlen_r <= 8'd0; araddr_r <= 64'd0;
            rd_busy <= 1'b0; rd_issue_left <= 0; rd_addr <= 64'd0;
        end else begin
            if (state == SETUP) begin
                rd_issue_left <= (in_total + IN_PER_C - 1'b1) / IN_PER_C;
                rd_addr <= x_addr;
            end else if (state == RUN && !rd_busy && rd_issue_left != 0
                         && (FIFO_DEPTH - {{(32 - FW){1'b0}}, rf_count}) >= BURST) begin
                arvalid_r <= 1'b1;
                araddr_r <= rd_addr;
                arlen_r <= rd_len[7:0] - 8'd1;
                rd_addr <= rd_addr + ({{(64 - CW){1'b0}}, rd_len} << WB_LOG);
                rd_issue_left <= rd_issue_left - rd_len;
                rd_busy <= 1'b1;
            end
            if (arvalid_r && m_axi_gmem_arready) arvalid_r <= 1'b0;
            if (m_axi_gmem_rvalid && m_axi_gmem_rready && m_axi_gmem_rlast) rd_busy <= 1'b0;
        end
    end

    qloom_alveo_fifo #(.W(DW), .DEPTH(FIFO_DEPTH)) u_rfifo (
        .clk(ap_clk), .rst_n(ap_rst_n),
        .push(m_axi_gmem_rvalid && m_axi_gmem_rready), .din(m_axi_gmem_rdata),
        .pop(rf_pop), .dout(rf_head), .count(rf_count), .full(rf_full), .empty(rf_empty));

    // unpacker: memory words -> s_axis beats
    reg [DW-1:0] cur;
    reg cur_valid;
    reg [SW-1:0] slot;
    wire s_tready;
    wire s_fire = cur_valid && s_tready;
    wire cur_last = (slot == SLOT_LAST) || (in_sent + 1'b1 == in_total);
    assign rf_pop = !rf_empty && (!cur_valid || (s_fire && cur_last));
    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            cur <= {DW{1'b0}}; cur_valid <= 1'b0; slot <= {SW{1'b0}}; in_sent <= 0;
        end else begin
            if (state == SETUP) in_sent <= 0;
            if (s_fire) in_sent <= in_sent + 1'b1;
            if (rf_pop) begin
                cur <= rf_head; cur_valid <= 1'b1; slot <= {SW{1'b0}};
            end else if (s_fire) begin
                cur <= cur >> IN_PAD;
                slot <= slot + 1'b1;
                if (cur_last) cur_valid <= 1'b0;
            end
        end
    end

    // ------------------------------------------------------------ qloom_top
    wire [OUT_W-1:0] m_tdata;
    wire m_tvalid;
    wire [FW-1:0] wf_count;
    wire wf_full, wf_empty;
    wire m_tready = (state == RUN) && !wf_full;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [DW-1:0] cur_all = cur;
    /* verilator lint_on UNUSEDSIGNAL */
    qloom_top u_top (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n),
        .s_axis_tdata(cur_all[IN_W-1:0]), .s_axis_tvalid(cur_valid), .s_axis_tready(s_tready),
        .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready));

    // packer: m_axis beats -> memory words
    reg [DW-1:0] acc;
    reg [OW-1:0] oslot;
    wire m_fire = m_tvalid && m_tready;
    wire word_end = (oslot == OSLOT_LAST) || (out_recv + 1'b1 == out_total);
    wire [OUT_PAD-1:0] m_slot = {{(OUT_PAD - OUT_W){1'b0}}, m_tdata};
    reg [DW-1:0] acc_next;
    always @(*) begin
        acc_next = acc;
        acc_next[oslot * OUT_PAD +: OUT_PAD] = m_slot;
    end
    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            acc <= {DW{1'b0}}; oslot <= {OW{1'b0}}; out_recv <= 0;
        end else begin
            if (state == SETUP) out_recv <= 0;
            if (m_fire) begin
                out_recv <= out_recv + 1'b1;
                if (word_end) begin
                    acc <= {DW{1'b0}}; oslot <= {OW{1'b0}};
                end else begin
                    acc <= acc_next; oslot <= oslot + 1'b1;
                end
            end
        end
    end

    // ------------------------------------------------------------ write engine
    wire wf_pop;
    wire [DW-1:0] wf_head;
    qloom_alveo_fifo #(.W(DW), .DEPTH(FIFO_DEPTH)) u_wfifo (
        .clk(ap_clk), .rst_n(ap_rst_n),
        .push(m_fire && word_end), .din(acc_next),
        .pop(wf_pop), .dout(wf_head), .count(wf_count), .full(wf_full), .empty(wf_empty));

    reg awvalid_r;
    reg [7:0] awlen_r;
    reg [63:0] awaddr_r;
    reg [LW-1:0] w_left;
    reg [8:0] burst_len;
    wire [CW-1:0] page_left_wr = PAGE_C - {{(CW - 12 + WB_LOG){1'b0}}, wr_addr[11:WB_LOG]};
    wire [CW-1:0] wr_len = (wr_issue_left < BURST_C) ? ((wr_issue_left < page_left_wr) ? wr_issue_left : page_left_wr)
                                                   : ((BURST_C < page_left_wr) ? BURST_C : page_left_wr);
    assign m_axi_gmem_awvalid = awvalid_r;
    assign m_axi_gmem_awaddr = awaddr_r;
    assign m_axi_gmem_awlen = awlen_r;
    assign m_axi_gmem_awsize = WB_LOG[2:0];
    assign m_axi_gmem_awburst = 2'b01;
    assign m_axi_gmem_wvalid = wr_busy && aw_done && (w_left != 0);
    assign m_axi_gmem_wdata = wf_head;
    assign m_axi_gmem_wstrb = {(DW / 8){1'b1}};
    assign m_axi_gmem_wlast = (w_left == 1);
    assign m_axi_gmem_bready = b_wait;
    assign wf_pop = m_axi_gmem_wvalid && m_axi_gmem_wready;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            awvalid_r <= 1'b0; awlen_r <= 8'd0; awaddr_r <= 64'd0; w_left <= {LW{1'b0}}; burst_len <= 9'd0;
            wr_busy <= 1'b0; aw_done <= 1'b0; b_wait <= 1'b0; wr_issue_left <= 0; wr_addr <= 64'd0; wr_acked <= 0;
        end else begin
            if (state == SETUP) begin
                wr_issue_left <= (out_total + OUT_PER_C - 1'b1) / OUT_PER_C;
                wr_addr <= y_addr;
                wr_acked <= 0;
            end else if (state == RUN && !wr_busy && wr_issue_left != 0
                         && {{(CW - FW){1'b0}}, wf_count} >= wr_len) begin
                awvalid_r <= 1'b1;
                awaddr_r <= wr_addr;
                awlen_r <= wr_len[7:0] - 8'd1;
                w_left <= wr_len[LW-1:0];
                burst_len <= wr_len[8:0];
                wr_addr <= wr_addr + ({{(64 - CW){1'b0}}, wr_len} << WB_LOG);
                wr_issue_left <= wr_issue_left - wr_len;
                wr_busy <= 1'b1;
                aw_done <= 1'b0;
            end
            if (awvalid_r && m_axi_gmem_awready) begin awvalid_r <= 1'b0; aw_done <= 1'b1; end
            if (wf_pop) begin
                w_left <= w_left - 1'b1;
                if (w_left == 1) b_wait <= 1'b1;
            end
            if (m_axi_gmem_bvalid && b_wait) begin
                b_wait <= 1'b0; wr_busy <= 1'b0; aw_done <= 1'b0;
                wr_acked <= wr_acked + {{(CW - 9){1'b0}}, burst_len};
            end
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, m_axi_gmem_bresp, m_axi_gmem_rresp, wf_empty, s_axi_control_araddr[11:8],
                       s_axi_control_araddr[1:0], aw_a[11:8], aw_a[1:0]};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

// First-word-fall-through FIFO of DEPTH words (a power of two).
/* verilator lint_off DECLFILENAME */
module qloom_alveo_fifo #(
    parameter integer W = 512,
    parameter integer DEPTH = 32
) (
    input  wire clk,
    input  wire rst_n,
    input  wire push,
    input  wire [W-1:0] din,
    input  wire pop,
    output wire [W-1:0] dout,
    output wire [$clog2(DEPTH + 1)-1:0] count,
    output wire full,
    output wire empty
);
    localparam integer AW = $clog2(DEPTH);
    reg [W-1:0] mem [0:DEPTH-1];
    reg [AW-1:0] rp, wp;
    reg [AW:0] n;
    assign dout = mem[rp];
    assign count = n;
    localparam [AW:0] DEPTH_C = DEPTH[AW:0];
    assign full = (n == DEPTH_C);
    assign empty = (n == 0);
    always @(posedge clk) begin
        if (!rst_n) begin
            rp <= {AW{1'b0}}; wp <= {AW{1'b0}}; n <= {(AW + 1){1'b0}};
        end else begin
            if (push && !full) begin mem[wp] <= din; wp <= wp + 1'b1; end
            if (pop && !empty) rp <= rp + 1'b1;
            n <= n + {{AW{1'b0}}, push && !full} - {{AW{1'b0}}, pop && !empty};
        end
    end
endmodule
/* verilator lint_on DECLFILENAME */

`default_nettype wire
