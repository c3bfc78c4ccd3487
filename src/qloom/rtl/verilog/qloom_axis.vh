// qloom_axis.vh: the AXI4-Stream port list every qloom operator shares.
//
//   `include "qloom_axis.vh"
//   module qloom_x #(...) (
//       `QLOOM_AXIS_PORTS(IN_WIDTH_EXPR, OUT_WIDTH_EXPR)
//   );
//
// declares ap_clk, ap_rst_n (active low, synchronous), s_axis_tdata [IW-1:0],
// s_axis_tvalid, s_axis_tready, m_axis_tdata [OW-1:0], m_axis_tvalid,
// m_axis_tready (README.md, "Shared conventions").  A textual macro: the ports,
// names and widths are exactly those written out by hand.
//
// A fork or a join has several streams on one side: `QLOOM_AXIS_PORTS_N(IW, NI,
// OW, NO) declares the same names with NI input and NO output streams, their
// tdata packed (stream k's at the k-th slice: IW and OW are the total widths)
// and one tvalid/tready bit per stream ([NI-1:0], [NO-1:0]).
//
// Include path: Yosys finds it beside the including file; Verilator needs
// -I<folder> (qloom.sim.verilator adds each source's folder); the generator
// copies it with the modules (listed in their `// Depends on:` lines).
`ifndef QLOOM_AXIS_VH
`define QLOOM_AXIS_VH

`define QLOOM_AXIS_PORTS(IW, OW) \
    input  wire            ap_clk, \
    input  wire            ap_rst_n, \
    input  wire [(IW)-1:0] s_axis_tdata, \
    input  wire            s_axis_tvalid, \
    output wire            s_axis_tready, \
    output wire [(OW)-1:0] m_axis_tdata, \
    output wire            m_axis_tvalid, \
    input  wire            m_axis_tready

`define QLOOM_AXIS_PORTS_N(IW, NI, OW, NO) \
    input  wire            ap_clk, \
    input  wire            ap_rst_n, \
    input  wire [(IW)-1:0] s_axis_tdata, \
    input  wire [(NI)-1:0] s_axis_tvalid, \
    output wire [(NI)-1:0] s_axis_tready, \
    output wire [(OW)-1:0] m_axis_tdata, \
    output wire [(NO)-1:0] m_axis_tvalid, \
    input  wire [(NO)-1:0] m_axis_tready

`endif
