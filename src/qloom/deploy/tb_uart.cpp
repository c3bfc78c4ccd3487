// qloom UART testbench: the host (FTDI) side of qloom_uart_link at the bit level.
//
// usage: Vlink IN.bin OUT.bin N_OUT_BYTES HOST_CYCLES_PER_BIT MAX_CYCLES
//   IN.bin       bytes the host sends on uart_rxd (8N1, LSB first, back to back)
//   OUT.bin      bytes decoded from uart_txd (written at the end)
//   N_OUT_BYTES  stop once this many bytes have been received
//   HOST_CYCLES_PER_BIT  the host's bit period in FPGA clock cycles (a real number:
//                e.g. 50 MHz / 3 Mbaud = 16.667 while the FPGA counts whole cycles)
//   MAX_CYCLES   give up after this many cycles
// stdout: "end CYCLES STATUS RX_BYTES STATUS_PINS", STATUS ok|timeout|framing
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>

#include "verilated.h"
#include "Vqloom_uart_link.h"

int main(int argc, char** argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s IN.bin OUT.bin N_OUT_BYTES HOST_CYCLES_PER_BIT MAX_CYCLES\n", argv[0]);
        return 3;
    }
    std::vector<uint8_t> in;
    FILE* f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 3; }
    int c;
    while ((c = fgetc(f)) != EOF) in.push_back((uint8_t)c);
    fclose(f);
    const long n_out = atol(argv[3]);
    const double period = atof(argv[4]);
    const long max_cycles = atol(argv[5]);

    VerilatedContext ctx;
    Vqloom_uart_link* t = new Vqloom_uart_link(&ctx);
    t->ap_clk = 0;
    t->ap_rst_n = 0;
    t->uart_rxd = 1;
    for (int i = 0; i < 16; i++) {
        t->ap_clk = 1; t->eval(); t->ap_clk = 0; t->eval();
    }
    t->ap_rst_n = 1;

    // host transmitter: byte k's bit j (0 start, 1..8 data, 9 stop) starts at
    // round(start + (10k + j) * period) cycles, start a few idle bits after reset
    const double start = 4 * period;
    const long total_bits = (long)in.size() * 10;
    // host receiver: falling edge -> sample at mid-bit
    std::vector<uint8_t> out;
    bool rx_busy = false;
    double rx_t0 = 0;
    int rx_bit = 0;
    uint8_t rx_byte = 0;
    int last_txd = 1;
    const char* status = "timeout";
    long cyc = 0;
    for (; cyc < max_cycles; cyc++) {
        // drive uart_rxd for this cycle
        long b = (long)floor((cyc - start) / period);
        int level = 1;
        if (cyc >= start && b < total_bits) {
            long k = b / 10, j = b % 10;
            level = (j == 0) ? 0 : (j == 9) ? 1 : ((in[k] >> (j - 1)) & 1);
        }
        t->uart_rxd = level;
        t->ap_clk = 1; t->eval(); t->ap_clk = 0; t->eval();
        int txd = t->uart_txd;
        if (!rx_busy) {
            if (last_txd == 1 && txd == 0) { rx_busy = true; rx_t0 = cyc; rx_bit = 0; rx_byte = 0; }
        } else {
            // sample bit rx_bit at rx_t0 + (rx_bit + 0.5) * period
            if (cyc >= (long)floor(rx_t0 + (rx_bit + 0.5) * period)) {
                if (rx_bit >= 1 && rx_bit <= 8) rx_byte |= (uint8_t)(txd << (rx_bit - 1));
                if (rx_bit == 9) {
                    rx_busy = false;
                    if (!txd) { status = "framing"; break; }
                    out.push_back(rx_byte);
                    if ((long)out.size() >= n_out) { status = "ok"; cyc++; break; }
                }
                rx_bit++;
            }
        }
        last_txd = txd;
    }
    FILE* g = fopen(argv[2], "wb");
    if (!g) { perror(argv[2]); return 3; }
    if (!out.empty()) fwrite(out.data(), 1, out.size(), g);
    fclose(g);
    printf("end %ld %s %zu %u\n", cyc, status, out.size(), (unsigned)t->status);
    t->final();
    delete t;
    return 0;
}
