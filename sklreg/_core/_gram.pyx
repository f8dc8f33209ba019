# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Centred, weighted second moments of X, without centring X itself; and
the layout conversions the solvers need (csr_to_csc).

Z = diag(sqrt(s)) (X - 1 xbar^T) is never formed: blocks of it are written
into a small buffer and accumulated with BLAS syrk, so the cost is one pass
over X plus the syrk flops, and memory is the output plus one block.
"""
import numpy as np
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport fmax, sqrt

from ._blas cimport _dot, _syrk

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int sklreg_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int sklreg_max_threads(void) { return 1; }
    #endif
    """
    int sklreg_max_threads() noexcept nogil

cdef extern from "_moments.h" nogil:
    void sklreg_row_moments_f32(const float* X, Py_ssize_t i_begin, Py_ssize_t i_end,
                                Py_ssize_t p, Py_ssize_t k, const double* w,
                                const double* WY, Py_ssize_t n, double* out)
    void sklreg_row_moments_f64(const double* X, Py_ssize_t i_begin, Py_ssize_t i_end,
                                Py_ssize_t p, Py_ssize_t k, const double* w,
                                const double* WY, Py_ssize_t n, double* out)
    void sklreg_column_moments_f32(const float* col, Py_ssize_t n, Py_ssize_t k,
                                   const double* w, const double* WY, double* sum,
                                   double* sumsq, double* xty, Py_ssize_t xty_stride)
    void sklreg_column_moments_f64(const double* col, Py_ssize_t n, Py_ssize_t k,
                                   const double* w, const double* WY, double* sum,
                                   double* sumsq, double* xty, Py_ssize_t xty_stride)

# Bytes of X per block: large enough for syrk to run at full speed, small
# enough to stay in cache.
cdef enum:
    BLOCK_BYTES = 8388608


cdef void _symmetrize(floating[:, ::1] out) noexcept nogil:
    # syrk filled the upper triangle in column-major terms, i.e. out[j, i]
    # for i <= j in C order; mirror it.
    cdef int m = out.shape[0], i, j
    for i in range(m):
        for j in range(i + 1, m):
            out[i, j] = out[j, i]


cdef bint _uncentered_gram(const floating[:, :] X, const floating[::1] x_mean,
                           bint weighted, bint center, floating[:, ::1] out):
    """out = Xc^T Xc as X^T X - n xbar xbar^T, one syrk straight on X (no
    centred copy), when X is contiguous and unweighted; return False (out
    unspecified) where that subtraction would cost accuracy: float32 with
    centring, or a column whose mean exceeds 10 standard deviations (the
    error grows with (mean / std)^2: 1e-13 relative at 5, 4e-12 at 50,
    against 1e-15 for the centred copy).  Saves the copy's write and read
    of X: on 1000 x 100, 0.89 -> 0.56 ms; 5000 x 100, 2.8 -> 2.1 ms."""
    cdef int n = X.shape[0], p = X.shape[1], i, j
    cdef double mu, var
    cdef bint c_contiguous = (X.strides[1] == sizeof(floating)
                              and X.strides[0] == p * sizeof(floating))
    cdef bint f_contiguous = (X.strides[0] == sizeof(floating)
                              and X.strides[1] == n * sizeof(floating))
    if weighted or (center and floating is float) or not (c_contiguous or f_contiguous):
        return False
    with nogil:
        # C-ordered X is the column-major (p, n) matrix X^T.
        if c_contiguous:
            _syrk(c'U', c'N', p, n, 1.0, &X[0, 0], p, 0.0, &out[0, 0], p)
        else:
            _syrk(c'U', c'T', p, n, 1.0, &X[0, 0], n, 0.0, &out[0, 0], p)
        if center:
            # The upper triangle in column-major terms is out[j, i], i <= j.
            for j in range(p):
                for i in range(j + 1):
                    out[j, i] = out[j, i] - n * (<double> x_mean[i]) * x_mean[j]
                mu = x_mean[j]
                var = out[j, j] / n
                if not var >= 1e-2 * mu * mu:
                    return False
        _symmetrize(out)
    return True


def centered_gram(const floating[:, :] X, const floating[::1] x_mean,
                  const floating[::1] sw, bint weighted, bint center,
                  floating[:, ::1] out):
    """out = Z^T Z, shape (p, p): the primal Gram matrix, for n >= p."""
    cdef int n = X.shape[0], p = X.shape[1], i, j, i0, m
    cdef int block
    cdef floating[:, ::1] buf
    cdef floating scale, mu
    cdef floating beta = 0.0
    cdef bint c_order = X.strides[1] <= X.strides[0]
    if n > 0 and p > 0 and _uncentered_gram(X, x_mean, weighted, center, out):
        return
    block = max(1, min(n, BLOCK_BYTES // max(1, p * sizeof(floating))))
    buf = np.empty((block, p), dtype=np.asarray(out).dtype)
    with nogil:
        i0 = 0
        while i0 < n:
            m = min(block, n - i0)
            if c_order:
                for i in range(m):
                    scale = <floating> sqrt(sw[i0 + i]) if weighted else 1.0
                    for j in range(p):
                        mu = x_mean[j] if center else 0.0
                        buf[i, j] = (X[i0 + i, j] - mu) * scale
            else:
                for j in range(p):
                    mu = x_mean[j] if center else 0.0
                    for i in range(m):
                        scale = <floating> sqrt(sw[i0 + i]) if weighted else 1.0
                        buf[i, j] = (X[i0 + i, j] - mu) * scale
            # buf is a column-major (p, m) matrix: out += buf buf^T.
            _syrk(c'U', c'N', p, m, 1.0, &buf[0, 0], p, beta, &out[0, 0], p)
            beta = 1.0
            i0 += m
        if n == 0:
            for i in range(p):
                for j in range(p):
                    out[i, j] = 0.0
        _symmetrize(out)


def centered_kernel(const floating[:, :] X, const floating[::1] x_mean,
                    const floating[::1] sw, bint weighted, bint center,
                    floating[:, ::1] out):
    """out = Z Z^T, shape (n, n): the dual (kernel) Gram matrix, for p > n.

    Blocks of columns of Z are copied in X's own order (no transposing copy):
    for C-ordered X a row-major (n, m) buffer, for Fortran X a column-major one.
    """
    cdef int n = X.shape[0], p = X.shape[1], i, j, j0, m
    cdef int block = max(1, min(p, BLOCK_BYTES // max(1, n * sizeof(floating))))
    cdef floating[::1] buf = np.empty(block * n, dtype=np.asarray(out).dtype)
    cdef floating mu
    cdef floating beta = 0.0
    cdef floating[::1] scale = np.ones(n, dtype=np.asarray(out).dtype)
    cdef bint c_order = X.strides[1] <= X.strides[0]
    with nogil:
        if weighted:
            for i in range(n):
                scale[i] = <floating> sqrt(sw[i])
        j0 = 0
        while j0 < p:
            m = min(block, p - j0)
            if c_order:
                # buf[i * m + j]: column-major (m, n); out += buf^T buf.
                for i in range(n):
                    for j in range(m):
                        mu = x_mean[j0 + j] if center else 0.0
                        buf[i * m + j] = (X[i, j0 + j] - mu) * scale[i]
                _syrk(c'U', c'T', n, m, 1.0, &buf[0], m, beta, &out[0, 0], n)
            else:
                # buf[j * n + i]: column-major (n, m); out += buf buf^T.
                for j in range(m):
                    mu = x_mean[j0 + j] if center else 0.0
                    for i in range(n):
                        buf[j * n + i] = (X[i, j0 + j] - mu) * scale[i]
                _syrk(c'U', c'N', n, m, 1.0, &buf[0], n, beta, &out[0, 0], n)
            beta = 1.0
            j0 += m
        if p == 0:
            for i in range(n):
                for j in range(n):
                    out[i, j] = 0.0
        _symmetrize(out)


def column_variances(int n, const floating[:, :] X, const floating[::1] X_data,
                     const int[::1] X_indices, const int[::1] X_indptr,
                     const floating[::1] sw, bint weighted,
                     const floating[::1] x_mean, bint center, int layout):
    """sum_i s_i (x_ij - xbar_j)^2 for every column j, in float64.

    layout: 0 dense (read through its strides, C or Fortran order), 1 CSC,
    2 CSR.  Sparse X is not centred: the mean's share is removed
    analytically, using sum_i s_i x_ij = n_s * xbar_j.
    """
    cdef bint dense = layout == 0
    cdef bint c_order = X.strides[1] <= X.strides[0]
    cdef int p = X.shape[1] if dense else x_mean.shape[0]
    cdef double[::1] out = np.zeros(p, dtype=np.float64)
    cdef double s_i, d, n_weight = 0.0
    cdef int i, j, k
    with nogil:
        if dense and c_order:
            for i in range(n):
                s_i = sw[i] if weighted else 1.0
                for j in range(p):
                    d = X[i, j] - (x_mean[j] if center else 0.0)
                    out[j] += s_i * d * d
        elif dense:
            for j in range(p):
                for i in range(n):
                    s_i = sw[i] if weighted else 1.0
                    d = X[i, j] - (x_mean[j] if center else 0.0)
                    out[j] += s_i * d * d
        else:
            for i in range(n):
                n_weight += sw[i] if weighted else 1.0
            if layout == 1:
                for j in range(p):
                    for k in range(X_indptr[j], X_indptr[j + 1]):
                        s_i = sw[X_indices[k]] if weighted else 1.0
                        out[j] += s_i * X_data[k] * X_data[k]
            else:
                for i in range(n):
                    s_i = sw[i] if weighted else 1.0
                    for k in range(X_indptr[i], X_indptr[i + 1]):
                        out[X_indices[k]] += s_i * X_data[k] * X_data[k]
            if center:
                for j in range(p):
                    out[j] = fmax(out[j] - n_weight * x_mean[j] * x_mean[j], 0.0)
    return np.asarray(out)


def openmp_threads():
    """Threads an OpenMP parallel loop of sklreg's kernels would use (1 when
    built without OpenMP); OMP_NUM_THREADS and threadpoolctl's limits on
    OpenMP apply."""
    return sklreg_max_threads()


def column_moments(const floating[:, :] X, const double[::1] w,
                   const double[:, ::1] WY, int n_threads=1):
    """(sums, sumsq, xty) of dense X in one pass, all in float64:

        sums_j = sum_i w_i x_ij,  sumsq_j = sum_i w_i x_ij^2,
        xty[k, j] = sum_i WY[k, i] x_ij   (WY: the weighted targets, (k, n)).

    What a fit needs from X before solving (the weighted means, the
    column variances, Xc^T S yc, and a finiteness check, since a sum is
    finite only if its terms are) for the price of one read of X instead of
    one each.  X must be C- or Fortran-contiguous.  ``n_threads`` threads
    share the pass: C order by rows (each with its own accumulators, summed
    at the end), Fortran order by columns.
    """
    cdef int n = X.shape[0], p = X.shape[1], k = WY.shape[0], tid, chunk, j, r
    cdef bint c_order = X.strides[1] == sizeof(floating) and (
        n <= 1 or X.strides[0] == p * sizeof(floating))
    cdef bint f_order = X.strides[0] == sizeof(floating) and (
        p <= 1 or X.strides[1] == n * sizeof(floating))
    if not (c_order or f_order):
        raise ValueError("column_moments needs C- or Fortran-contiguous X.")
    if w.shape[0] != n or (k > 0 and WY.shape[1] != n):
        raise ValueError(f"column_moments: w has {w.shape[0]} entries and WY "
                         f"{WY.shape[1]} columns for {n} rows of X.")
    n_threads = max(1, min(n_threads, max(n, 1)))
    cdef double[:, ::1] acc = np.zeros((n_threads * (2 + k), p), dtype=np.float64)
    cdef const floating* Xp = &X[0, 0] if n > 0 and p > 0 else NULL
    cdef const double* WYp = &WY[0, 0] if n > 0 and k > 0 else NULL
    cdef double* out = &acc[0, 0] if p > 0 else NULL
    if n > 0 and p > 0:
        with nogil:
            if c_order:
                chunk = (n + n_threads - 1) // n_threads
                for tid in prange(n_threads, num_threads=n_threads, schedule="static"):
                    if floating is float:
                        sklreg_row_moments_f32(Xp, tid * chunk, min(n, (tid + 1) * chunk),
                                               p, k, &w[0], WYp, n,
                                               out + <size_t> tid * (2 + k) * p)
                    else:
                        sklreg_row_moments_f64(Xp, tid * chunk, min(n, (tid + 1) * chunk),
                                               p, k, &w[0], WYp, n,
                                               out + <size_t> tid * (2 + k) * p)
                for tid in range(1, n_threads):
                    for r in range(2 + k):
                        for j in range(p):
                            acc[r, j] += acc[tid * (2 + k) + r, j]
            else:
                for j in prange(p, num_threads=n_threads, schedule="static"):
                    if floating is float:
                        sklreg_column_moments_f32(Xp + <size_t> j * n, n, k, &w[0], WYp,
                                                  out + j, out + p + j, out + 2 * p + j, p)
                    else:
                        sklreg_column_moments_f64(Xp + <size_t> j * n, n, k, &w[0], WYp,
                                                  out + j, out + p + j, out + 2 * p + j, p)
    moments = np.asarray(acc)
    return moments[0].copy(), moments[1].copy(), moments[2:2 + k].copy()


def sparse_column_moments(const floating[::1] data, const int[::1] indices,
                          const int[::1] indptr, bint by_rows, int n, int p,
                          const double[::1] w, const double[:, ::1] WY):
    """column_moments for sparse X: (sums, sumsq, xty), float64, in one pass
    over the stored entries of X in CSR (``by_rows``) or CSC.

    As for dense X, the weighted means, the column variances, Xc^T S yc and
    the finiteness of X come out of this one pass: on the 20000 x 50000
    sparse benchmark problem it replaces a product for the means, a pass for
    the variances, one for the correlations of the first duality gap and
    scikit-learn's finiteness check.
    """
    cdef int k = WY.shape[0], i, j, e, r
    cdef double s, t, x
    if w.shape[0] != n or (k > 0 and WY.shape[1] != n) or indptr.shape[0] != (
            n if by_rows else p) + 1:
        raise ValueError("sparse_column_moments: w, WY or indptr do not match X's shape.")
    # One row of accumulators per column (sum, sumsq, then xty): an entry
    # updates a single cache line, where three (p,) arrays took three
    # misses per entry when scattered into by CSR rows.
    cdef double[:, ::1] acc = np.zeros((p, 2 + k), dtype=np.float64)
    cdef double* a
    with nogil:
        if by_rows:
            for i in range(n):
                s = w[i]
                t = WY[0, i] if k == 1 else 0.0
                for e in range(indptr[i], indptr[i + 1]):
                    x = data[e]
                    a = &acc[indices[e], 0]
                    a[0] += s * x
                    a[1] += s * x * x
                    if k == 1:  # the usual case: 1.9 ms, not 2.4 with the loop (warm)
                        a[2] += t * x
                    else:
                        for r in range(k):
                            a[2 + r] += WY[r, i] * x
        else:
            for j in range(p):
                a = &acc[j, 0]
                for e in range(indptr[j], indptr[j + 1]):
                    i = indices[e]
                    x = data[e]
                    a[0] += w[i] * x
                    a[1] += w[i] * x * x
                    for r in range(k):
                        a[2 + r] += WY[r, i] * x
    moments = np.asarray(acc).T
    return moments[0].copy(), moments[1].copy(), moments[2:2 + k].copy()


def xt_dot(const floating[:, :] X, const floating[:, ::1] V, floating[:, ::1] out):
    """out[k] = X^T V[k] for each row of V (shape (k, n)); out has shape (k, p).

    X must be C- or Fortran-contiguous.  Plain single-threaded loops, not BLAS
    gemv: a product is one memory-bound pass over X, which a second thread
    barely speeds up, while OpenBLAS's threaded gemv was measured 50x slower
    (8 ms instead of 0.15 ms for 5000 x 100) on a 2-core machine whose other
    core was busy: it waits for a thread that cannot run.
    """
    cdef int n = X.shape[0], p = X.shape[1], i, j, k, n_vec = V.shape[0]
    cdef bint c_order = X.strides[1] <= X.strides[0] and X.strides[1] == sizeof(floating)
    cdef const floating* row
    cdef floating* acc
    cdef floating v
    np.asarray(out)[...] = 0
    if n == 0 or p == 0:
        return np.asarray(out)
    with nogil:
        for k in range(n_vec):
            acc = &out[k, 0]
            if c_order:
                # out += v_i x_i row by row: contiguous, vectorised axpy.
                for i in range(n):
                    v = V[k, i]
                    row = &X[i, 0]
                    for j in range(p):
                        acc[j] += v * row[j]
            else:
                for j in range(p):
                    acc[j] = _dot(n, &X[0, j], 1, &V[k, 0], 1)
    return np.asarray(out)


cdef enum:
    # csr_to_csc moves entries in two steps: first to their block of
    # 2^CSC_BLOCK_SHIFT columns, then within it, so that each step writes to
    # few places at a time (a block's share of the output stays in cache).
    CSC_BLOCK_SHIFT = 10


def csr_to_csc(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
               int n_cols):
    """(data, indices, indptr) of a CSR matrix in CSC: the same matrix, int32
    indices, rows sorted within each column.

    A counting sort by column done in two stable steps.  Moving each entry
    straight to its column's next free slot writes all over the output: on
    the 20000 x 50000 sparse benchmark problem (1e6 entries in 50000
    columns) that took 18 ms after a 0.3 s pause, as scipy's ``tocsc`` did,
    a third of a lasso fit at alpha_max / 10.  Here entries first go to
    their block of columns, which is a contiguous range of the output, in
    row order; then each block, copied to a scratch buffer, is moved to its
    columns' slots, which all lie in that range: 14 ms (10 ms against 13
    back to back; the block width hardly matters, 2^8 to 2^12 columns).
    Expects a valid CSR structure (indptr[0] = 0, non-decreasing, column
    indices in [0, n_cols)), as scipy's matrices guarantee.
    """
    cdef int n_rows = indptr.shape[0] - 1
    cdef int nnz = indptr[n_rows] if n_rows >= 0 else 0
    cdef int n_blocks = (n_cols + (1 << CSC_BLOCK_SHIFT) - 1) >> CSC_BLOCK_SHIFT
    cdef int i, j, k, b, dst, begin, end, largest = 0
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] out_data = np.empty(nnz, dtype=dtype)
    cdef int[::1] out_indices = np.empty(nnz, dtype=np.intc)
    cdef int[::1] out_indptr = np.zeros(n_cols + 1, dtype=np.intc)
    # the column of each entry after the first step; next free slot per
    # block, then per column
    cdef int[::1] cols = np.empty(nnz, dtype=np.intc)
    cdef int[::1] next_free = np.empty(max(n_cols, 1), dtype=np.intc)  # (n_blocks <= n_cols)
    cdef floating[::1] scratch_data
    cdef int[::1] scratch_rows, scratch_cols
    with nogil:
        for k in range(nnz):
            out_indptr[indices[k] + 1] += 1
        for j in range(n_cols):
            out_indptr[j + 1] += out_indptr[j]
        for b in range(n_blocks):
            begin = out_indptr[b << CSC_BLOCK_SHIFT]
            end = out_indptr[min((b + 1) << CSC_BLOCK_SHIFT, n_cols)]
            next_free[b] = begin
            largest = max(largest, end - begin)
        for i in range(n_rows):
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                b = j >> CSC_BLOCK_SHIFT
                dst = next_free[b]
                next_free[b] = dst + 1
                out_indices[dst] = i
                out_data[dst] = data[k]
                cols[dst] = j
    scratch_data = np.empty(largest, dtype=dtype)
    scratch_rows = np.empty(largest, dtype=np.intc)
    scratch_cols = np.empty(largest, dtype=np.intc)
    with nogil:
        for j in range(n_cols):
            next_free[j] = out_indptr[j]
        for b in range(n_blocks):
            begin = out_indptr[b << CSC_BLOCK_SHIFT]
            end = out_indptr[min((b + 1) << CSC_BLOCK_SHIFT, n_cols)]
            for k in range(begin, end):
                scratch_data[k - begin] = out_data[k]
                scratch_rows[k - begin] = out_indices[k]
                scratch_cols[k - begin] = cols[k]
            for k in range(end - begin):
                j = scratch_cols[k]
                dst = next_free[j]
                next_free[j] = dst + 1
                out_indices[dst] = scratch_rows[k]
                out_data[dst] = scratch_data[k]
    return np.asarray(out_data), np.asarray(out_indices), np.asarray(out_indptr)
