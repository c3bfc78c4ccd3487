// qloom_mo_engine: the MO engine, first slice (qloom.mo; FINN-R Sec. 3.2 memory-optimized
// architecture). It runs the descriptor stream of a qloom.mo schedule from DRAM through one
// AXI4 master (32-bit data; INCR bursts of up to 256 beats): per descriptor it fetches the
// 128-byte record, loads the input rows (LOAD_IN), the weight block and its thresholds
// (LOAD_W), computes, and writes the output rows (STORE_OUT); END raises done.
//
// This slice: PE rows in parallel, SIMD = 1 (PE MACs per cycle); MVAU layers (opcode 1), fully connected
// (FLAT) or behind the window generator (convolution: K, stride, pads, pad value), with or
// without thresholds; max / sum pools (opcodes 2, 3); integer / bipolar operands, runtime bit
// widths (the layout of qloom.mo.layout: records of fields, whole bytes per record). Phases
// run one after another (no double buffering yet): per descriptor, cycles
//   fetch + loads + pixels * folds * (MW + NT + PE) + store  (MVAU: PE outputs written one
//                                                             per cycle)
//   fetch + loads + pixels * C * (KH*KW + 1) + store         (pools)
// (qloom.mo.model.serial_cycles). Other opcodes set error and stop.
//
// Double buffering (DB = 1): three processes share the AXI4 port -- the loader fetches the
// next descriptor and its loads into the other halves of the descriptor, input, weight and
// threshold buffers while the compute unit runs the current one; the storer writes an
// output half while the compute unit fills the other. A descriptor with BARRIER (the first
// tile of a layer) waits for every earlier store. Then a tile costs about max(compute,
// memory) (qloom.mo.model.cycles with the engine's compute formula). DB = 0 runs the
// phases one after another.
`timescale 1ns/1ps
module qloom_mo_engine #(
    parameter IBUF = 4096,  // bytes of the input buffer
    parameter WBUF = 16384, // bytes of the weight buffer
    parameter TBUF = 4096,  // bytes of the threshold buffer
    parameter OBUF = 4096,  // bytes of the output buffer
    parameter DB = 1,       // 1: double buffering (loads and stores overlap compute); 0: serial
    parameter PE = 1,       // MVAU rows (output channels) computed in parallel
    parameter SIMD = 1,     // MVAU input elements per cycle (columns of the weight word)
    parameter DW = 32,      // AXI4 data width, bits (32, 64 or 128: the board's HP port)
    parameter XBITS = 32,   // the widest input element of any MVAU layer (bits, incl. its pad value)
    parameter WBITS = 32    // the widest weight (bits): the MAC multiplies (XBITS+1) x (WBITS+1)
) (
    input  wire        ap_clk,
    input  wire        ap_rst_n,
    input  wire        start,
    input  wire [31:0] desc_addr,
    input  wire [31:0] base,   // DRAM byte address of the image (4 KiB aligned); every
                               // address in the image is relative to it
    output reg         done,
    output reg         error,
    // AXI4 read address / data
    output reg  [31:0] m_axi_araddr,
    output reg  [7:0]  m_axi_arlen,
    output reg         m_axi_arvalid,
    input  wire        m_axi_arready,
    input  wire [DW-1:0] m_axi_rdata,
    input  wire        m_axi_rlast,
    input  wire        m_axi_rvalid,
    output wire        m_axi_rready,
    // AXI4 write address / data / response
    output reg  [31:0] m_axi_awaddr,
    output reg  [7:0]  m_axi_awlen,
    output reg         m_axi_awvalid,
    input  wire        m_axi_awready,
    output reg  [DW-1:0] m_axi_wdata,
    output reg  [DW/8-1:0] m_axi_wstrb,
    output reg         m_axi_wlast,
    output reg         m_axi_wvalid,
    input  wire        m_axi_wready,
    input  wire        m_axi_bvalid,
    output wire        m_axi_bready
);
    // ---------------------------------------------------------------- buffers (2 halves)
    // Word-addressed memories of DW-bit words (one AXI beat), ONE write port each (the
    // loader's realigned beat, or for the output buffer the compute unit's field): what
    // Yosys' memory pass can map to LUT-RAM / block RAM instead of flip-flops behind
    // byte-address multiplexers. A field (at most 32 bits, read as a 40-bit window at any
    // bit address) lies in two consecutive words: bytes at byte address a of a half are
    // ({mem[w + 1], mem[w]} >> 8 * (a mod NB)) with w = a / NB. Each half has 2 spare words
    // (the second word of a window, the realigner's last word).
    localparam NB = DW / 8, LB = $clog2(DW / 8);  // bytes per beat, log2
    localparam IHW = (IBUF + NB - 1) / NB + 2, WHW = (WBUF + NB - 1) / NB + 2,
               THW = (TBUF + NB - 1) / NB + 2;
    // output: two banks (even / odd words) so that a field's two words are written in one
    // cycle through one write port per bank; data byte j of half h at half-linear byte
    // j + NB (one spare word in front: the storer's first beat may start before the tile)
    localparam OHW = 2 * (((OBUF + NB - 1) / NB + 4) / 2);  // words per half, even
    localparam DSW = 128 / NB;  // descriptor words per slot
    reg [DW-1:0] dbuf [0:2*DSW-1];
    reg [DW-1:0] ibuf [0:2*IHW-1];
    reg [DW-1:0] wbuf [0:2*WHW-1];
    reg [DW-1:0] tbuf [0:2*THW-1];
    reg [DW-1:0] obe [0:OHW-1];  // output words 0, 2, 4, ... of both halves
    reg [DW-1:0] obo [0:OHW-1];  // output words 1, 3, 5, ...
    integer z;
    initial for (z = 0; z < OHW; z = z + 1) begin obe[z] = {DW{1'b0}}; obo[z] = {DW{1'b0}}; end

    // ---------------------------------------------------------------- slots (descriptors)
    reg        slot_ready [0:1];
    reg        in_h [0:1], w_h [0:1], t_h [0:1];  // the halves each slot's tile uses
    reg        cs;  // the slot the compute unit runs
    reg        ls;  // the slot the loader fills
    function [31:0] dw(input s, input integer k);
        dw = dbuf[DSW*s + (4*k) / NB] >> (8 * ((4*k) % NB));
    endfunction
    // compute-side fields (slot cs; qloom.mo.schedule.DESC_FIELDS order)
    wire [31:0] d_opcode = dw(cs, 0),  d_flags = dw(cs, 1),   d_ih = dw(cs, 2),  d_iw = dw(cs, 3);
    wire [31:0] d_ic = dw(cs, 4),      d_oh = dw(cs, 5),      d_ow = dw(cs, 6),  d_oc = dw(cs, 7);
    wire [31:0] d_k = dw(cs, 8),       d_s = dw(cs, 9),       d_pads = dw(cs, 10), d_padv = dw(cs, 11);
    wire [31:0] d_bits = dw(cs, 12),   d_row0 = dw(cs, 25),   d_rows = dw(cs, 26), d_irow0 = dw(cs, 27);
    wire [31:0] d_mh = dw(cs, 13),     d_mw = dw(cs, 14),     d_nt = dw(cs, 15), d_bias = dw(cs, 16);
    wire [31:0] d_out_addr = dw(cs, 23), d_out_bytes = dw(cs, 24);
    wire [31:0] d_nf0 = dw(cs, 29),    d_nfs = dw(cs, 30);
    wire [7:0] in_bits = d_bits[7:0], w_bits = d_bits[15:8], out_bits = d_bits[23:16], t_bits = d_bits[31:24];
    // loader-side fields (slot ls)
    wire [31:0] l_opcode = dw(ls, 0), l_flags = dw(ls, 1);
    wire [31:0] l_in_addr = dw(ls, 17), l_in_bytes = dw(ls, 18), l_w_addr = dw(ls, 19), l_w_bytes = dw(ls, 20);
    wire [31:0] l_t_addr = dw(ls, 21), l_t_bytes = dw(ls, 22);
    localparam F_BARRIER = 2048;

    // a two-word read's first word index if both words lie inside the array (n words),
    // else 0: between tiles the datapath's addresses are formed from the next descriptor's
    // fields and the last tile's counters (e.g. input row -1), values nobody uses; kept in
    // range so no read leaves its array (Verilator masks an index to the array's address
    // bits and may read before it checks the bound: with 128 KiB halves that read left the
    // model). In-range indices are unchanged.
    function [31:0] inw(input [31:0] a, input [31:0] n);
        inw = (a + 32'd1 < n) ? a : 32'd0;
    endfunction
    // a field of `bits` (1..32) of a 40-bit window, sign-extended or bipolar
    function signed [39:0] ext(input [39:0] raw, input [7:0] bits, input sgn, input bip);
        reg [39:0] m;
        begin
            m = raw & ((40'd1 << bits) - 40'd1);
            if (bip) ext = m[0] ? 40'sd1 : -40'sd1;
            else if (sgn && m[bits - 1]) ext = $signed(m | ~((40'd1 << bits) - 40'd1));
            else ext = $signed(m);
        end
    endfunction

    // ---------------------------------------------------------------- AXI read (the loader's)
    // loads `ld_n` bytes from `ld_addr` into buffer `ld_buf` (0 desc, 1 in, 2 w, 3 t), half `ld_half`
    reg        ld_busy, ld_half;
    reg [1:0]  ld_buf;
    reg [31:0] ld_addr, ld_n, ld_next, ld_end, ld_beat_addr;
    reg        ld_ar_done;
    assign m_axi_rready = ld_busy && ld_ar_done;
    integer b;
    // The realigner: buffer word m holds DRAM bytes ld_addr + m*NB ..; with off = ld_addr mod
    // NB it is ({beat m+1, beat m} >> 8*off): written when beat m+1 arrives (off = 0: beat m
    // itself), the last word one cycle after the last beat (ld_flush). One word per cycle.
    reg [DW-1:0]   ld_prev;
    reg [31:0]     ld_wi;      // the next buffer word written
    reg            ld_first, ld_flush;
    wire [LB-1:0]  ld_off = ld_addr[LB-1:0];
    wire           beat = ld_busy && m_axi_rvalid && m_axi_rready;
    wire [2*DW-1:0] ld_pair = ld_flush ? {{DW{1'b0}}, ld_prev} : {m_axi_rdata, ld_prev};
    wire [DW-1:0]  ld_word = (ld_off == 0) ? m_axi_rdata : ld_pair >> (8 * ld_off);
    wire           ld_we = ld_flush || (beat && (ld_off == 0 || !ld_first));
    always @(posedge ap_clk) begin
        if (ld_we) begin
            case (ld_buf)
                2'd0: dbuf[DSW * ld_half + ld_wi] <= ld_word;
                2'd1: ibuf[IHW * ld_half + ld_wi] <= ld_word;
                2'd2: wbuf[WHW * ld_half + ld_wi] <= ld_word;
                default: tbuf[THW * ld_half + ld_wi] <= ld_word;
            endcase
        end
    end
    // a burst: at most 256 beats, never across a 4 KiB boundary (AXI4)
    wire [31:0] ar_4k = (32'd4096 - {20'd0, ld_next[11:0]}) >> LB;
    wire [31:0] ar_want = (ld_end - ld_next + NB - 1) >> LB;
    wire [31:0] ar_beats = (ar_want > ar_4k) ? ar_4k : ar_want;
    wire [7:0]  ar_len = (ar_beats > 256) ? 8'd255 : ar_beats[7:0] - 8'd1;

    // ---------------------------------------------------------------- states
    localparam L_IDLE = 0, L_SLOT = 1, L_DEC = 2, L_BAR = 3, L_LIN = 4, L_LW = 5, L_LT = 6, L_FIN = 7,
               L_LOAD = 8, L_STOP = 9;
    localparam C_WAIT = 0, C_MAC = 1, C_THR = 2, C_OUT = 3, C_HAND = 4, C_DONE = 5;
    localparam W_IDLE = 0, W_BURST = 1, W_B = 2;
    reg [3:0]  lst, lret;
    reg [2:0]  cst;
    reg [1:0]  wst;
    reg [31:0] lpc;
    reg        in_cur, w_cur, t_cur;  // the halves most recently loaded
    reg        oh;                    // the output half the compute unit fills
    reg        c_busy;                // the compute unit holds a descriptor
    reg [31:0] row, nrows, i, k, wbit, ibit, pbyte, c;
    reg signed [39:0] acc [0:PE-1];
    reg [31:0] cnt [0:PE-1];
    reg [31:0] lp;  // the lane whose output field C_OUT writes
    integer p;
    // storer
    reg        sh;                    // the output half being stored
    reg [31:0] sw_base, sw_addr, sw_end, sw_beats;
    reg        sw_aw_done;
    assign m_axi_bready = (wst == W_B);
    wire [31:0] aw_4k = (32'd4096 - {20'd0, sw_addr[11:0]}) >> LB;
    wire [31:0] aw_want = (sw_end - sw_addr + NB - 1) >> LB;
    wire [31:0] aw_beats = (aw_want > aw_4k) ? aw_4k : aw_want;
    wire [7:0]  aw_len = (aw_beats > 256) ? 8'd255 : aw_beats[7:0] - 8'd1;

    // ---------------------------------------------------------------- the compute datapath
    wire [31:0] pix_bytes = (d_ic * in_bits + 7) >> 3;
    wire [31:0] wrec_bytes = (PE * SIMD * w_bits + 7) >> 3;  // one weight word: PE x SIMD lanes
    wire [31:0] trec_bytes = (d_nt * t_bits + 7) >> 3;
    reg [31:0] oy, ox, ky, kx;
    wire        pool = (d_opcode == 2) || (d_opcode == 3);
    // ---- ADD (opcode 6, the residual join; qloom.mo.schedule): per pixel and channel, in
    // the pools' channel-by-channel order (1x1 window), acc = MUL0*x0 + MUL1*x1 with x0 from
    // the input buffer and x1 (the second operand's rows, loaded with LOAD_W) from the weight
    // buffer at the same pixel and channel; then the channel's thresholds (HAS_T) as an MVAU
    // lane 0 does: cycles pixels * C * (1 + NT + 1) (qloom.mo.model.rtl_compute).
    wire        add = (d_opcode == 6);
    wire        chw = pool || add;  // a channel-by-channel unit (one lane)
    wire [31:0] a_pix2 = (d_ic * w_bits + 7) >> 3;  // the second operand's record bytes
    wire [31:0] a_xa2 = ((oy - d_irow0) * d_iw + ox) * a_pix2 * 8 + row * w_bits;
    wire [31:0] a_xb2 = inw(WHW * w_h[cs] + (a_xa2 >> (3 + LB)), 2 * WHW);
    wire [2*DW-1:0] a_pr2 = {wbuf[a_xb2 + 1], wbuf[a_xb2]} >> (8 * a_xa2[LB+2:3]);
    wire [39:0] a_raw2 = a_pr2[39:0] >> a_xa2[2:0];
    wire signed [39:0] a_x2 = ext(a_raw2, w_bits, d_flags[7], d_flags[8]);
    wire        flat = d_flags[3];
    wire [31:0] kk = (d_k[15:0]) * (d_k[31:16]);  // window size KH*KW
    wire [31:0] last_i = chw ? kk : d_mw;
    wire [31:0] nstep = chw ? 32'd1 : SIMD;       // elements per MAC cycle
    // The SIMD input elements of a cycle: element i + s of the window (order (ky, kx, c),
    // c fastest) or of the flat vector. Lane s's position (channel, window column and row,
    // bit address, pixel byte) follows from lane s-1's by one step; lane 0's are the
    // registers; position SIMD (or 1 for pools) is the next cycle's lane 0.
    wire [31:0] sc [0:SIMD], skx [0:SIMD], sky [0:SIMD], sib [0:SIMD], spb [0:SIMD];
    wire signed [39:0] xs [0:SIMD-1];  // lane s's element (0 past the end of the row)
    assign sc[0] = c; assign skx[0] = kx; assign sky[0] = ky; assign sib[0] = ibit; assign spb[0] = pbyte;
    genvar g, s;
    generate for (s = 0; s < SIMD; s = s + 1) begin : step
        wire        wrap = (sc[s] + 1 == d_ic);  // the next element starts the next pixel
        wire        kstep = chw || wrap;
        wire        kxw = (skx[s] + 1 == d_k[31:16]);
        assign sc[s + 1] = wrap ? 32'd0 : sc[s] + 1;
        assign spb[s + 1] = wrap ? spb[s] + pix_bytes : spb[s];
        assign sib[s + 1] = wrap ? (spb[s] + pix_bytes) * 8 : sib[s] + in_bits;
        assign skx[s + 1] = kstep ? (kxw ? 32'd0 : skx[s] + 1) : skx[s];
        assign sky[s + 1] = (kstep && kxw) ? sky[s] + 1 : sky[s];
        wire [31:0] ch = chw ? row : sc[s];
        wire signed [31:0] iy = $signed(oy * d_s[15:0] + sky[s]) - $signed({24'd0, d_pads[7:0]});
        wire signed [31:0] ix = $signed(ox * d_s[31:16] + skx[s]) - $signed({24'd0, d_pads[15:8]});
        wire        in_win = (iy >= 0) && (iy < $signed(d_ih)) && (ix >= 0) && (ix < $signed(d_iw));
        wire [31:0] wina = ((iy - $signed(d_irow0)) * d_iw + ix) * pix_bytes * 8 + ch * in_bits;
        wire [31:0] xa = flat ? sib[s] : wina;          // bit address of the element
        wire [31:0] xb = inw(IHW * in_h[cs] + (xa >> (3 + LB)), 2 * IHW);
        wire [2*DW-1:0] xpr = {ibuf[xb + 1], ibuf[xb]} >> (8 * xa[LB+2:3]);
        wire [39:0] xraw = xpr[39:0] >> xa[2:0];
        wire signed [39:0] xin = ext(xraw, in_bits, d_flags[5], d_flags[6]);
        wire        valid = (i + s < last_i);
        assign xs[s] = !valid ? 40'sd0 : (flat || in_win) ? xin : {{8{d_padv[31]}}, d_padv};
    end endgenerate
    wire signed [39:0] xv = xs[0];
    // per lane: the sum of its SIMD products (lane (g, s) of the word at wbit) and threshold k
    // of its channel
    wire signed [39:0] dot [0:PE-1];
    wire signed [39:0] tv [0:PE-1];
    generate for (g = 0; g < PE; g = g + 1) begin : lane
        wire signed [39:0] part [0:SIMD];
        assign part[0] = 40'sd0;
        for (s = 0; s < SIMD; s = s + 1) begin : col
            wire [31:0] wa = wbit + (g * SIMD + s) * w_bits;
            wire [31:0] wb = inw(WHW * w_h[cs] + (wa >> (3 + LB)), 2 * WHW);
            wire [2*DW-1:0] wpr = {wbuf[wb + 1], wbuf[wb]} >> (8 * wa[LB+2:3]);
            wire [39:0] wraw = wpr[39:0] >> wa[2:0];
            wire signed [39:0] wv = ext(wraw, w_bits, d_flags[7], d_flags[8]);
            // (XBITS+1) x (WBITS+1)-bit signed product: an unsigned or signed field of at
            // most XBITS (WBITS) bits, or a bipolar +-1, fits; not the 40-bit windows
            wire signed [XBITS:0] xn = xs[s];
            wire signed [WBITS:0] wn = wv;
            wire signed [XBITS+WBITS+1:0] pr = xn * wn;
            assign part[s + 1] = part[s] + pr;
        end
        assign dot[g] = part[SIMD];
        wire [31:0] ta = (add ? row : row * PE + g) * trec_bytes * 8 + k * t_bits;
        wire [31:0] tb = inw(THW * t_h[cs] + (ta >> (3 + LB)), 2 * THW);
        wire [2*DW-1:0] tpr = {tbuf[tb + 1], tbuf[tb]} >> (8 * ta[LB+2:3]);
        wire [39:0] traw = tpr[39:0] >> ta[2:0];
        assign tv[g] = ext(traw, t_bits, 1'b1, 1'b0);
    end endgenerate
    wire [31:0] opix = ((oy - d_row0) * d_ow + ox) * ((d_oc * out_bits + 7) >> 3) * 8;
    wire [31:0] chn = chw ? row : (d_nf0 + row) * PE + lp;  // the output channel written
    wire        live = chw || chn < d_mh;                    // padding rows are not written
    wire [31:0] oa = opix + chn * out_bits;
    // the field's two output words: word ow0 (bank ow0[0]) and ow0 + 1 (the other bank)
    wire [31:0] ow0 = inw(OHW * oh + 1 + (oa >> (3 + LB)), 2 * OHW);
    wire [31:0] oie = (ow0 + 1) >> 1, oio = ow0 >> 1;  // bank indices (even, odd)
    wire [2*DW-1:0] opair = ow0[0] ? {obe[oie], obo[oio]} : {obo[oio], obe[oie]};
    wire [LB+2:0] osh = {oa[LB+2:3], 3'd0};
    wire signed [39:0] acc_l = acc[lp];
    wire [31:0] cnt_l = cnt[lp];
    wire signed [39:0] res = !d_flags[4] ? acc_l : d_flags[10] ? {8'd0, cnt_l} : $signed({8'd0, cnt_l}) + $signed({{8{d_bias[31]}}, d_bias});
    wire [39:0] omask = ((40'd1 << out_bits) - 40'd1) << oa[2:0];
    wire [39:0] resb = (d_flags[10] && !d_flags[4]) ? {39'd0, res > 0} : res;  // bipolar: -1 -> 0
    wire [39:0] oval = (resb & ((40'd1 << out_bits) - 40'd1)) << oa[2:0];
    wire [2*DW-1:0] onew = (opair & ~({{(2*DW-40){1'b0}}, omask} << osh)) | ({{(2*DW-40){1'b0}}, oval} << osh);
    wire        o_we = (cst == C_OUT) && live;
    always @(posedge ap_clk) begin  // one write port per output bank
        if (o_we) begin
            if (ow0[0]) begin obo[oio] <= onew[DW-1:0]; obe[oie] <= onew[2*DW-1:DW]; end
            else begin obe[oie] <= onew[DW-1:0]; obo[oio] <= onew[2*DW-1:DW]; end
        end
    end
    // the storer's beat: half-linear bytes sw_addr - sw_base + NB .. (+NB), from two words
    wire [31:0] srel = sw_addr - sw_base + NB;
    wire [31:0] sw0 = OHW * sh + (srel >> LB);
    wire [31:0] sie = (sw0 + 1) >> 1, sio = sw0 >> 1;
    wire [2*DW-1:0] spair = sw0[0] ? {obe[sie], obo[sio]} : {obo[sio], obe[sie]};
    wire [2*DW-1:0] sbeat = spair >> (8 * srel[LB-1:0]);

    task start_load(input [1:0] which, input half, input [31:0] a, input [31:0] n, input [3:0] back);
        begin
            ld_buf <= which; ld_half <= half; ld_addr <= a; ld_n <= n; ld_next <= a & ~(NB - 1);
            ld_end <= a + n; ld_busy <= 1'b1; ld_ar_done <= 1'b0; lret <= back; lst <= L_LOAD;
            ld_wi <= 32'd0; ld_first <= 1'b1;
        end
    endtask

    wire store_idle = (wst == W_IDLE);
    // serial mode: the loader waits until the compute unit and the storer are idle
    wire drained = !c_busy && !slot_ready[0] && !slot_ready[1] && store_idle;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            lst <= L_IDLE; cst <= C_WAIT; wst <= W_IDLE; done <= 1'b0; error <= 1'b0; ld_busy <= 1'b0; ld_flush <= 1'b0;
            m_axi_arvalid <= 1'b0; m_axi_awvalid <= 1'b0; m_axi_wvalid <= 1'b0;
            slot_ready[0] <= 1'b0; slot_ready[1] <= 1'b0; cs <= 1'b0; ls <= 1'b0; c_busy <= 1'b0;
            in_cur <= 1'b1; w_cur <= 1'b1; t_cur <= 1'b1; oh <= 1'b0;
        end else begin
            // ======================================================== loader
            ld_flush <= 1'b0;
            case (lst)
                L_IDLE: if (start) begin lpc <= desc_addr; lst <= L_SLOT; end
                L_SLOT: if (!slot_ready[ls] && !(c_busy && cs == ls) && (DB || drained))
                            start_load(2'd0, ls, lpc, 32'd128, L_DEC);
                L_DEC: lst <= (l_opcode == 0) ? L_FIN : (l_flags & F_BARRIER) ? L_BAR : L_LIN;
                L_BAR: if (drained) lst <= L_LIN;
                L_LIN: begin
                    if (l_flags[0]) begin
                        in_cur <= !in_cur; in_h[ls] <= !in_cur;
                        start_load(2'd1, !in_cur, l_in_addr, l_in_bytes, L_LW);
                    end else begin in_h[ls] <= in_cur; lst <= L_LW; end
                end
                L_LW: begin
                    if (l_flags[1] && (l_opcode == 1 || l_opcode == 6)) begin
                        w_cur <= !w_cur; w_h[ls] <= !w_cur;
                        start_load(2'd2, !w_cur, l_w_addr, l_w_bytes, L_LT);
                    end else begin w_h[ls] <= w_cur; lst <= L_LT; end
                end
                L_LT: begin
                    if (l_flags[1] && l_flags[4]) begin
                        t_cur <= !t_cur; t_h[ls] <= !t_cur;
                        start_load(2'd3, !t_cur, l_t_addr, l_t_bytes, L_FIN);
                    end else begin t_h[ls] <= t_cur; lst <= L_FIN; end
                end
                L_FIN: begin
                    slot_ready[ls] <= 1'b1; ls <= !ls; lpc <= lpc + 128;
                    lst <= (l_opcode == 0) ? L_STOP : L_SLOT;
                end
                L_LOAD: begin
                    if (!ld_ar_done && !m_axi_arvalid) begin
                        m_axi_araddr <= base + ld_next; m_axi_arlen <= ar_len; m_axi_arvalid <= 1'b1;
                    end else if (m_axi_arvalid && m_axi_arready) begin
                        m_axi_arvalid <= 1'b0; ld_ar_done <= 1'b1; ld_beat_addr <= ld_next;
                    end else if (m_axi_rvalid && m_axi_rready) begin
                        ld_beat_addr <= ld_beat_addr + NB;
                        ld_prev <= m_axi_rdata; ld_first <= 1'b0;
                        if (ld_we) ld_wi <= ld_wi + 1;
                        if (m_axi_rlast) begin
                            ld_ar_done <= 1'b0; ld_next <= ld_beat_addr + NB;
                            if (ld_beat_addr + NB >= ld_end) begin
                                ld_busy <= 1'b0; lst <= lret; ld_flush <= (ld_off != 0);
                            end
                        end
                    end
                end
                default: ;  // L_STOP
            endcase

            // ======================================================== compute
            case (cst)
                C_WAIT: if (slot_ready[cs] && !c_busy) begin
                    if (d_opcode == 0) begin
                        if (store_idle) cst <= C_DONE;
                    end else if ((d_opcode < 1 || d_opcode > 3) && !add) begin error <= 1'b1; cst <= C_DONE; end
                    else begin
                        c_busy <= 1'b1; cst <= C_MAC;
                        row <= 0; i <= 0; ibit <= 0; c <= 0; pbyte <= 0; wbit <= 0; lp <= 0;
                        oy <= d_row0; ox <= 0; ky <= 0; kx <= 0;
                        for (p = 0; p < PE; p = p + 1) acc[p] <= (d_opcode == 2) ? -40'sd549755813888 : 40'sd0;
                        nrows <= chw ? d_oc : d_nfs;  // MVAU: neuron folds of PE rows
                    end
                end
                C_MAC: begin
                    if (d_opcode == 2) acc[0] <= (xv > acc[0]) ? xv : acc[0];
                    else if (d_opcode == 3) acc[0] <= acc[0] + xv;
                    else if (add) acc[0] <= $signed(d_mh) * xv + $signed(d_mw) * a_x2;
                    else for (p = 0; p < PE; p = p + 1) acc[p] <= acc[p] + dot[p];
                    wbit <= wbit + wrec_bytes * 8;
                    if (chw) begin c <= sc[1]; pbyte <= spb[1]; ibit <= sib[1]; kx <= skx[1]; ky <= sky[1]; end
                    else begin c <= sc[SIMD]; pbyte <= spb[SIMD]; ibit <= sib[SIMD]; kx <= skx[SIMD]; ky <= sky[SIMD]; end
                    if (i + nstep >= last_i) begin
                        i <= 0; k <= 0; ky <= 0; kx <= 0;
                        for (p = 0; p < PE; p = p + 1) cnt[p] <= 0;
                        cst <= (d_flags[4] && !pool) ? C_THR : C_OUT;
                    end else i <= i + nstep;
                end
                C_THR: begin
                    for (p = 0; p < PE; p = p + 1) if (acc[p] >= tv[p]) cnt[p] <= cnt[p] + 1;
                    if (k + 1 == d_nt) cst <= C_OUT;
                    k <= k + 1;
                end
                C_OUT: if (!chw && lp + 1 < PE) begin  // one lane's output field per cycle
                    lp <= lp + 1;
                end else begin
                    lp <= 0;
                    for (p = 0; p < PE; p = p + 1) acc[p] <= (d_opcode == 2) ? -40'sd549755813888 : 40'sd0;
                    ibit <= 0; c <= 0; pbyte <= 0;
                    if (row + 1 == nrows) begin
                        row <= 0; wbit <= 0;
                        if (flat || (oy + 1 == d_row0 + d_rows && ox + 1 == d_ow)) cst <= C_HAND;
                        else begin
                            if (ox + 1 == d_ow) begin ox <= 0; oy <= oy + 1; end
                            else ox <= ox + 1;
                            cst <= C_MAC;
                        end
                    end else begin
                        row <= row + 1; cst <= C_MAC;
                    end
                end
                C_HAND: begin  // the tile is computed: hand its output half to the storer
                    if (!d_flags[2] || store_idle) begin
                        if (d_flags[2]) begin
                            sh <= oh; oh <= !oh; sw_base <= d_out_addr;
                            sw_addr <= d_out_addr & ~(NB - 1); sw_end <= d_out_addr + d_out_bytes;
                            sw_aw_done <= 1'b0; wst <= W_BURST;
                        end
                        slot_ready[cs] <= 1'b0; cs <= !cs; c_busy <= 1'b0; cst <= C_WAIT;
                    end
                end
                C_DONE: done <= 1'b1;
                default: cst <= C_WAIT;
            endcase

            // ======================================================== storer
            case (wst)
                W_BURST: begin
                    if (!sw_aw_done && !m_axi_awvalid) begin
                        m_axi_awaddr <= base + sw_addr; m_axi_awlen <= aw_len; sw_beats <= {24'd0, aw_len} + 32'd1;
                        m_axi_awvalid <= 1'b1;
                    end else if (m_axi_awvalid && m_axi_awready) begin
                        m_axi_awvalid <= 1'b0; sw_aw_done <= 1'b1;
                    end
                    if (sw_aw_done && !(m_axi_wvalid && !m_axi_wready)) begin
                        if (m_axi_wvalid && m_axi_wready && m_axi_wlast) begin
                            m_axi_wvalid <= 1'b0; wst <= W_B;
                        end else if (sw_beats != 0) begin
                            for (b = 0; b < NB; b = b + 1) begin
                                m_axi_wstrb[b] <= (sw_addr + b >= sw_base) && (sw_addr + b < sw_end);
                                m_axi_wdata[8*b +: 8] <= sbeat[8*b +: 8];
                            end
                            m_axi_wvalid <= 1'b1; m_axi_wlast <= (sw_beats == 1);
                            sw_beats <= sw_beats - 1; sw_addr <= sw_addr + NB;
                        end
                    end
                end
                W_B: if (m_axi_bvalid) begin
                    sw_aw_done <= 1'b0;
                    wst <= (sw_addr >= sw_end) ? W_IDLE : W_BURST;
                end
                default: ;
            endcase
        end
    end
endmodule
