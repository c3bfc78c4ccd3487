// Verilator testbench of qloom_mo_top (qloom_mo_engine behind its AXI4-Lite control port)
// with the host's register accesses as the qloom driver makes them (BASE, DESC, CTRL start,
// CTRL polled until ap_done) and an AXI4 memory model: DRAM as a byte array at BASE;
// a read burst's first beat LAT cycles after its AR handshake, then one beat every GAP
// cycles; writes accepted one beat every GAP cycles, the B response LAT cycles after the last
// beat. Reads and writes share the bandwidth (DW/8 bytes per GAP cycles; a read beat first).
// DW (the engine's AXI4 data width: 32, 64 or 128 bits) is a compile-time define.
// Usage: tb DRAM_IN DRAM_OUT LAT GAP DESC_ADDR [BASE [MAX_CYCLES]]; prints "cycles N" (from
// the start write to the poll that sees ap_done) and writes the final DRAM. Usage: tb DRAM_IN DRAM_OUT LAT GAP DESC_ADDR
// [MAX_CYCLES]; prints "cycles N" (start to done) and writes the final DRAM.
#include "Vqloom_mo_top.h"
#include "verilated.h"
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <vector>

#ifndef DW
#define DW 32
#endif
static const int NB = DW / 8;  // bytes per beat
// byte i of a data port (uint32_t / uint64_t up to 64 bits, VlWide above)
template <typename T> static inline void set_byte(T& v, int i, uint8_t b) { v |= (T)b << (8 * i); }
template <typename T> static inline uint8_t get_byte(const T& v, int i) { return (v >> (8 * i)) & 0xff; }
template <std::size_t N> static inline void set_byte(VlWide<N>& v, int i, uint8_t b) { v[i / 4] |= (uint32_t)b << (8 * (i % 4)); }
template <std::size_t N> static inline uint8_t get_byte(const VlWide<N>& v, int i) { return (v[i / 4] >> (8 * (i % 4))) & 0xff; }
template <typename T> static inline void zero(T& v) { v = 0; }
template <std::size_t N> static inline void zero(VlWide<N>& v) { for (std::size_t k = 0; k < N; k++) v[k] = 0; }

int main(int argc, char** argv) {
    if (argc < 6) { fprintf(stderr, "usage: tb DRAM_IN DRAM_OUT LAT GAP DESC_ADDR [BASE [MAX]]\n"); return 2; }
    FILE* f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    std::vector<uint8_t> mem;
    int ch;
    while ((ch = fgetc(f)) != EOF) mem.push_back((uint8_t)ch);
    fclose(f);
    long lat = atol(argv[3]), gap = atol(argv[4]);
    uint32_t desc = (uint32_t)strtoul(argv[5], 0, 0);
    uint32_t base = argc > 6 ? (uint32_t)strtoul(argv[6], 0, 0) : 0;
    long max_cycles = argc > 7 ? atol(argv[7]) : 2000000000L;
    Verilated::commandArgs(argc, argv);
    Vqloom_mo_top* t = new Vqloom_mo_top;
    t->ap_clk = 0; t->ap_rst_n = 0;
    t->s_axi_control_awvalid = 0; t->s_axi_control_wvalid = 0; t->s_axi_control_bready = 1;
    t->s_axi_control_arvalid = 0; t->s_axi_control_rready = 1; t->s_axi_control_wstrb = 0xf;
    t->m_axi_gmem_arready = 1; t->m_axi_gmem_rvalid = 0; t->m_axi_gmem_awready = 1; t->m_axi_gmem_wready = 0; t->m_axi_gmem_bvalid = 0;
    auto tick = [&]() { t->ap_clk = 0; t->eval(); t->ap_clk = 1; t->eval(); };
    for (int i = 0; i < 4; i++) tick();
    t->ap_rst_n = 1;
    // read channel state
    bool rd = false; uint32_t raddr = 0; int rleft = 0; long rnext = 0;
    // write channel state
    bool wr = false; uint32_t waddr = 0; int wleft = 0; long wnext = 0; long bat = -1;
    long cyc = 0, bus_free = 0;
    // the host: register writes (offset, value) in order, then CTRL polled
    const uint32_t wr_off[3] = {0x10, 0x18, 0x00}, wr_val[3] = {base, desc, 1};
    int host = 0;  // 0..2 writing register host, 3 polling
    bool done = false, error = false, rd_pending = false;
    long t0 = -1;
    auto lo = [&](uint32_t a) -> uint32_t { return a - base; };  // DRAM offset of a bus address
    while (!done && cyc < max_cycles) {
        // host side of AXI4-Lite
        t->s_axi_control_awvalid = host < 3; t->s_axi_control_wvalid = host < 3;
        if (host < 3) { t->s_axi_control_awaddr = wr_off[host]; t->s_axi_control_wdata = wr_val[host]; }
        t->s_axi_control_arvalid = host == 3 && !rd_pending; t->s_axi_control_araddr = 0;
        // drive the slave outputs for this cycle from the state
        t->m_axi_gmem_arready = !rd;
        t->m_axi_gmem_rvalid = rd && rleft > 0 && cyc >= rnext && cyc >= bus_free;
        if (t->m_axi_gmem_rvalid) {
            zero(t->m_axi_gmem_rdata);
            for (int b = 0; b < NB; b++) set_byte(t->m_axi_gmem_rdata, b, lo(raddr) + b < mem.size() ? mem[lo(raddr) + b] : 0);
            t->m_axi_gmem_rlast = rleft == 1;
        }
        t->m_axi_gmem_awready = !wr && bat < 0;
        t->m_axi_gmem_wready = wr && wleft > 0 && cyc >= wnext && cyc >= bus_free && !t->m_axi_gmem_rvalid;
        t->m_axi_gmem_bvalid = bat >= 0 && cyc >= bat;
        t->ap_clk = 0; t->eval();
        // sample the master's handshakes (before the edge)
        bool ar = t->m_axi_gmem_arvalid && t->m_axi_gmem_arready;
        uint32_t ara = t->m_axi_gmem_araddr; int arl = t->m_axi_gmem_arlen;
        bool r = t->m_axi_gmem_rvalid && t->m_axi_gmem_rready;
        bool aw = t->m_axi_gmem_awvalid && t->m_axi_gmem_awready;
        uint32_t awa = t->m_axi_gmem_awaddr; int awl = t->m_axi_gmem_awlen;
        bool w = t->m_axi_gmem_wvalid && t->m_axi_gmem_wready;
        uint8_t wd[NB];
        for (int b = 0; b < NB; b++) wd[b] = get_byte(t->m_axi_gmem_wdata, b);
        uint32_t ws = t->m_axi_gmem_wstrb;
        bool bh = t->m_axi_gmem_bvalid && t->m_axi_gmem_bready;
        bool lw = t->s_axi_control_awvalid && t->s_axi_control_awready;
        bool lar = t->s_axi_control_arvalid && t->s_axi_control_arready;
        bool lr = t->s_axi_control_rvalid && t->s_axi_control_rready;
        uint32_t lrd = t->s_axi_control_rdata;
        t->ap_clk = 1; t->eval();
        if (r) { raddr += NB; rleft--; rnext = cyc + gap; bus_free = cyc + gap; if (rleft == 0) rd = false; }
        if (ar && (ara & 4095) + (uint32_t)(arl + 1) * NB > 4096) { fprintf(stderr, "read burst crosses 4 KiB\n"); return 6; }
        if (aw && (awa & 4095) + (uint32_t)(awl + 1) * NB > 4096) { fprintf(stderr, "write burst crosses 4 KiB\n"); return 6; }
        if (ar) { rd = true; raddr = ara; rleft = arl + 1; rnext = cyc + lat; }
        if (w) {
            for (int b = 0; b < NB; b++)
                if ((ws >> b) & 1) { if (lo(waddr) + b >= mem.size()) { fprintf(stderr, "write past DRAM\n"); return 3; }
                                     mem[lo(waddr) + b] = wd[b]; }
            waddr += NB; wleft--; wnext = cyc + gap; bus_free = cyc + gap;
            if (wleft == 0) { wr = false; bat = cyc + lat; }
        }
        if (aw) { wr = true; waddr = awa; wleft = awl + 1; wnext = cyc + 1; }
        if (bh) bat = -1;
        if (lw) { if (host == 2) t0 = cyc; host++; }
        if (lar) rd_pending = true;
        if (lr) { rd_pending = false; if (lrd & 2) { done = true; error = (lrd >> 4) & 1; } }
        cyc++;
    }
    if (error) { fprintf(stderr, "engine error (unsupported descriptor)\n"); return 4; }
    if (!done) { fprintf(stderr, "timeout after %ld cycles\n", cyc); return 5; }
    cyc -= t0;
    f = fopen(argv[2], "wb");
    fwrite(mem.data(), 1, mem.size(), f);
    fclose(f);
    printf("cycles %ld\n", cyc);
    delete t;
    return 0;
}
