// qloom_thresholding: per-channel multi-threshold activation of a stream.
//
// Parameters
//   CHANNELS, PE       channels per vector; PE lanes per beat (CHANNELS % PE == 0), NF = CHANNELS/PE
//   IN_BITS, IN_SIGNED input element type
//   T_BITS             threshold width (signed two's complement); the comparison is
//                      exact for any IN_BITS / T_BITS combination
//   NUM_THRESH         thresholds per channel (>= 1), ascending
//   OUT_BITS, OUT_SIGNED, OUT_BIAS
//                      out = #{k : x >= T[c][k]} + OUT_BIAS, wrapped to OUT_BITS
//                      (two's complement; OUT_SIGNED only tells the reader)
//   THRESH_FILE        $readmemh file: NF words of PE*NUM_THRESH*T_BITS bits, word nf,
//                      threshold (p, k) at bits [(p*NUM_THRESH + k)*T_BITS +: T_BITS]
//                      = T[nf*PE + p][k] (same layout as qloom_mvau's thresholds)
//   RAM_STYLE          attribute of the threshold ROM ("distributed" is emitted as
//                      "logic", a LUT ROM)
//   CREDITS            output beats in flight or queued (>= 1, default 5): the output
//                      FIFO has CREDITS words (qloom_credit_out); with THR_STYLE 1 it
//                      must be at least 5 + STAGES for one beat per cycle
//   THR_STYLE          0: parallel compare bank (THRESH_FILE as above); 1: binary search
//                      (qloom_thr_bsearch, STAGES = ceil(log2(NUM_THRESH+1)) compare
//                      stages, THRESH_FILE is the prefix of its stage files
//                      THRESH_FILE_s<k>.mem, T_BITS wide; the pad 2^(T_BITS-1)-1 must
//                      exceed every input)
//
// Streams
//   s_axis_tdata [PE*IN_BITS-1:0]: beat nf of each vector carries channels nf*PE .. nf*PE+PE-1;
//     vectors follow each other (e.g. the pixels of an NHWC image).
//   m_axis_tdata [PE*OUT_BITS-1:0]: same beat structure.
//
// Cycles: one beat per cycle; a vector takes NF cycles (an image H*W*NF).  Latency ~5,
//   + STAGES with THR_STYLE 1.
// Memory: NF x PE*NUM_THRESH*T_BITS threshold ROM; PE*NUM_THRESH parallel comparators;
//   output FIFO (qloom_credit_out: qloom_fifo, CREDITS words).
//
// Depends on: qloom_axis.vh, qloom_credit_out.v, qloom_fifo.v, qloom_vpipe.v, qloom_thr_bsearch.v
`default_nettype none
`include "qloom_axis.vh"

module qloom_thresholding #(
    parameter integer CHANNELS = 4, PE = 1,
    parameter integer IN_BITS = 8, IN_SIGNED = 1,
    parameter integer T_BITS = 9, NUM_THRESH = 3, OUT_BITS = 2,
    // OUT_SIGNED documents how the consumer reads the output (the bits are the same).
    /* verilator lint_off UNUSEDPARAM */
    parameter integer OUT_SIGNED = 0,
    /* verilator lint_on UNUSEDPARAM */
    parameter integer OUT_BIAS = 0,
    parameter THRESH_FILE = "thresholds.mem",
    // RAM_STYLE is only read by synthesis tools (an attribute): unused for Verilator.
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto",
    /* verilator lint_on UNUSEDPARAM */
    parameter integer CREDITS = 5,
    parameter integer THR_STYLE = 0
) (
    `QLOOM_AXIS_PORTS(PE*IN_BITS, PE*OUT_BITS)
);
    // illegal parameters stop elaboration
    if (PE < 1 || CHANNELS % PE != 0) begin : g_err_pe
        $error("qloom_thresholding: CHANNELS must be a multiple of PE (PE >= 1)");
    end
    if (NUM_THRESH < 1) begin : g_err_nthresh
        $error("qloom_thresholding: NUM_THRESH must be >= 1");
    end

    localparam integer NF = CHANNELS / PE;
    localparam integer NFW = (NF > 1) ? $clog2(NF) : 1;
    localparam integer NF1_I = NF - 1;
    localparam [NFW-1:0] NF1 = NF1_I[NFW-1:0];
    localparam integer TWORD = PE * NUM_THRESH * T_BITS;
    // comparison width: both operands sign/zero-extended to CW bits
    localparam integer CW = ((IN_BITS + 1 > T_BITS) ? IN_BITS + 1 : T_BITS) + 1;
    localparam integer BIAS_I = OUT_BIAS;
    localparam [OUT_BITS-1:0] BIAS_V = BIAS_I[OUT_BITS-1:0];

    // String compare/select: the shorter string is zero-padded on the left, which is
    // the intended meaning (WIDTHEXPAND waived); attribute only (UNUSEDPARAM waived).
    /* verilator lint_off UNUSEDPARAM */
    /* verilator lint_off WIDTHEXPAND */
    localparam ROM_STYLE = (RAM_STYLE == "distributed") ? "logic" : RAM_STYLE;
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDPARAM */
    reg [NFW-1:0] nf;
    wire credit_ok;
    assign s_axis_tready = credit_ok;
    wire fire = s_axis_tvalid && credit_ok;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) nf <= {NFW{1'b0}};
        else if (fire) nf <= (nf == NF1) ? {NFW{1'b0}} : nf + 1'b1;
    end

    reg [PE*OUT_BITS-1:0] act;
    wire act_valid;
    generate
        if (THR_STYLE == 0) begin : g_par
        (* ram_style = ROM_STYLE *) reg [TWORD-1:0] tmem [0:NF-1];
        initial $readmemh(THRESH_FILE, tmem);

        // stage 1: threshold word and input
        reg [TWORD-1:0] thr1;
        reg [PE*IN_BITS-1:0] x1;
        reg v1;
        always @(posedge ap_clk) begin
            if (!ap_rst_n) v1 <= 1'b0;
            else v1 <= fire;
            if (fire) begin
                thr1 <= tmem[nf];
                x1 <= s_axis_tdata;
            end
        end

        // stage 2: compare and count
        wire [PE*CW-1:0] xe;
        wire [PE*NUM_THRESH*CW-1:0] te;
        genvar gp, gk;
            for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
                wire [IN_BITS-1:0] xr = x1[gp*IN_BITS +: IN_BITS];
                if (IN_SIGNED != 0) begin : g_xs
                    assign xe[gp*CW +: CW] = {{(CW-IN_BITS){xr[IN_BITS-1]}}, xr};
                end else begin : g_xu
                    assign xe[gp*CW +: CW] = {{(CW-IN_BITS){1'b0}}, xr};
                end
                for (gk = 0; gk < NUM_THRESH; gk = gk + 1) begin : g_t
                    wire [T_BITS-1:0] tr = thr1[(gp*NUM_THRESH + gk)*T_BITS +: T_BITS];
                    assign te[(gp*NUM_THRESH + gk)*CW +: CW] = {{(CW-T_BITS){tr[T_BITS-1]}}, tr};
                end
            end

        reg [OUT_BITS-1:0] cnt;
        integer ip, ik;
        always @* begin
            act = {PE*OUT_BITS{1'b0}};
            for (ip = 0; ip < PE; ip = ip + 1) begin
                cnt = BIAS_V;
                for (ik = 0; ik < NUM_THRESH; ik = ik + 1)
                    if ($signed(xe[ip*CW +: CW]) >= $signed(te[(ip*NUM_THRESH + ik)*CW +: CW]))
                        cnt = cnt + 1'b1;
                act[ip*OUT_BITS +: OUT_BITS] = cnt;
            end
        end
        assign act_valid = v1;
        end else begin : g_bs
            // binary search: inputs sign/zero-extended to IN_BITS + 1 bits
            localparam integer S = $clog2(NUM_THRESH + 1);
            localparam integer XW = IN_BITS + 1;
            localparam integer AW = (S > OUT_BITS) ? S : OUT_BITS;
            wire [PE*XW-1:0] xin;
            wire [PE*S-1:0] cnt_b;
            genvar bp;
            for (bp = 0; bp < PE; bp = bp + 1) begin : g_x
                wire [IN_BITS-1:0] xr = s_axis_tdata[bp*IN_BITS +: IN_BITS];
                assign xin[bp*XW +: XW] = {(IN_SIGNED != 0) ? xr[IN_BITS-1] : 1'b0, xr};
            end
            qloom_thr_bsearch #(
                .PE(PE), .NF(NF), .XW(XW), .TB(T_BITS), .NUM_THRESH(NUM_THRESH),
                .THRESH_FILE(THRESH_FILE), .RAM_STYLE(RAM_STYLE)
            ) u_bs (
                .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .in_valid(fire), .in_nf(nf), .in_x(xin),
                .out_valid(act_valid), .out_cnt(cnt_b)
            );
            integer bq;
            /* verilator lint_off UNUSEDSIGNAL */
            reg [AW-1:0] sum_b;
            /* verilator lint_on UNUSEDSIGNAL */
            always @* begin
                act = {PE*OUT_BITS{1'b0}};
                for (bq = 0; bq < PE; bq = bq + 1) begin
                    sum_b = {{(AW-S){1'b0}}, cnt_b[bq*S +: S]} + {{(AW-OUT_BITS){1'b0}}, BIAS_V};
                    act[bq*OUT_BITS +: OUT_BITS] = sum_b[OUT_BITS-1:0];
                end
            end
        end
    endgenerate

    // stage 3: output register (IN_REG) and queue
    qloom_credit_out #(
        .WIDTH(PE*OUT_BITS),
        .CREDITS(CREDITS),
        .IN_REG(1)
    ) u_out (
        .ap_clk(ap_clk), .ap_rst_n(ap_rst_n), .issue(fire), .credit_ok(credit_ok),
        .s_axis_tdata(act), .s_axis_tvalid(act_valid),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready)
    );
endmodule

`default_nettype wire
