"""The hand-written Verilog library (``verilog/``, one file per operator module) and the
generator of the dataflow top ``qloom_top`` (:mod:`qloom.rtl.generate`). What each Verilog
module computes, costs and takes as parameters is stated by its operator in qloom.ops."""
