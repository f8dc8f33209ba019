# Fused float/double wrappers over scipy's BLAS, so kernels are written once
# for both precisions.  BLAS takes non-const pointers; the casts below only
# drop the const qualifier, BLAS never writes to the inputs marked const.
from cython cimport floating
from scipy.linalg.cython_blas cimport (
    sdot, ddot, saxpy, daxpy, sscal, dscal, sgemv, dgemv, sgemm, dgemm, ssyrk, dsyrk,
)


cdef inline floating _dot(int n, const floating* x, int incx,
                          const floating* y, int incy) noexcept nogil:
    if floating is float:
        return sdot(&n, <float*> x, &incx, <float*> y, &incy)
    else:
        return ddot(&n, <double*> x, &incx, <double*> y, &incy)


cdef inline void _axpy(int n, floating a, const floating* x, int incx,
                       floating* y, int incy) noexcept nogil:
    if floating is float:
        saxpy(&n, &a, <float*> x, &incx, y, &incy)
    else:
        daxpy(&n, &a, <double*> x, &incx, y, &incy)


cdef inline void _scal(int n, floating a, floating* x, int incx) noexcept nogil:
    if floating is float:
        sscal(&n, &a, x, &incx)
    else:
        dscal(&n, &a, x, &incx)


cdef inline void _gemv(char trans, int m, int n, floating alpha,
                       const floating* A, int lda, const floating* x, int incx,
                       floating beta, floating* y, int incy) noexcept nogil:
    # Column-major y := alpha * op(A) @ x + beta * y with A of shape (m, n).
    if floating is float:
        sgemv(&trans, &m, &n, &alpha, <float*> A, &lda, <float*> x, &incx,
              &beta, y, &incy)
    else:
        dgemv(&trans, &m, &n, &alpha, <double*> A, &lda, <double*> x, &incx,
              &beta, y, &incy)


# OpenBLAS runs a gemv of fewer than this many matrix elements on one thread.
cdef enum:
    _GEMV_ONE_THREAD = 9216


cdef inline void _gemv_t_one_thread(int n, int p, const floating* A, int lda,
                                    const floating* x, floating* y) noexcept nogil:
    # y := A^T x for the column-major (n, p) matrix A, in column blocks that
    # OpenBLAS runs on the calling thread.  A threaded gemv leaves its worker
    # spinning on the second vCPU for the rest of a fit (measured on 100 x
    # 5000 coordinate descent: 4.1 ms back to back, 1.6 ms single-threaded),
    # and after an idle spell waits for it to wake (see _syrk).
    cdef int j0 = 0, mj
    cdef int cols = max(1, (<int> _GEMV_ONE_THREAD - 1) // max(n, 1))
    while j0 < p:
        mj = min(cols, p - j0)
        _gemv(c'T', n, mj, 1.0, A + <size_t> j0 * lda, lda, x, 1, 0.0, y + j0, 1)
        j0 += mj


# OpenBLAS runs syrk on all of its threads at any size, but a gemm of at most
# 64^3 multiply-adds on one (checked with per-thread CPU time).  On a 2-vCPU
# virtual machine, waking the second thread after an idle spell sometimes
# costs ~10 ms (measured: the Gram syrk of a 1000 x 100 fit took 11 ms in 3 of
# 9 fits, 1 ms otherwise), so _syrk runs small products as single-threaded
# gemm tiles: about 1 ms there, never stalled.
cdef enum:
    _SYRK_TILE = 64
    _SMALL_SYRK_WORK = 20000000  # n^2 k multiply-adds


cdef inline void _syrk(char uplo, char trans, int n, int k, floating alpha,
                       const floating* A, int lda, floating beta,
                       floating* C, int ldc) noexcept nogil:
    # Column-major C := alpha * op(A) @ op(A).T + beta * C, one triangle.
    # Small upper-triangle products go through _syrk_tiles, which also writes
    # the lower half of the diagonal tiles (every caller reads only the upper
    # triangle, or mirrors it).
    if uplo == c'U' and <double> n * n * k <= _SMALL_SYRK_WORK:
        _syrk_tiles(trans, n, k, alpha, A, lda, beta, C, ldc)
    elif floating is float:
        ssyrk(&uplo, &trans, &n, &k, &alpha, <float*> A, &lda, &beta, C, &ldc)
    else:
        dsyrk(&uplo, &trans, &n, &k, &alpha, <double*> A, &lda, &beta, C, &ldc)


cdef inline void _syrk_tiles(char trans, int n, int k, floating alpha,
                             const floating* A, int lda, floating beta,
                             floating* C, int ldc) noexcept nogil:
    # The upper triangle's 64 x 64 tiles of C, each a sum of gemm calls of
    # at most 64^3 multiply-adds.  trans 'N': A is (n, k); 'T': A is (k, n).
    cdef int i, j, i0, j0, k0, mi, mj, mk, rows
    cdef floating one = 1.0
    cdef const floating* Ai
    cdef const floating* Aj
    for j in range(n):
        rows = min(n, (j // _SYRK_TILE + 1) * _SYRK_TILE)
        for i in range(rows):
            C[i + <size_t> j * ldc] = 0.0 if beta == 0.0 else beta * C[i + <size_t> j * ldc]
    k0 = 0
    while k0 < k:
        mk = min(<int> _SYRK_TILE, k - k0)
        j0 = 0
        while j0 < n:
            mj = min(<int> _SYRK_TILE, n - j0)
            i0 = 0
            while i0 <= j0:
                mi = min(<int> _SYRK_TILE, n - i0)
                if trans == c'N':
                    Ai = A + i0 + <size_t> k0 * lda
                    Aj = A + j0 + <size_t> k0 * lda
                    _gemm(c'N', c'T', mi, mj, mk, alpha, Ai, lda, Aj, lda, one,
                          C + i0 + <size_t> j0 * ldc, ldc)
                else:
                    Ai = A + k0 + <size_t> i0 * lda
                    Aj = A + k0 + <size_t> j0 * lda
                    _gemm(c'T', c'N', mi, mj, mk, alpha, Ai, lda, Aj, lda, one,
                          C + i0 + <size_t> j0 * ldc, ldc)
                i0 += _SYRK_TILE
            j0 += _SYRK_TILE
        k0 += _SYRK_TILE


cdef inline void _gemm(char transa, char transb, int m, int n, int k,
                       floating alpha, const floating* A, int lda,
                       const floating* B, int ldb, floating beta,
                       floating* C, int ldc) noexcept nogil:
    # Column-major C := alpha * op(A) @ op(B) + beta * C, C of shape (m, n).
    if floating is float:
        sgemm(&transa, &transb, &m, &n, &k, &alpha, <float*> A, &lda,
              <float*> B, &ldb, &beta, C, &ldc)
    else:
        dgemm(&transa, &transb, &m, &n, &k, &alpha, <double*> A, &lda,
              <double*> B, &ldb, &beta, C, &ldc)
