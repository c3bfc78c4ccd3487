"""Simulation and synthesis helpers for qloom's Verilog (Verilator, Yosys)."""
