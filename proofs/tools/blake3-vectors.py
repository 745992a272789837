#!/usr/bin/env python3
"""Writes proofs/src/test/resources/blake3-vectors.txt with the reference BLAKE3 implementation
(PyPI 'blake3', bindings to the official Rust crate): "length digest32hex xof131hex" per line,
for the input bytes i % 251 that the BLAKE3 specification's own test vectors use. Lengths cover
the specification's set plus the subtree sizes our SIMD path takes.
Run: pip install blake3 && proofs/tools/blake3-vectors.py"""
import os
from blake3 import blake3

SPEC = [0, 1, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097,
        5120, 5121, 6144, 6145, 7168, 7169, 8192, 8193, 16384, 31744, 102400]
SIMD = [16 * 1024, 16 * 1024 + 1, 17 * 1024, 32 * 1024 - 1, 32 * 1024 + 1, 48 * 1024 + 7,
        255 * 1024, 512 * 1024, 512 * 1024 + 1, 1024 * 1024, 1024 * 1024 + 1023,
        3 * 1024 * 1024 + 17, 8 * 1024 * 1024]
here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "src", "test", "resources", "blake3-vectors.txt")
with open(out, "w") as f:
    for n in SPEC + SIMD:
        data = bytes(i % 251 for i in range(n))
        h = blake3(data)
        f.write(f"{n} {h.digest().hex()} {h.digest(length=131).hex()}\n")
print(out)
