/* One read of dense X for what a fit needs from it before solving: per
 * column j, with weights w and weighted targets WY (k rows of n),
 *
 *     sums_j = sum_i w_i x_ij,  sumsq_j = sum_i w_i x_ij^2,
 *     xty[k][j] = sum_i WY[k][i] x_ij,
 *
 * accumulated in double for float and double X.  Plain C for the AVX2 and
 * SSE2 versions (_simd.h): on 200000 x 300 the row loop takes 57 ms in SSE2
 * and 50 ms in AVX2 on one thread, where a plain read takes about 29 ms (its
 * three accumulators per element keep it bound by loads and stores).
 */
#ifndef SKLREG_MOMENTS_H
#define SKLREG_MOMENTS_H

#include <stddef.h>

#include "_simd.h"

#define SKLREG_DEFINE_MOMENTS(T, SUFFIX)                                                  \
/* C-ordered rows [i_begin, i_end) of X (row length p), added into out: sums,            \
 * sumsq, then the k rows of xty, each p long.  Vectorised across the row. */             \
SKLREG_SIMD_CLONES static void sklreg_row_moments_##SUFFIX(                               \
        const T *restrict X, ptrdiff_t i_begin, ptrdiff_t i_end, ptrdiff_t p,            \
        ptrdiff_t k, const double *restrict w, const double *restrict WY, ptrdiff_t n,   \
        double *restrict out)                                                             \
{                                                                                         \
    double *restrict sums = out;                                                          \
    double *restrict sumsq = out + p;                                                     \
    for (ptrdiff_t i = i_begin; i < i_end; i++) {                                         \
        const T *restrict row = X + i * p;                                                \
        const double s = w[i];                                                            \
        for (ptrdiff_t j = 0; j < p; j++) {                                               \
            double x = row[j], sx = s * x;                                                \
            sums[j] += sx;                                                                \
            sumsq[j] += sx * x;                                                           \
        }                                                                                 \
        for (ptrdiff_t kk = 0; kk < k; kk++) {                                            \
            const double a = WY[kk * n + i];                                              \
            double *restrict xty = out + (2 + kk) * p;                                    \
            for (ptrdiff_t j = 0; j < p; j++)                                             \
                xty[j] += a * row[j];                                                     \
        }                                                                                 \
    }                                                                                     \
}                                                                                         \
                                                                                          \
/* One contiguous column (a column of Fortran-ordered X): sums over i, in                 \
 * SIMD lanes (the reduction pragma lets the additions be reordered).  The                \
 * first target shares the read of the column (one loop: 68 ms for 200000 x              \
 * 300 against 94 ms for two); with no target, that product is made with w                \
 * and dropped.  Further targets (rare) redo the two sums, so that one loop              \
 * serves every case. */                                                                  \
SKLREG_SIMD_CLONES static void sklreg_column_moments_##SUFFIX(                            \
        const T *restrict col, ptrdiff_t n, ptrdiff_t k, const double *restrict w,       \
        const double *restrict WY, double *restrict sum, double *restrict sumsq,         \
        double *restrict xty, ptrdiff_t xty_stride)                                       \
{                                                                                         \
    for (ptrdiff_t kk = 0; kk < (k > 0 ? k : 1); kk++) {                                  \
        const double *restrict a = k > 0 ? WY + kk * n : w;                               \
        double s = 0, q = 0, d = 0;                                                       \
        _Pragma("omp simd reduction(+:s, q, d)")                                          \
        for (ptrdiff_t i = 0; i < n; i++) {                                               \
            double x = col[i], wx = w[i] * x;                                             \
            s += wx;                                                                      \
            q += wx * x;                                                                  \
            d += a[i] * x;                                                                \
        }                                                                                 \
        if (kk == 0) {                                                                    \
            *sum = s;                                                                     \
            *sumsq = q;                                                                   \
        }                                                                                 \
        if (k > 0)                                                                        \
            xty[kk * xty_stride] = d;                                                     \
    }                                                                                     \
}

SKLREG_DEFINE_MOMENTS(float, f32)
SKLREG_DEFINE_MOMENTS(double, f64)

#endif
