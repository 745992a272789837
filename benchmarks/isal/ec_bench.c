/*
 * ISA-L's own Reed-Solomon speed for the shapes ErasureBenchmark measures, so the Java/ISA-L
 * ratio comes from one run on one machine. For each RS(k, m) and shard size: encode (all m
 * parity shards) and reconstruct of data shards 0 and 1 from the next k shards (decode matrix
 * from gf_invert_matrix, as ISA-L's examples do). Five rounds of 0.5 s each after a warm-up; prints
 * one line per case: "isal <op> <k> <m> <shard bytes> <median GB/s of data bytes> <min> <max>".
 * Built and run by benchmarks/run.sh (needs Debian's libisal-dev).
 */
#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

typedef void (*op_fn)(int len, int k, int rows, unsigned char *tbls, unsigned char **in, unsigned char **out);

static void measure(const char *name, int k, int m, int len, int rows, unsigned char *tbls,
                    unsigned char **in, unsigned char **out) {
    double rates[5];
    for (int w = 0; w < 50; w++) ec_encode_data(len, k, rows, tbls, in, out);
    for (int r = 0; r < 5; r++) {
        long iters = 0;
        double start = now(), t;
        do {
            for (int i = 0; i < 8; i++) ec_encode_data(len, k, rows, tbls, in, out);
            iters += 8;
        } while ((t = now() - start) < 0.5);
        rates[r] = (double) iters * k * len / t / 1e9;
    }
    qsort(rates, 5, sizeof rates[0], cmp);
    printf("isal %s %d %d %d %.3f %.3f %.3f\n", name, k, m, len, rates[2], rates[0], rates[4]);
    fflush(stdout);
}

static void run(int k, int m, int len) {
    int n = k + m;
    unsigned char *a = malloc(n * k), *tbls = malloc(32 * k * m), *shards[256];
    for (int i = 0; i < n; i++) {
        if (posix_memalign((void **) &shards[i], 64, len)) exit(1);
        for (int b = 0; b < len; b++) shards[i][b] = rand();
    }
    gf_gen_cauchy1_matrix(a, n, k);
    ec_init_tables(k, m, &a[k * k], tbls);
    measure("encode", k, m, len, m, tbls, shards, &shards[k]);

    /* lose data shards 0 and 1; decode from shards 2 .. k+1 */
    unsigned char *sub = malloc(k * k), *inv = malloc(k * k), *rows = malloc(2 * k), *dtbls = malloc(32 * k * 2);
    unsigned char *src[256], *lost[2] = {malloc(len), malloc(len)};
    for (int i = 0; i < k; i++) {
        memcpy(&sub[i * k], &a[(i + 2) * k], k);
        src[i] = shards[i + 2];
    }
    if (gf_invert_matrix(sub, inv, k) != 0) { fprintf(stderr, "singular\n"); exit(1); }
    memcpy(rows, inv, 2 * k);
    ec_init_tables(k, 2, rows, dtbls);
    measure("reconstruct2", k, m, len, 2, dtbls, src, lost);
    if (memcmp(lost[0], shards[0], len) || memcmp(lost[1], shards[1], len)) {
        fprintf(stderr, "reconstruct mismatch\n");
        exit(1);
    }
    for (int i = 0; i < n; i++) free(shards[i]);
    free(a); free(tbls); free(sub); free(inv); free(rows); free(dtbls); free(lost[0]); free(lost[1]);
}

int main(void) {
    int shapes[][2] = {{4, 2}, {10, 4}, {17, 3}};
    int sizes[] = {65536, 1048576};
    for (int s = 0; s < 3; s++)
        for (int z = 0; z < 2; z++) run(shapes[s][0], shapes[s][1], sizes[z]);
    return 0;
}
