// qloom Alveo kernel testbench: what XRT and the shell do around qloom_alveo_kernel.
//
// usage: Vkernel IN.bin OUT.bin N_FRAMES OUT_BYTES MAX_CYCLES X_OFF Y_OFF N_OFF
//   IN.bin     the input buffer (bytes, as the host writes it to device memory)
//   OUT.bin    the output buffer read back after ap_done (OUT_BYTES bytes)
//   N_FRAMES   the n_frames argument
//   X_OFF, Y_OFF, N_OFF  register offsets of the arguments x, y, n_frames (from kernel.xml)
// The memory model is an AXI4 slave with pseudo-random stalls on every channel; it fails
// ("axi-error") on a burst that crosses a 4 KB boundary, is not INCR of whole words, or
// writes outside the output buffer. The AXI4-Lite master writes the arguments, enables the
// ap_done interrupt, sets ap_start, polls 0x00 until ap_done, checks the interrupt, that
// ap_done cleared on read and ap_idle, and clears the interrupt status.
// stdout: "end CYCLES STATUS KERNEL_CYCLES", STATUS ok|timeout|axi-error|ctrl-error
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "verilated.h"
#include "Vqloom_alveo_kernel.h"

static uint32_t lcg = 12345;
static bool coin(int percent) {
    lcg = lcg * 1103515245u + 12345u;
    return (int)((lcg >> 16) % 100) < percent;
}

struct Burst { uint64_t addr; int len; int done; };
struct LiteOp { bool write; uint32_t addr, data; };

int main(int argc, char** argv) {
    if (argc < 9) {
        fprintf(stderr, "usage: %s IN.bin OUT.bin N_FRAMES OUT_BYTES MAX_CYCLES X_OFF Y_OFF N_OFF\n", argv[0]);
        return 3;
    }
    std::vector<uint8_t> in;
    FILE* f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 3; }
    int c;
    while ((c = fgetc(f)) != EOF) in.push_back((uint8_t)c);
    fclose(f);
    const uint32_t n_frames = (uint32_t)strtoul(argv[3], nullptr, 0);
    const long out_bytes = atol(argv[4]);
    const long max_cycles = atol(argv[5]);
    const uint32_t x_off = (uint32_t)strtoul(argv[6], nullptr, 0);
    const uint32_t y_off = (uint32_t)strtoul(argv[7], nullptr, 0);
    const uint32_t n_off = (uint32_t)strtoul(argv[8], nullptr, 0);

    const int WB = (int)sizeof(((Vqloom_alveo_kernel*)nullptr)->m_axi_gmem_rdata);  // bytes per word
    // buffers on purpose not 4 KB aligned (64-byte aligned only), so bursts must split at pages
    const uint64_t X = 0x100001040ull;  // above 4 GB: the high address words matter
    const uint64_t in_len = (in.size() + WB - 1) / WB * WB;
    const uint64_t Y = (X + in_len + 4095) / 4096 * 4096 + 0xF80;
    const uint64_t out_len = (out_bytes + WB - 1) / WB * WB;
    const uint64_t BASE = X & ~0xFFFull;
    std::vector<uint8_t> mem(Y + out_len + 4096 - BASE, 0xCD);
    memcpy(&mem[X - BASE], in.data(), in.size());

    VerilatedContext ctx;
    Vqloom_alveo_kernel* t = new Vqloom_alveo_kernel(&ctx);
    t->ap_clk = 0;
    t->ap_rst_n = 0;
    for (int i = 0; i < 16; i++) { t->ap_clk = 1; t->eval(); t->ap_clk = 0; t->eval(); }
    t->ap_rst_n = 1;

    std::deque<LiteOp> ops = {
        {true, x_off, (uint32_t)X}, {true, x_off + 4, (uint32_t)(X >> 32)},
        {true, y_off, (uint32_t)Y}, {true, y_off + 4, (uint32_t)(Y >> 32)},
        {true, n_off, n_frames}, {true, 0x04, 1}, {true, 0x08, 1},
        {false, 0x00, 0},  // expect ap_idle before the start
        {true, 0x00, 1},   // ap_start
    };
    enum { PRE, POLL, AFTER, CLEAR, DONE } phase = PRE;
    bool lite_aw = false, lite_w = false, lite_ar = false, lite_busy = false;
    const char* status = "timeout";
    long start_cycle = -1, done_cycle = -1;

    std::deque<Burst> rq, wq;  // accepted read / write bursts
    int b_pending = 0, b_delay = 0;
    long cyc = 0;
    for (; cyc < max_cycles; cyc++) {
        // ---- drive the AXI4-Lite master
        if (!lite_busy && !ops.empty()) {
            const LiteOp& op = ops.front();
            lite_busy = true;
            if (op.write) { lite_aw = lite_w = true; } else { lite_ar = true; }
        }
        const LiteOp* op = ops.empty() ? nullptr : &ops.front();
        t->s_axi_control_awvalid = lite_aw;
        t->s_axi_control_awaddr = op ? op->addr : 0;
        t->s_axi_control_wvalid = lite_w;
        t->s_axi_control_wdata = op ? op->data : 0;
        t->s_axi_control_wstrb = 0xF;
        t->s_axi_control_bready = 1;
        t->s_axi_control_arvalid = lite_ar;
        t->s_axi_control_araddr = op ? op->addr : 0;
        t->s_axi_control_rready = 1;
        // ---- drive the memory slave
        t->m_axi_gmem_arready = rq.size() < 2 && coin(70);
        bool rv = !rq.empty() && coin(75);
        t->m_axi_gmem_rvalid = rv;
        if (rv) {
            const Burst& b = rq.front();
            uint64_t a = b.addr + (uint64_t)b.done * WB;
            if (a < BASE || a + WB > BASE + mem.size()) { status = "axi-error"; break; }
            memcpy(&t->m_axi_gmem_rdata, &mem[a - BASE], WB);
            t->m_axi_gmem_rlast = (b.done == b.len - 1);
        } else {
            t->m_axi_gmem_rlast = 0;
        }
        t->m_axi_gmem_rresp = 0;
        t->m_axi_gmem_awready = wq.empty() && coin(70);
        t->m_axi_gmem_wready = !wq.empty() && coin(75);
        t->m_axi_gmem_bvalid = b_pending > 0 && b_delay == 0;
        t->m_axi_gmem_bresp = 0;
        t->ap_clk = 0;
        t->eval();
        // ---- handshakes seen at this rising edge
        bool ar = t->m_axi_gmem_arvalid && t->m_axi_gmem_arready;
        uint64_t araddr = t->m_axi_gmem_araddr; int arlen = t->m_axi_gmem_arlen + 1;
        int arsize = t->m_axi_gmem_arsize, arburst = t->m_axi_gmem_arburst;
        bool r = rv && t->m_axi_gmem_rready;
        bool rl = r && t->m_axi_gmem_rlast;
        bool aw = t->m_axi_gmem_awvalid && t->m_axi_gmem_awready;
        uint64_t awaddr = t->m_axi_gmem_awaddr; int awlen = t->m_axi_gmem_awlen + 1;
        int awsize = t->m_axi_gmem_awsize, awburst = t->m_axi_gmem_awburst;
        bool w = t->m_axi_gmem_wvalid && t->m_axi_gmem_wready;
        bool wlast = t->m_axi_gmem_wlast;
        std::vector<uint8_t> wdata(WB);
        if (w) memcpy(wdata.data(), &t->m_axi_gmem_wdata, WB);
        bool b = t->m_axi_gmem_bvalid && t->m_axi_gmem_bready;
        bool l_aw = lite_aw && t->s_axi_control_awready;
        bool l_w = lite_w && t->s_axi_control_wready;
        bool l_b = t->s_axi_control_bvalid;
        bool l_ar = lite_ar && t->s_axi_control_arready;
        bool l_r = t->s_axi_control_rvalid;
        uint32_t l_rdata = t->s_axi_control_rdata;
        bool irq = t->__SYM__interrupt;  // Verilator renames the port (a C++ reserved word for it)
        t->ap_clk = 1;
        t->eval();
        // ---- memory model
        auto bad = [&](uint64_t a, int len, int size, int burst) {
            return (1 << size) != WB || burst != 1 || a % WB || (a >> 12) != ((a + (uint64_t)len * WB - 1) >> 12);
        };
        if (ar) {
            if (bad(araddr, arlen, arsize, arburst)) { status = "axi-error"; break; }
            rq.push_back({araddr, arlen, 0});
        }
        if (r) {
            Burst& bb = rq.front();
            if (rl != (bb.done == bb.len - 1)) { status = "axi-error"; break; }
            if (++bb.done == bb.len) rq.pop_front();
        }
        if (aw) {
            if (bad(awaddr, awlen, awsize, awburst) || awaddr < Y || awaddr + (uint64_t)awlen * WB > Y + out_len) {
                status = "axi-error"; break;
            }
            wq.push_back({awaddr, awlen, 0});
        }
        if (w) {
            if (wq.empty()) { status = "axi-error"; break; }  // W before AW: this model wants AW first
            Burst& bb = wq.front();
            memcpy(&mem[bb.addr + (uint64_t)bb.done * WB - BASE], wdata.data(), WB);
            bool last = (++bb.done == bb.len);
            if (wlast != last) { status = "axi-error"; break; }
            if (last) { wq.pop_front(); b_pending++; b_delay = 3; }
        }
        if (b) b_pending--;
        if (b_delay > 0) b_delay--;
        // ---- AXI4-Lite master
        if (l_aw) lite_aw = false;
        if (l_w) lite_w = false;
        if (l_ar) lite_ar = false;
        bool finished = false;
        uint32_t value = 0;
        if (lite_busy && op && op->write && l_b) finished = true;
        if (lite_busy && op && !op->write && l_r) { finished = true; value = l_rdata; }
        if (finished) {
            LiteOp o = *op;
            ops.pop_front();
            lite_busy = false;
            if (o.write && o.addr == 0x00 && start_cycle < 0) start_cycle = cyc;
            if (!o.write && o.addr == 0x00) {
                if (phase == PRE) {
                    if (!(value & 4)) { status = "ctrl-error"; break; }   // ap_idle
                    phase = POLL;
                } else if (phase == POLL) {
                    if (value & 2) {                                      // ap_done
                        done_cycle = cyc;
                        if (!(value & 4) || !irq) { status = "ctrl-error"; break; }
                        phase = AFTER;
                        ops.push_back({false, 0x00, 0});
                    } else {
                        ops.push_back({false, 0x00, 0});
                    }
                } else if (phase == AFTER) {
                    if ((value & 2) || !(value & 4)) { status = "ctrl-error"; break; }  // cleared on read
                    phase = CLEAR;
                    ops.push_back({true, 0x0C, 1});
                    ops.push_back({false, 0x0C, 0});
                }
            } else if (!o.write && o.addr == 0x0C) {
                if (value != 0 || irq) { status = "ctrl-error"; break; }
                phase = DONE;
            }
        }
        if (phase == POLL && ops.empty() && !lite_busy) ops.push_back({false, 0x00, 0});
        if (phase == DONE) { status = "ok"; cyc++; break; }
    }
    FILE* g = fopen(argv[2], "wb");
    if (!g) { perror(argv[2]); return 3; }
    if (out_bytes) fwrite(&mem[Y - BASE], 1, out_bytes, g);
    fclose(g);
    printf("end %ld %s %ld\n", cyc, status, (start_cycle >= 0 && done_cycle >= 0) ? done_cycle - start_cycle : -1L);
    t->final();
    delete t;
    return 0;
}
