/*
 * Writes Reed-Solomon test vectors computed by ISA-L (gf_gen_cauchy1_matrix + ec_init_tables +
 * ec_encode_data), one line per case: "k m len seed parityhex". Data shards are filled, shard
 * after shard, with the low byte of a 32-bit xorshift (13, 17, 5) started at seed; the Java test
 * regenerates the same data and expects byte-identical parity.
 * Build and run: erasure/tools/isal-vectors.sh
 */
#include <isa-l/erasure_code.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void one(int k, int m, int len, uint32_t seed) {
    int n = k + m;
    unsigned char *a = malloc((size_t) n * k);
    unsigned char *g = malloc((size_t) 32 * k * m);
    unsigned char *data[256], *parity[256];
    uint32_t s = seed;
    for (int i = 0; i < n; i++) {
        unsigned char *p = malloc(len > 0 ? len : 1);
        if (i < k) {
            for (int b = 0; b < len; b++) {
                s ^= s << 13; s ^= s >> 17; s ^= s << 5;
                p[b] = (unsigned char) s;
            }
            data[i] = p;
        } else {
            parity[i - k] = p;
        }
    }
    gf_gen_cauchy1_matrix(a, n, k);
    ec_init_tables(k, m, &a[k * k], g);
    if (m > 0 && len > 0) {
        ec_encode_data(len, k, m, g, data, parity);
    }
    printf("%d %d %d %u ", k, m, len, seed);
    for (int i = 0; i < m; i++)
        for (int b = 0; b < len; b++) printf("%02x", parity[i][b]);
    printf("%s\n", m * len == 0 ? "-" : "");
    for (int i = 0; i < k; i++) free(data[i]);
    for (int i = 0; i < m; i++) free(parity[i]);
    free(a); free(g);
}

int main(void) {
    static const int shapes[][2] = {{1, 1}, {2, 1}, {3, 2}, {4, 2}, {6, 3}, {8, 4}, {10, 4},
                                    {12, 4}, {17, 3}, {20, 10}, {32, 8}, {64, 16}, {128, 32}, {200, 56}};
    static const int lens[] = {1, 15, 16, 31, 63, 64, 65, 127, 129, 200};
    uint32_t seed = 1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            int len = shapes[i][0] >= 64 ? lens[j] / 4 + 1 : lens[j];
            one(shapes[i][0], shapes[i][1], len, seed++);
        }
    one(10, 4, 4099, 4242);
    one(4, 2, 8192 + 33, 777);
    one(1, 255, 70, 9);
    one(255, 1, 70, 10);
    return 0;
}
