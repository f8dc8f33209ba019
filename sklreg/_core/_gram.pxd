# Rows of the centred weighted Gram matrix on demand, for coordinate descent's
# GRAM layout (see _cd.pyx): a fit whose working sets stay small reads only
# the rows of the features it moves, so it forms those instead of all p.
from cython cimport floating
from libc.math cimport sqrt
from libc.stdlib cimport malloc, free

from ._blas cimport _gemm, _syrk, _SYRK_TILE, _SMALL_SYRK_WORK

cdef enum:
    # Rows of X gathered per block for the large (threaded) products.
    _ROWS_LARGE = 4096
    # Bytes of gathered columns per block in gram_complete.
    _COMPLETE_BLOCK_BYTES = 8388608


cdef inline void _gather(const floating* X, bint c_order, int n, int p,
                         const floating* x_mean, bint center,
                         const floating* sw, bint weighted, bint root,
                         const int* cols, int m, int l0, int ml,
                         floating* B) noexcept nogil:
    """B (column-major, ml x m) = s^e (X[l0:l0+ml, cols] - xbar[cols]), with
    e = 1/2 if root else 1; X is read along its rows when C-ordered."""
    cdef int i, k, j
    cdef double s
    if c_order:
        for i in range(ml):
            s = (sqrt(sw[l0 + i]) if root else sw[l0 + i]) if weighted else 1.0
            for k in range(m):
                j = cols[k]
                B[i + <size_t> k * ml] = <floating> (
                    s * (X[<size_t> (l0 + i) * p + j] - (x_mean[j] if center else 0.0)))
    else:
        for k in range(m):
            j = cols[k]
            for i in range(ml):
                s = (sqrt(sw[l0 + i]) if root else sw[l0 + i]) if weighted else 1.0
                B[i + <size_t> k * ml] = <floating> (
                    s * (X[l0 + i + <size_t> j * n] - (x_mean[j] if center else 0.0)))


cdef inline bint gram_rows(const floating* X, bint c_order, int n, int p,
                           const floating* x_mean, bint center,
                           const floating* sw, bint weighted,
                           const int* rows, int m, floating* Q) noexcept nogil:
    """Q[rows[k], :] = xc_{rows[k]}^T S Xc for k < m, Q being (p, p) in C order.

    X is (n, p), C- or Fortran-contiguous.  Blocks of the centred, weighted
    columns B = S (X[:, rows] - xbar) are gathered and multiplied by X itself:
    Xc^T B = X^T B - xbar (1^T B), where 1^T B is zero up to rounding and is
    subtracted all the same.  Small products run as single-threaded gemm
    tiles (see _blas._syrk).  Returns False if out of memory (Q unchanged
    where it matters: the caller must not mark the rows as formed).
    """
    cdef bint tiled = <double> n * p * m <= _SMALL_SYRK_WORK
    # Tiles: all of p (or 64 rows) by up to 64 features by as many rows of X
    # as keep each gemm single-threaded.
    cdef int tile = _SYRK_TILE
    cdef int tile_k = min(m, tile) if tiled else m
    cdef int tile_i = (p if p * tile_k <= tile * tile else tile) if tiled else p
    # (OpenBLAS runs a gemm of at most 64^3 multiply-adds on one thread.)
    cdef int block = (max(tile, tile * tile * tile // (tile_i * tile_k))
                      if tiled else <int> _ROWS_LARGE)
    cdef int i, k, j, l0, ml, i0, mi, k0, mk
    cdef floating one = 1.0
    cdef floating* B
    cdef floating* T
    cdef double* colsum
    block = min(block, n)
    B = <floating*> malloc(<size_t> block * m * sizeof(floating))
    T = <floating*> malloc(<size_t> p * m * sizeof(floating))
    colsum = <double*> malloc(<size_t> m * sizeof(double))
    if B == NULL or T == NULL or colsum == NULL:
        free(B)
        free(T)
        free(colsum)
        return False
    # T (column-major, p x m) accumulates X^T B over the row blocks.
    for i in range(p * m):
        T[i] = 0.0
    for k in range(m):
        colsum[k] = 0.0
    l0 = 0
    while l0 < n:
        ml = min(block, n - l0)
        _gather(X, c_order, n, p, x_mean, center, sw, weighted, False, rows, m, l0, ml, B)
        for k in range(m):
            for i in range(ml):
                colsum[k] += B[i + <size_t> k * ml]
        # T += X[l0:l0+ml, :]^T B, tile by tile.
        i0 = 0
        while i0 < p:
            mi = min(tile_i, p - i0)
            k0 = 0
            while k0 < m:
                mk = min(tile_k, m - k0)
                if c_order:
                    # C-ordered X is the column-major (p, n) matrix X^T.
                    _gemm(c'N', c'N', mi, mk, ml, one, X + i0 + <size_t> l0 * p, p,
                          B + <size_t> k0 * ml, ml, one, T + i0 + <size_t> k0 * p, p)
                else:
                    _gemm(c'T', c'N', mi, mk, ml, one, X + l0 + <size_t> i0 * n, n,
                          B + <size_t> k0 * ml, ml, one, T + i0 + <size_t> k0 * p, p)
                k0 += mk
            i0 += mi
        l0 += ml
    for k in range(m):
        j = rows[k]
        for i in range(p):
            Q[<size_t> j * p + i] = <floating> (
                T[i + <size_t> k * p] - ((x_mean[i] * colsum[k]) if center else 0.0))
    free(B)
    free(T)
    free(colsum)
    return True


cdef inline bint gram_complete(const floating* X, bint c_order, int n, int p,
                               const floating* x_mean, bint center,
                               const floating* sw, bint weighted,
                               const unsigned char* have, floating* Q) noexcept nogil:
    """Form every row of Q that ``have`` marks missing (see gram_rows).

    The block of Q among the missing features M comes from one syrk over
    their centred, weighted columns (n |M|^2 / 2 multiply-adds); the rest of
    their rows is the transpose of the formed rows.  So rows formed earlier
    are not formed again: forming r p rows, then the rest, costs about
    2 r + (1 - r)^2 times one syrk over all of X.  Returns False if out of
    memory."""
    cdef int mm = 0, i, j, a, b, l0, ml, block
    cdef floating beta = 0.0
    cdef floating v
    cdef int* M = <int*> malloc(<size_t> max(p, 1) * sizeof(int))
    cdef floating* B
    cdef floating* C
    if M == NULL:
        return False
    for j in range(p):
        if not have[j]:
            M[mm] = j
            mm += 1
    if mm == 0:
        free(M)
        return True
    block = max(1, min(n, <int> (_COMPLETE_BLOCK_BYTES // (mm * sizeof(floating)))))
    B = <floating*> malloc(<size_t> block * mm * sizeof(floating))
    C = <floating*> malloc(<size_t> mm * mm * sizeof(floating))
    if B == NULL or C == NULL:
        free(M)
        free(B)
        free(C)
        return False
    if n == 0:
        for i in range(mm * mm):
            C[i] = 0.0
    l0 = 0
    while l0 < n:
        ml = min(block, n - l0)
        _gather(X, c_order, n, p, x_mean, center, sw, weighted, True, M, mm, l0, ml, B)
        # C (column-major, upper triangle) += B^T B, B being (ml, mm).
        _syrk(c'U', c'T', mm, ml, 1.0, B, ml, beta, C, mm)
        beta = 1.0
        l0 += ml
    for b in range(mm):
        for a in range(b + 1):
            v = C[a + <size_t> b * mm]
            Q[<size_t> M[a] * p + M[b]] = v
            Q[<size_t> M[b] * p + M[a]] = v
    for a in range(mm):
        for j in range(p):
            if have[j]:
                Q[<size_t> M[a] * p + j] = Q[<size_t> j * p + M[a]]
    free(M)
    free(B)
    free(C)
    return True
