/* Coordinate descent on C-ordered (row-major) dense X without a Fortran copy
 * (_cd.pyx, DENSE layout with X_rows): the two loops that read X by rows.
 *
 * - sklreg_rows_xtv: y = X^T v for X of n rows of length p, in blocks of
 *   columns short enough for the block of y to stay in L1 while every row
 *   adds into it.  One read of X, on the calling thread (a threaded BLAS
 *   gemv would leave its worker spinning for the rest of the fit; see
 *   _blas.pxd), in the data's precision as the Fortran path's gemv.
 * - sklreg_gather_columns: copy the columns feats[0..m) of X into out, one
 *   contiguous column of n after another (the working set's columns, which
 *   the sweeps then read as the Fortran path reads X's).
 */
#ifndef SKLREG_ROWS_H
#define SKLREG_ROWS_H

#include <stddef.h>

#include "_simd.h"

/* Columns of y per block: 8 KB of doubles. */
#define SKLREG_ROWS_BLOCK 1024

#define SKLREG_DEFINE_ROWS(T, SUFFIX)                                                     \
SKLREG_SIMD_CLONES static void sklreg_rows_xtv_##SUFFIX(                                  \
        const T *restrict X, ptrdiff_t n, ptrdiff_t p, const T *restrict v,              \
        T *restrict y)                                                                    \
{                                                                                         \
    for (ptrdiff_t j0 = 0; j0 < p; j0 += SKLREG_ROWS_BLOCK) {                             \
        ptrdiff_t jb = p - j0 < SKLREG_ROWS_BLOCK ? p - j0 : SKLREG_ROWS_BLOCK;           \
        T *restrict yb = y + j0;                                                          \
        for (ptrdiff_t j = 0; j < jb; j++)                                                \
            yb[j] = 0;                                                                    \
        ptrdiff_t i = 0;                                                                  \
        /* Four rows per update of y: one load and store of y per four */                \
        /* products (one row at a time was store-bound, 1.6x the gemv). */                \
        for (; i + 4 <= n; i += 4) {                                                      \
            const T *restrict r0 = X + i * p + j0, *restrict r1 = r0 + p;                 \
            const T *restrict r2 = r1 + p, *restrict r3 = r2 + p;                         \
            const T a0 = v[i], a1 = v[i + 1], a2 = v[i + 2], a3 = v[i + 3];               \
            for (ptrdiff_t j = 0; j < jb; j++)                                            \
                yb[j] += (a0 * r0[j] + a1 * r1[j]) + (a2 * r2[j] + a3 * r3[j]);           \
        }                                                                                 \
        for (; i < n; i++) {                                                              \
            const T *restrict row = X + i * p + j0;                                       \
            const T a = v[i];                                                             \
            for (ptrdiff_t j = 0; j < jb; j++)                                            \
                yb[j] += a * row[j];                                                      \
        }                                                                                 \
    }                                                                                     \
}                                                                                         \
                                                                                          \
static void sklreg_gather_columns_##SUFFIX(                                               \
        const T *restrict X, ptrdiff_t n, ptrdiff_t p, const int *restrict feats,        \
        ptrdiff_t m, T *restrict out)                                                     \
{                                                                                         \
    for (ptrdiff_t i = 0; i < n; i++) {                                                   \
        const T *restrict row = X + i * p;                                                \
        for (ptrdiff_t k = 0; k < m; k++)                                                 \
            out[k * n + i] = row[feats[k]];                                               \
    }                                                                                     \
}

SKLREG_DEFINE_ROWS(float, f32)
SKLREG_DEFINE_ROWS(double, f64)

#endif
