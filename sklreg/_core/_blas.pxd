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


cdef inline void _syrk(char uplo, char trans, int n, int k, floating alpha,
                       const floating* A, int lda, floating beta,
                       floating* C, int ldc) noexcept nogil:
    # Column-major C := alpha * op(A) @ op(A).T + beta * C, one triangle.
    if floating is float:
        ssyrk(&uplo, &trans, &n, &k, &alpha, <float*> A, &lda, &beta, C, &ldc)
    else:
        dsyrk(&uplo, &trans, &n, &k, &alpha, <double*> A, &lda, &beta, C, &ldc)


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
