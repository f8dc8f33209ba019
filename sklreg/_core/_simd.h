/* SKLREG_SIMD_CLONES: compile a plain C loop twice, for AVX2 and for baseline
 * x86-64 (SSE2), and let the loader pick one (GCC's target_clones).  A
 * distributable build cannot assume AVX2, and the compiler only widens a
 * loop to the lanes its target allows.  AVX2 alone does not enable FMA, so
 * both versions round identically: results do not depend on the machine. */
#ifndef SKLREG_SIMD_H
#define SKLREG_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SKLREG_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SKLREG_SIMD_CLONES
#endif

#endif
