// qloom_swg: sliding window generator (im2col as a stream).
//
// Parameters
//   IFM_DIM_H, IFM_DIM_W   input image height, width
//   CHANNELS, SIMD         channels; SIMD channels per beat (CHANNELS % SIMD == 0), CF = CHANNELS/SIMD
//   K_H, K_W               kernel
//   S_H, S_W               stride
//   PAD_T, PAD_B, PAD_L, PAD_R   zero padding (the padding value is all-zero bits, the
//                          integer 0 of signed, unsigned and of the ±1-free encodings)
//   ELEM_BITS              element width
//   RAM_STYLE              "auto" | "block" | "distributed" (attribute of the line buffer)
//   OFM_DIM_H = (IFM_DIM_H + PAD_T + PAD_B - K_H) / S_H + 1 (floor), OFM_DIM_W likewise.
//
// Streams (NHWC, raster order, element i of a beat at bits [i*ELEM_BITS +: ELEM_BITS])
//   s_axis_tdata [SIMD*ELEM_BITS-1:0]: IFM_DIM_H*IFM_DIM_W*CF beats per frame,
//     beat (y, x, cf) holds channels cf*SIMD .. cf*SIMD+SIMD-1 of pixel (y, x).
//   m_axis_tdata [SIMD*ELEM_BITS-1:0]: for each output pixel (oy, ox) in raster order
//     the window in order (ky, kx, cf): OFM_DIM_H*OFM_DIM_W*K_H*K_W*CF beats per frame,
//     beat = padded_input[oy*S_H + ky - PAD_T][ox*S_W + kx - PAD_L][cf*SIMD +: SIMD].
//
// Architecture
//   A circular line buffer of R whole input rows (slot = row mod R).  The writer
//   stores a row when a slot is free; the reader starts output row oy when every
//   input row it needs is complete, and then releases the rows no later window
//   needs.  Rows are counted continuously across frames, so the next frame's
//   rows are loaded while the current frame's last windows are still read.
//   R = max(K_H + S_H, LEFT + NEED0) where NEED0 = rows needed by output row 0
//   and LEFT = rows still held at the end of a frame: enough to overlap input
//   and output completely (and never dead-lock); plus one spare row when the
//   output has fewer than twice as many beats as the input (input-bound).
//
// Cycles (no stalls)
//   1 output beat per cycle and 1 input beat per cycle, concurrently:
//   steady state about max(OUT_BEATS, IN_BEATS) cycles per frame, with
//   OUT_BEATS = OFM_H*OFM_W*K_H*K_W*CF, IN_BEATS = IFM_H*IFM_W*CF (see
//   qloom.rtl.cycles.cycles_swg).  Latency: the first output beat leaves ~4
//   cycles after the last input beat of input row K_H-1-PAD_T arrives.
//   s_axis_tready and m_axis_t* come from registers (no combinational path).
//
// Memory use
//   line buffer R * IFM_DIM_W * CF words of SIMD*ELEM_BITS bits (simple dual port)
//   + output FIFO (qloom_fifo, 5 words, distributed).
//
// Depends on: qloom_fifo.v
`default_nettype none

module qloom_swg #(
    parameter integer IFM_DIM_H = 5,
    parameter integer IFM_DIM_W = 5,
    parameter integer CHANNELS = 2,
    parameter integer SIMD = 1,
    parameter integer K_H = 3,
    parameter integer K_W = 3,
    parameter integer S_H = 1,
    parameter integer S_W = 1,
    parameter integer PAD_T = 0,
    parameter integer PAD_B = 0,
    parameter integer PAD_L = 0,
    parameter integer PAD_R = 0,
    parameter integer ELEM_BITS = 8,
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                      ap_clk,
    input  wire                      ap_rst_n,
    input  wire [SIMD*ELEM_BITS-1:0] s_axis_tdata,
    input  wire                      s_axis_tvalid,
    output wire                      s_axis_tready,
    output wire [SIMD*ELEM_BITS-1:0] m_axis_tdata,
    output wire                      m_axis_tvalid,
    input  wire                      m_axis_tready
);
    localparam integer DW = SIMD * ELEM_BITS;
    localparam integer CF = CHANNELS / SIMD;
    localparam integer OFM_H = (IFM_DIM_H + PAD_T + PAD_B - K_H) / S_H + 1;
    localparam integer OFM_W = (IFM_DIM_W + PAD_L + PAD_R - K_W) / S_W + 1;
    localparam integer ROWW = IFM_DIM_W * CF;                  // beats per input row
    // rows needed by output row 0, rows held at the end of a frame
    localparam integer NEED0_A = (K_H - PAD_T < 0) ? 0 : K_H - PAD_T;
    localparam integer NEED0 = (NEED0_A > IFM_DIM_H) ? IFM_DIM_H : NEED0_A;
    localparam integer LAST_LO_A = (OFM_H - 1) * S_H - PAD_T;
    localparam integer LAST_LO_B = (LAST_LO_A < 0) ? 0 : LAST_LO_A;
    localparam integer LAST_LO = (LAST_LO_B > IFM_DIM_H) ? IFM_DIM_H : LAST_LO_B;
    localparam integer LEFT = IFM_DIM_H - LAST_LO;
    localparam integer R_A = K_H + S_H;
    localparam integer R_B = (LEFT + NEED0 > R_A) ? LEFT + NEED0 : R_A;
    // when the input side is (nearly) the bottleneck, one spare row lets the writer
    // start the next row before the reader has released the oldest one
    localparam integer OUT_BEATS = OFM_H * OFM_W * K_H * K_W * CF;
    localparam integer IN_BEATS = IFM_DIM_H * ROWW;
    localparam integer R = (OUT_BEATS < 2 * IN_BEATS) ? R_B + 1 : R_B;
    localparam integer DEPTH = R * ROWW;
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    // signed coordinate width: covers -IFM_DIM_H-R .. IFM + pads + K + R
    localparam integer SW = $clog2(2 * (IFM_DIM_H + IFM_DIM_W + PAD_T + PAD_B + PAD_L + PAD_R
                                        + K_H + K_W + S_H + S_W + R + DEPTH) + 4) + 2;
    localparam integer CREDITS = 5;
    localparam integer PCW = 3;

    // signed constants at SW bits
    localparam integer IFM_H_I = IFM_DIM_H;
    localparam integer IFM_W_I = IFM_DIM_W;
    localparam integer R_I = R;
    localparam integer KH1_I = K_H - 1;
    localparam integer S_H_I = S_H;
    localparam integer S_W_I = S_W;
    localparam integer NPT_I = -PAD_T;
    localparam integer NPL_I = -PAD_L;
    localparam integer ROWW_I = ROWW;
    localparam integer CF_I = CF;
    localparam integer CF1_I = CF - 1;
    localparam integer KW1_I = K_W - 1;
    localparam integer OW1_I = OFM_W - 1;
    localparam integer OH1_I = OFM_H - 1;
    localparam integer ROWW1_I = ROWW - 1;
    localparam integer DEPTHR_I = DEPTH - ROWW;
    localparam integer CRED_I = CREDITS;
    localparam [SW-1:0] C_IFM_H = IFM_H_I[SW-1:0];
    localparam [SW-1:0] C_IFM_W = IFM_W_I[SW-1:0];
    localparam [SW-1:0] C_R = R_I[SW-1:0];
    localparam [SW-1:0] C_KH1 = KH1_I[SW-1:0];
    localparam [SW-1:0] C_S_H = S_H_I[SW-1:0];
    localparam [SW-1:0] C_S_W = S_W_I[SW-1:0];
    localparam [SW-1:0] C_NPT = NPT_I[SW-1:0];
    localparam [SW-1:0] C_NPL = NPL_I[SW-1:0];
    localparam [SW-1:0] C_ROWW = ROWW_I[SW-1:0];
    localparam [SW-1:0] C_CF = CF_I[SW-1:0];
    localparam [SW-1:0] C_CF1 = CF1_I[SW-1:0];
    localparam [SW-1:0] C_KW1 = KW1_I[SW-1:0];
    localparam [SW-1:0] C_OW1 = OW1_I[SW-1:0];
    localparam [SW-1:0] C_OH1 = OH1_I[SW-1:0];
    localparam [SW-1:0] C_ROWW1 = ROWW1_I[SW-1:0];
    localparam [SW-1:0] C_DEPTHR = DEPTHR_I[SW-1:0];
    localparam [PCW-1:0] C_CRED = CRED_I[PCW-1:0];
    localparam [SW-1:0] ZERO = {SW{1'b0}};
    localparam [SW-1:0] ONE = {{(SW-1){1'b0}}, 1'b1};

    (* ram_style = RAM_STYLE *) reg [DW-1:0] mem [0:DEPTH-1];

    // ------------------------------------------------------------------ row accounting
    reg signed [SW-1:0] held;    // row slots in use (complete or being written)
    reg signed [SW-1:0] avail;   // complete rows not yet released
    wire w_begin, w_end;         // writer starts / completes a row (this cycle)
    wire signed [SW-1:0] rel;    // rows released by the reader (this cycle)

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            held <= ZERO;
            avail <= ZERO;
        end else begin
            held <= held + (w_begin ? ONE : ZERO) - rel;
            avail <= avail + (w_end ? ONE : ZERO) - rel;
        end
    end

    // ------------------------------------------------------------------ writer
    reg [SW-1:0] wcol;           // beat index within the row
    reg [SW-1:0] wbase;          // slot * ROWW of the row being written
    wire in_row = (wcol != ZERO);
    assign s_axis_tready = in_row || (held < $signed(C_R));
    wire w_fire = s_axis_tvalid && s_axis_tready;
    assign w_begin = w_fire && !in_row;
    assign w_end = w_fire && (wcol == C_ROWW1);
    wire [SW-1:0] waddr = wbase + wcol;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            wcol <= ZERO;
            wbase <= ZERO;
        end else if (w_fire) begin
            if (w_end) begin
                wcol <= ZERO;
                wbase <= (wbase == C_DEPTHR) ? ZERO : wbase + C_ROWW;
            end else begin
                wcol <= wcol + ONE;
            end
        end
    end

    always @(posedge ap_clk) begin
        if (w_fire) mem[waddr[AW-1:0]] <= s_axis_tdata;
    end

    // ------------------------------------------------------------------ reader
    reg [SW-1:0] oy, ox, ky, kx, cf;
    reg signed [SW-1:0] iy0, ix0;       // oy*S_H - PAD_T, ox*S_W - PAD_L
    reg signed [SW-1:0] rlo;            // first row (frame relative) not yet released
    reg [SW-1:0] slot_lo;               // slot of row rlo
    reg row_open;                       // output row oy has started (its rows are present)
    reg [PCW-1:0] pending;              // beats issued and not yet consumed downstream
    wire out_fire;

    // rows needed by output row oy: lo .. hi (clipped to the image)
    wire signed [SW-1:0] r_lo_a = (iy0 < $signed(ZERO)) ? $signed(ZERO) : iy0;
    wire signed [SW-1:0] r_lo = (r_lo_a > $signed(C_IFM_H)) ? $signed(C_IFM_H) : r_lo_a;
    wire signed [SW-1:0] r_hi_a = iy0 + $signed(C_KH1);
    wire signed [SW-1:0] r_hi = (r_hi_a >= $signed(C_IFM_H)) ? $signed(C_IFM_H) - $signed(ONE) : r_hi_a;
    wire signed [SW-1:0] need = r_hi + $signed(ONE) - rlo;
    wire rows_ok = row_open || (avail >= need);
    wire credit_ok = (pending != C_CRED);
    wire issue = rows_ok && credit_ok;

    // effective release state for this beat (the row opens in this cycle if !row_open)
    wire signed [SW-1:0] rel_n = r_lo - rlo;
    wire [SW-1:0] slot_sum = slot_lo + rel_n;
    wire [SW-1:0] slot_lo_n = ($signed(slot_sum) >= $signed(C_R)) ? slot_sum - C_R : slot_sum;
    wire signed [SW-1:0] rlo_e = row_open ? rlo : r_lo;
    wire [SW-1:0] slot_lo_e = row_open ? slot_lo : slot_lo_n;
    assign rel = (issue && !row_open) ? rel_n : ZERO;

    // this beat's input coordinates and buffer address
    wire signed [SW-1:0] iy = iy0 + $signed(ky);
    wire signed [SW-1:0] ix = ix0 + $signed(kx);
    wire is_pad = (iy < $signed(ZERO)) || (iy >= $signed(C_IFM_H)) ||
                  (ix < $signed(ZERO)) || (ix >= $signed(C_IFM_W));
    wire [SW-1:0] slot_s = slot_lo_e + (iy - rlo_e);
    wire [SW-1:0] slot = ($signed(slot_s) >= $signed(C_R)) ? slot_s - C_R : slot_s;
    wire [SW-1:0] raddr = slot * C_ROWW + ix * C_CF + cf;

    wire last_cf = (cf == C_CF1);
    wire last_kx = (kx == C_KW1);
    wire last_ky = (ky == C_KH1);
    wire last_ox = (ox == C_OW1);
    wire last_oy = (oy == C_OH1);
    wire last_win = last_cf && last_kx && last_ky;
    wire last_row = last_win && last_ox;
    wire last_frame = last_row && last_oy;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            oy <= ZERO; ox <= ZERO; ky <= ZERO; kx <= ZERO; cf <= ZERO;
            iy0 <= $signed(C_NPT);
            ix0 <= $signed(C_NPL);
            rlo <= $signed(ZERO);
            slot_lo <= ZERO;
            row_open <= 1'b0;
        end else if (issue) begin
            // release bookkeeping (frame wrap: rows are numbered relative to the next frame)
            rlo <= last_frame ? rlo_e - $signed(C_IFM_H) : rlo_e;
            slot_lo <= slot_lo_e;
            row_open <= !last_row;
            cf <= last_cf ? ZERO : cf + ONE;
            if (last_cf) begin
                kx <= last_kx ? ZERO : kx + ONE;
                if (last_kx) begin
                    ky <= last_ky ? ZERO : ky + ONE;
                    if (last_ky) begin
                        ox <= last_ox ? ZERO : ox + ONE;
                        ix0 <= last_ox ? $signed(C_NPL) : ix0 + $signed(C_S_W);
                        if (last_ox) begin
                            oy <= last_oy ? ZERO : oy + ONE;
                            iy0 <= last_oy ? $signed(C_NPT) : iy0 + $signed(C_S_H);
                        end
                    end
                end
            end
        end
    end

    always @(posedge ap_clk) begin
        if (!ap_rst_n) pending <= {PCW{1'b0}};
        else if (issue && !out_fire) pending <= pending + 1'b1;
        else if (!issue && out_fire) pending <= pending - 1'b1;
    end

    // buffer read (synchronous) and padding
    reg [DW-1:0] rdata;
    reg v1, pad1;
    always @(posedge ap_clk) begin
        if (issue) rdata <= mem[raddr[AW-1:0]];
    end
    always @(posedge ap_clk) begin
        if (!ap_rst_n) v1 <= 1'b0;
        else v1 <= issue;
        if (issue) pad1 <= is_pad;
    end
    wire [DW-1:0] odata = pad1 ? {DW{1'b0}} : rdata;

    // unused high address bits (AW < SW) are zero by construction
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_hi = |{waddr[SW-1:AW], raddr[SW-1:AW]};
    /* verilator lint_on UNUSEDSIGNAL */

    // ------------------------------------------------------------------ output queue
    // never overflows: at most CREDITS beats in flight, the FIFO holds CREDITS + 1
    /* verilator lint_off UNUSEDSIGNAL */
    wire fifo_in_ready;
    /* verilator lint_on UNUSEDSIGNAL */
    qloom_fifo #(
        .WIDTH(DW),
        .DEPTH(CREDITS),
        .RAM_STYLE("distributed")
    ) u_out (
        .ap_clk(ap_clk),
        .ap_rst_n(ap_rst_n),
        .s_axis_tdata(odata),
        .s_axis_tvalid(v1),
        .s_axis_tready(fifo_in_ready),
        .m_axis_tdata(m_axis_tdata),
        .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready)
    );
    assign out_fire = m_axis_tvalid && m_axis_tready;
endmodule

`default_nettype wire
