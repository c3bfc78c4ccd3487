// qloom_labelselect: top-K indices of a vector (ONNX TopK / stable descending argsort).
//
// Parameters
//   NUM_LABELS         vector length
//   PE                 elements per input beat (NUM_LABELS % PE == 0)
//   IN_BITS, IN_SIGNED element type (signed two's complement or unsigned)
//   K                  number of indices output (1 <= K <= NUM_LABELS)
//   IDX_BITS           output width, default max(1, ceil(log2(NUM_LABELS)))
//
// Streams
//   s_axis_tdata [PE*IN_BITS-1:0]: NUM_LABELS/PE beats per vector, element p of beat b = v[b*PE + p]
//   m_axis_tdata [IDX_BITS-1:0]:   K beats per vector: the indices of the K largest
//                                  values, largest first; equal values: lower index first.
//
// Architecture: each element is inserted into a sorted list of the best K
//   (value, index) pairs, one element per cycle (K parallel comparisons).  At the
//   end of a vector the list is copied to an output shift register, so the next
//   vector streams in while the K indices are sent.
// Cycles (no stalls): NUM_LABELS cycles per vector (one element per cycle; a beat
//   of PE elements is accepted every PE cycles), if K <= NUM_LABELS; latency ~K+3.
// Memory: K*(IN_BITS + IDX_BITS) flip-flops for the list, K*IDX_BITS for the output.
// Depends on: qloom_axis.vh
`default_nettype none
`include "qloom_axis.vh"

module qloom_labelselect #(
    parameter integer NUM_LABELS = 10, PE = 1, K = 1,
    parameter integer IN_BITS = 8, IN_SIGNED = 1,
    parameter integer IDX_BITS = (NUM_LABELS > 1) ? $clog2(NUM_LABELS) : 1
) (
    `QLOOM_AXIS_PORTS(PE*IN_BITS, IDX_BITS)
);
    // illegal parameters stop elaboration
    if (PE < 1 || NUM_LABELS % PE != 0) begin : g_err_pe
        $error("qloom_labelselect: NUM_LABELS must be a multiple of PE (PE >= 1)");
    end
    if (K < 1 || K > NUM_LABELS) begin : g_err_k
        $error("qloom_labelselect: K must be in 1 .. NUM_LABELS");
    end

    localparam integer LW = (PE > 1) ? $clog2(PE) : 1;
    localparam integer PE1_I = PE - 1;
    localparam [LW-1:0] PE1 = PE1_I[LW-1:0];
    localparam integer NL1_I = NUM_LABELS - 1;
    localparam [IDX_BITS-1:0] NL1 = NL1_I[IDX_BITS-1:0];
    localparam integer KW = (K > 1) ? $clog2(K) : 1;
    localparam integer K1_I = K - 1;
    localparam [KW-1:0] K1 = K1_I[KW-1:0];
    localparam integer VW = IN_BITS + 1;   // values compared as signed VW bits

    // ---------------------------------------------------------------- serializer
    reg [PE*IN_BITS-1:0] hold;
    reg hold_v;
    reg [LW-1:0] lane;
    reg [IDX_BITS-1:0] idx;      // index of the element in hold[lane]
    reg out_busy;                // output register holds indices not yet sent
    wire last_elem = (idx == NL1);
    wire step = hold_v && !(last_elem && out_busy);
    wire last_lane = (lane == PE1);
    assign s_axis_tready = !hold_v || (step && last_lane);
    wire in_fire = s_axis_tvalid && s_axis_tready;

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            hold_v <= 1'b0;
            lane <= {LW{1'b0}};
            idx <= {IDX_BITS{1'b0}};
        end else begin
            if (step) begin
                lane <= last_lane ? {LW{1'b0}} : lane + 1'b1;
                idx <= last_elem ? {IDX_BITS{1'b0}} : idx + 1'b1;
            end
            if (in_fire) hold_v <= 1'b1;
            else if (step && last_lane) hold_v <= 1'b0;
        end
        if (in_fire) hold <= s_axis_tdata;
    end

    wire [IN_BITS-1:0] raw = hold[lane*IN_BITS +: IN_BITS];
    wire [VW-1:0] val = (IN_SIGNED != 0) ? {raw[IN_BITS-1], raw} : {1'b0, raw};

    // ---------------------------------------------------------------- sorted list
    reg [K*VW-1:0] lv;           // values, best first
    reg [K*IDX_BITS-1:0] li;     // indices
    reg [K-1:0] lvalid;
    // an entry stays ahead of the new element iff it is valid and >= (earlier index wins ties)
    wire [K-1:0] ahead;
    genvar g;
    generate
        for (g = 0; g < K; g = g + 1) begin : g_cmp
            assign ahead[g] = lvalid[g] && ($signed(lv[g*VW +: VW]) >= $signed(val));
        end
    endgenerate

    // next list: entries ahead stay, the new element goes to the first slot not ahead,
    // the rest shift down by one (the last falls off)
    reg [K*VW-1:0] nv;
    reg [K*IDX_BITS-1:0] ni;
    reg [K-1:0] nvalid;
    integer j;
    always @* begin
        for (j = 0; j < K; j = j + 1) begin
            if (ahead[j]) begin
                nv[j*VW +: VW] = lv[j*VW +: VW];
                ni[j*IDX_BITS +: IDX_BITS] = li[j*IDX_BITS +: IDX_BITS];
                nvalid[j] = lvalid[j];
            end else if (j == 0 || ahead[(j == 0) ? 0 : j - 1]) begin
                nv[j*VW +: VW] = val;
                ni[j*IDX_BITS +: IDX_BITS] = idx;
                nvalid[j] = 1'b1;
            end else begin
                nv[j*VW +: VW] = lv[(j-1)*VW +: VW];
                ni[j*IDX_BITS +: IDX_BITS] = li[(j-1)*IDX_BITS +: IDX_BITS];
                nvalid[j] = lvalid[j-1];
            end
        end
    end

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            lvalid <= {K{1'b0}};
        end else if (step) begin
            lvalid <= last_elem ? {K{1'b0}} : nvalid;
        end
        if (step) begin
            lv <= nv;
            li <= ni;
        end
    end

    // ---------------------------------------------------------------- output
    reg [K*IDX_BITS-1:0] oidx;
    reg [KW-1:0] ocnt;
    wire out_fire = out_busy && m_axis_tready;
    assign m_axis_tvalid = out_busy;
    assign m_axis_tdata = oidx[IDX_BITS-1:0];

    always @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            out_busy <= 1'b0;
            ocnt <= {KW{1'b0}};
        end else if (step && last_elem) begin
            out_busy <= 1'b1;       // (out_busy was low: step implies it)
            ocnt <= {KW{1'b0}};
        end else if (out_fire) begin
            ocnt <= ocnt + 1'b1;
            if (ocnt == K1) out_busy <= 1'b0;
        end
        if (step && last_elem) oidx <= ni;
        else if (out_fire) oidx <= oidx >> IDX_BITS;
    end
endmodule

`default_nettype wire
