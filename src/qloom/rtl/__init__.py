"""qloom's hand-written parametric Verilog operator library (``verilog/``) and
its cycle formulas (:mod:`qloom.rtl.cycles`) and memory-file packers
(:mod:`qloom.rtl.memfiles`)."""
