// qloom_mo_top: the MO engine (qloom_mo_engine) behind an AXI4-Lite control port, the
// register map of a Vitis HLS ap_ctrl_hs block (what PYNQ's DefaultIP and the qloom driver
// program), and its AXI4 master to DRAM (a Zynq HP port).
//
//   0x00 CTRL   bit 0 ap_start (write 1: run the descriptor stream once; reads 1 while
//               running), bit 1 ap_done (set at END, cleared by the next start),
//               bit 2 ap_idle, bit 4 error (an unsupported descriptor)
//   0x10 BASE   DRAM byte address of the image buffer (4 KiB aligned): the engine adds it to
//               every address of the image (header, descriptors, weights, feature maps)
//   0x18 DESC   the descriptors' offset in the image (the header's desc_addr)
//
// A start holds the engine in reset for one cycle, then pulses its start: every run begins
// from the same state (buffers' contents aside, which the schedule never reads before
// writing). AXI4-Lite: one outstanding write (AW and W together) and one read; OKAY only.
`timescale 1ns/1ps
module qloom_mo_top #(
    parameter IBUF = 4096,
    parameter WBUF = 16384,
    parameter TBUF = 4096,
    parameter OBUF = 4096,
    parameter DB = 1,
    parameter PE = 1,
    parameter SIMD = 1,
    parameter DW = 32,
    parameter XBITS = 32,
    parameter WBITS = 32
) (
    input  wire          ap_clk,
    input  wire          ap_rst_n,
    // AXI4-Lite control
    input  wire [5:0]    s_axi_control_awaddr,
    input  wire          s_axi_control_awvalid,
    output wire          s_axi_control_awready,
    input  wire [31:0]   s_axi_control_wdata,
    input  wire [3:0]    s_axi_control_wstrb,
    input  wire          s_axi_control_wvalid,
    output wire          s_axi_control_wready,
    output wire          s_axi_control_bvalid,
    input  wire          s_axi_control_bready,
    output wire [1:0]    s_axi_control_bresp,
    input  wire [5:0]    s_axi_control_araddr,
    input  wire          s_axi_control_arvalid,
    output wire          s_axi_control_arready,
    output wire [31:0]   s_axi_control_rdata,
    output wire          s_axi_control_rvalid,
    input  wire          s_axi_control_rready,
    output wire [1:0]    s_axi_control_rresp,
    // AXI4 master (DRAM)
    output wire [31:0]   m_axi_gmem_araddr,
    output wire [7:0]    m_axi_gmem_arlen,
    output wire [2:0]    m_axi_gmem_arsize,
    output wire [1:0]    m_axi_gmem_arburst,
    output wire          m_axi_gmem_arvalid,
    input  wire          m_axi_gmem_arready,
    input  wire [DW-1:0] m_axi_gmem_rdata,
    input  wire          m_axi_gmem_rlast,
    input  wire          m_axi_gmem_rvalid,
    output wire          m_axi_gmem_rready,
    output wire [31:0]   m_axi_gmem_awaddr,
    output wire [7:0]    m_axi_gmem_awlen,
    output wire [2:0]    m_axi_gmem_awsize,
    output wire [1:0]    m_axi_gmem_awburst,
    output wire          m_axi_gmem_awvalid,
    input  wire          m_axi_gmem_awready,
    output wire [DW-1:0] m_axi_gmem_wdata,
    output wire [DW/8-1:0] m_axi_gmem_wstrb,
    output wire          m_axi_gmem_wlast,
    output wire          m_axi_gmem_wvalid,
    input  wire          m_axi_gmem_wready,
    input  wire          m_axi_gmem_bvalid,
    output wire          m_axi_gmem_bready
);
    reg [31:0] base, desc, rdata;
    reg        bvalid, rvalid;
    assign s_axi_control_bvalid = bvalid;
    assign s_axi_control_rvalid = rvalid;
    assign s_axi_control_rdata = rdata;
    reg        running, done_r, err_r;
    reg [1:0]  kick;  // 2: engine in reset, 1: engine start
    wire       e_done, e_error;

    // ------------------------------------------------------------ AXI4-Lite
    assign s_axi_control_awready = !bvalid && s_axi_control_awvalid && s_axi_control_wvalid;
    assign s_axi_control_wready = s_axi_control_awready;
    assign s_axi_control_bresp = 2'b00;
    assign s_axi_control_arready = !rvalid;
    assign s_axi_control_rresp = 2'b00;
    wire wr = s_axi_control_awready;  // AW and W together

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            bvalid <= 1'b0; rvalid <= 1'b0;
            base <= 32'd0; desc <= 32'd64; running <= 1'b0; done_r <= 1'b0; err_r <= 1'b0; kick <= 2'd0;
        end else begin
            if (bvalid && s_axi_control_bready) bvalid <= 1'b0;
            if (wr) begin
                bvalid <= 1'b1;
                case (s_axi_control_awaddr)
                    6'h00: if (s_axi_control_wdata[0] && !running) begin
                        running <= 1'b1; done_r <= 1'b0; err_r <= 1'b0; kick <= 2'd2;
                    end
                    6'h10: base <= s_axi_control_wdata;
                    6'h18: desc <= s_axi_control_wdata;
                    default: ;
                endcase
            end
            if (kick != 0) kick <= kick - 2'd1;
            if (running && kick == 0 && (e_done || e_error)) begin
                running <= 1'b0; done_r <= 1'b1; err_r <= e_error;
            end
            if (rvalid && s_axi_control_rready) rvalid <= 1'b0;
            if (s_axi_control_arvalid && s_axi_control_arready) begin
                rvalid <= 1'b1;
                case (s_axi_control_araddr)
                    6'h00: rdata <= {27'd0, err_r, 1'b0, !running, done_r, running};
                    6'h10: rdata <= base;
                    6'h18: rdata <= desc;
                    default: rdata <= 32'd0;
                endcase
            end
        end
    end

    // ------------------------------------------------------------ the engine
    localparam [2:0] SIZE = $clog2(DW / 8);
    assign m_axi_gmem_arsize = SIZE;
    assign m_axi_gmem_awsize = SIZE;
    assign m_axi_gmem_arburst = 2'b01;  // INCR
    assign m_axi_gmem_awburst = 2'b01;
    qloom_mo_engine #(.IBUF(IBUF), .WBUF(WBUF), .TBUF(TBUF), .OBUF(OBUF), .DB(DB), .PE(PE), .SIMD(SIMD),
                      .DW(DW), .XBITS(XBITS), .WBITS(WBITS)) engine (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n && kick != 2'd2), .start(kick == 2'd1), .desc_addr(desc),
        .base(base), .done(e_done), .error(e_error),
        .m_axi_araddr(m_axi_gmem_araddr), .m_axi_arlen(m_axi_gmem_arlen), .m_axi_arvalid(m_axi_gmem_arvalid),
        .m_axi_arready(m_axi_gmem_arready), .m_axi_rdata(m_axi_gmem_rdata), .m_axi_rlast(m_axi_gmem_rlast),
        .m_axi_rvalid(m_axi_gmem_rvalid), .m_axi_rready(m_axi_gmem_rready),
        .m_axi_awaddr(m_axi_gmem_awaddr), .m_axi_awlen(m_axi_gmem_awlen), .m_axi_awvalid(m_axi_gmem_awvalid),
        .m_axi_awready(m_axi_gmem_awready), .m_axi_wdata(m_axi_gmem_wdata), .m_axi_wstrb(m_axi_gmem_wstrb),
        .m_axi_wlast(m_axi_gmem_wlast), .m_axi_wvalid(m_axi_gmem_wvalid), .m_axi_wready(m_axi_gmem_wready),
        .m_axi_bvalid(m_axi_gmem_bvalid), .m_axi_bready(m_axi_gmem_bready));
endmodule
