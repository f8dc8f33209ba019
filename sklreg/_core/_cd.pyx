# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Coordinate descent for the elastic-net penalised, weighted least squares.

The kernel solves, for one target,

    min_w  1/2 * sum_i s_i (yc_i - xc_i . w)^2  +  l1 ||w||_1  +  l2 / 2 ||w||_2^2

where xc, yc are X and y centred by their s-weighted means when an intercept
is fitted (the intercept is then ybar - xbar . w).  The caller passes
l1 = n * alpha * r and l2 = n * alpha * (1 - r), i.e. n times sklreg's
objective, which keeps the scale of scikit-learn's duality-gap criterion.

The data enter in one of three layouts, chosen by the caller:

- DENSE:  X in Fortran order; the centred residual r = yc - Xc w is kept and
  updated in one fused pass per coordinate (X itself is never centred).
  Wide C-ordered X is taken as it is (X_rows) instead of copied to Fortran
  order: sweeps read the columns of the features that have entered a working
  set, gathered once into a ColumnCache kept in the Workspace (and so along a
  path), and full gradients read X by rows (_rows.h).  On 100 x 20000 the
  Fortran copy, with its page faults, was about 15 % of a fit.
- SPARSE: X in CSC; the residual is kept uncentred up to a scalar offset, so
  a coordinate update touches only the column's non-zeros.
- GRAM:   the centred weighted Gram matrix Q = Xc^T S Xc and q = Xc^T S yc
  (covariance updates: each coordinate costs O(p), independent of n).  Q
  may come partly formed: the rows a working set needs are formed on entry
  to it (_ensure_gram_rows).

The solver is a working-set method.  An outer step computes the duality gap
over all features that are still in play; it stops when the gap is at most
tol_gap.  Otherwise it

1. screens out features that the gap proves to be zero at the optimum
   (gap-safe rule: a ball of radius sqrt(2 gap) around the rescaled residual
   holds the dual optimum; a feature whose constraint cannot be tight
   anywhere in that ball is dropped for good);
2. picks a working set: the current support plus the features whose dual
   constraints are closest to tight, twice the support's size (at least
   WS_MIN), doubled when the previous round did not halve the gap;
3. runs coordinate descent sweeps on the working set only, until the working
   set's own gap is below INNER_GAP_FRACTION of the outer gap, with two
   accelerations, each kept only when it lowers the objective:
   - Anderson extrapolation of the last ANDERSON_K + 1 iterates;
   - once the signs have held for NEWTON_STABLE sweeps, a Newton step on the
     support (the exact minimiser for those signs, a small ridge solve),
     stopped where a coefficient first reaches zero.  On correlated
     features coordinate descent finds the support long before its linear
     rate gets the coefficients to tolerance; this step removes that tail.
4. certifies with the better of two dual points: the rescaled residual,
   and, when that one's gap would not stop the solver, the residual
   extrapolated from the last ANDERSON_K + 1 sweeps (Massias et al.'s dual
   extrapolation; DENSE and SPARSE).  The plain residual's gap shrinks only
   like the square root of the suboptimality, so with many active features
   it keeps the solver sweeping long after the objective has converged:
   on the 100-alpha path of the 20000 x 50000 sparse benchmark the
   extrapolated point cut the last alpha from 41 to 25 sweeps.

Outer gaps read a feature's column only when they must: every residual is
compared with a reference one at which all correlations are known, and a
feature whose correlation provably stays below l1 is slack without a pass
over its column (_correlations).  Along a path the reference is the previous
alpha's last residual, so a new alpha's first gap costs O(n + p) plus the
columns its smaller l1 may make tight.  Working sets start at twice the
support, or, from a warm start, at the support plus room for the violated
constraints; a path also hands over a guess extrapolated from its last two
solutions, taken after the first gap if it is better.

A cold start (w = 0, no guess) first makes one cyclic sweep over every kept
feature, as glmnet's first pass does: the features it moves estimate the
support, so the working set starts near its final size instead of doubling
up from WS_MIN with a full gap pass per doubling (the sparse 20000 x 50000
benchmark at alpha_max / 10: 8 rounds -> 2, kernel 33 -> 15 ms).  When the
sweep moves more than COLD_SWEEP_MAX_SHARE * n features the estimate is
poor (small alpha, or strongly correlated features, where a cyclic pass lets
in far more than the support: 2196 features for a final 96 on 100 x 5000
with rho = 0.9 at alpha_max / 100), so w goes back to 0 and the working set
grows from WS_MIN as usual.  The sweep goes by blocks and stops at the
first block that takes it past that count, which on the wide glmnet
benchmark rows (n = 100, where every cold sweep ends this way) is one or
two blocks of COLD_SWEEP_BLOCK features instead of a pass.  Not for GRAM,
where a sweep costs as much as a gap and rounds are cheap.

Every sweep over a working set counts as one iteration against max_iter, and
at least one sweep runs.
The penalty is reached only through ``_penalty.pxd``.
"""
import numpy as np
from cython cimport floating
from libc.math cimport fabs, fmax, fmin, sqrt, isfinite, hypot, INFINITY

from ._blas cimport _dot, _axpy, _gemv_t_one_thread, _syrk
from scipy.linalg.cython_lapack cimport dpotrf, dpotrs
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from ._penalty cimport (enet_coordinate_step, enet_value, enet_dual_scale,
                        enet_conjugate_sum)
from ._gram cimport gram_rows, gram_complete


cdef extern from "_rows.h" nogil:
    void sklreg_rows_xtv_f32(const float* X, Py_ssize_t n, Py_ssize_t p, const float* v,
                             float* y)
    void sklreg_rows_xtv_f64(const double* X, Py_ssize_t n, Py_ssize_t p, const double* v,
                             double* y)
    void sklreg_gather_columns_f32(const float* X, Py_ssize_t n, Py_ssize_t p,
                                   const int* feats, Py_ssize_t m, float* out)
    void sklreg_gather_columns_f64(const double* X, Py_ssize_t n, Py_ssize_t p,
                                   const int* feats, Py_ssize_t m, double* out)

cdef enum:
    _DENSE = 0
    _SPARSE = 1
    _GRAM = 2
    ANDERSON_K = 5

# Layout codes for the Python caller.
DENSE = _DENSE
SPARSE = _SPARSE
GRAM = _GRAM

#: Smallest working set.
cdef int WS_MIN = 10
# Newton on the support: tried once the signs have held for NEWTON_STABLE
# sweeps, at most as often as its cost in sweeps allows, for supports of at
# most NEWTON_MAX features (its matrix is NEWTON_MAX^2 doubles).
cdef int NEWTON_STABLE = 3
cdef int NEWTON_MAX = 2048
# A Newton attempt's further steps on shrunk supports (see
# _newton_on_support) may cost this many times its first step.
cdef double NEWTON_EXTRA_WORK = 4.0
# DENSE gathers the support's columns: at most this many doubles (32 MB).
cdef size_t NEWTON_MAX_GATHER = 1 << 22
# The cold sweep goes by blocks of this many features (see _cold_sweep).
cdef int COLD_SWEEP_BLOCK = 256
#: The extrapolated dual point is tried when the plain gap is above the
#: target by at most this factor (see _gap).
cdef double EXTRAPOLATE_WITHIN = 100.0
#: _correlations reads every column, and makes the current residual the
#: reference, once more than this share of the features would need theirs.
cdef double REFRESH_FRACTION = 0.25
#: The working set's inner problem is solved until its gap is below this
#: share of the last full gap.
cdef double INNER_GAP_FRACTION = 0.3
#: A cold start's first sweep is kept if it moves at most this many features
#: per sample (see the module docstring).
cdef double COLD_SWEEP_MAX_SHARE = 0.25
# GRAM forms the rows of Q that working sets need while they number at most
# this share of p, then the rest at once (see _ensure_gram_rows).
cdef double LAZY_GRAM_MAX_SHARE = 0.5


cdef struct Data:
    # Everything coordinate descent reads, in one place (typed by layout).
    int layout
    int n
    int p
    const void* X          # DENSE: Fortran (n, p), or NULL when X_rows is given
    const void* X_rows     # DENSE: C-ordered (n, p); its columns are read from
    int* col_slot          #   col_buf, where column j is the col_slot[j]-th (-1:
    void* col_buf          #   not gathered yet; see _gather)
    int* n_cols            #   col_buf's count of columns
    int* col_scratch       #   p ints for _gather
    const void* X_data     # SPARSE: CSC arrays
    const int* X_indices
    const int* X_indptr
    const void* Q          # GRAM: (p, p) and q (p,)
    const void* q
    const void* y
    const void* sw
    bint weighted
    const void* x_mean
    bint fit_intercept
    const double* hess
    const double* norm     # sqrt(hess + l2): the augmented columns' norms
    double y_mean
    double y_norm2
    double n_weight
    double l1
    double l2
    bint positive


cdef struct State:
    # The iterate's companions: the residual (or Q w) and its lazy offset.
    void* resid
    double offset
    void* Qw


cdef struct Reference:
    # A residual r_ref at which the correlation g_ref_j = xc_j . S r_ref of
    # every feature is known (see _correlations); may outlive one call.
    void* resid            # n, s-centred like every residual _gradient sees
    double* grad           # p
    double* state          # [0]: 1.0 once resid and grad hold a pair; [1]: |r_ref|_S
    int* exact             # p: scratch, the features that need a pass


cdef struct Snapshots:
    # The residual after each of the last ANDERSON_K + 1 sweeps (DENSE and
    # SPARSE), for the extrapolated dual point of _gap; a ring buffer.
    void* hist             # (ANDERSON_K + 1) x n
    void* r_acc            # n: the extrapolated residual, then S times it
    double* grad_acc       # p: its correlations with the features
    int count
    int next


cdef inline double _sw(const Data* d, const floating* sw, int i) noexcept nogil:
    return sw[i] if d.weighted else 1.0


cdef inline const floating* _column(const Data* d, const floating* dummy,
                                   int j) noexcept nogil:
    """DENSE: column j, contiguous (from col_buf for C-ordered X, where it
    must have been gathered)."""
    if d.X_rows == NULL:
        return (<const floating*> d.X) + <size_t> j * d.n
    return (<const floating*> d.col_buf) + <size_t> d.col_slot[j] * d.n


cdef int _gather(const Data* d, const floating* dummy, const int* feats,
                 int m) noexcept nogil:
    """DENSE from C order: copy the columns of feats that col_buf lacks into
    it (each feature's column once per cache, so a path gathers a column
    once); return how many were copied.  Every feature coordinate descent
    moves, or whose column _newton_on_support reads, is in a gathered working
    set (or is gathered with the warm start's support)."""
    cdef int jj, j, k = 0
    if d.layout != _DENSE or d.X_rows == NULL:
        return 0
    for jj in range(m):
        j = feats[jj]
        if d.col_slot[j] < 0:
            d.col_slot[j] = d.n_cols[0] + k
            d.col_scratch[k] = j
            k += 1
    if k > 0:
        if floating is float:
            sklreg_gather_columns_f32(<const float*> d.X_rows, d.n, d.p, d.col_scratch, k,
                                      (<float*> d.col_buf) + <size_t> d.n_cols[0] * d.n)
        else:
            sklreg_gather_columns_f64(<const double*> d.X_rows, d.n, d.p, d.col_scratch, k,
                                      (<double*> d.col_buf) + <size_t> d.n_cols[0] * d.n)
        d.n_cols[0] += k
    return k


cdef inline double _sparse_dot(const floating* data, const int* idx, int start, int end,
                               const floating* v, const floating* sw) noexcept nogil:
    """sum_k data_k v[idx_k] (times sw[idx_k] unless sw is NULL) over [start, end).

    (Unrolling with several accumulators was measured: no faster here.)
    """
    cdef double total = 0.0
    cdef int k
    if sw == NULL:
        for k in range(start, end):
            total += data[k] * v[idx[k]]
    else:
        for k in range(start, end):
            total += sw[idx[k]] * data[k] * v[idx[k]]
    return total


cdef inline void _move(const Data* d, floating* dummy, State* st, int j, double delta) noexcept nogil:
    """Account for w_j += delta in the residual (or in Q w).

    ``dummy`` (and _partial's) is never read: a typed argument is how Cython
    picks the float / double specialisation of a helper on void* data.
    """
    cdef floating* resid = <floating*> st.resid
    cdef const floating* X
    cdef const floating* data
    cdef int i, k, n = d.n
    cdef double mu
    if d.layout == _DENSE:
        X = _column(d, dummy, j)
        mu = (<const floating*> d.x_mean)[j] if d.fit_intercept else 0.0
        # r -= delta * (x_j - mu_j), fused in one pass.
        for i in range(n):
            resid[i] = <floating> (resid[i] - delta * X[i] + delta * mu)
    elif d.layout == _SPARSE:
        data = <const floating*> d.X_data
        for k in range(d.X_indptr[j], d.X_indptr[j + 1]):
            resid[d.X_indices[k]] -= <floating> (delta * data[k])
        if d.fit_intercept:
            st.offset -= delta * (<const floating*> d.x_mean)[j]
    else:
        _axpy(d.p, <floating> delta, (<const floating*> d.Q) + <size_t> j * d.p, 1,
              <floating*> st.Qw, 1)


cdef inline double _partial(const Data* d, floating* dummy, State* st, int j) noexcept nogil:
    """xc_j . S r: the coordinate's negative data gradient."""
    cdef const floating* resid = <const floating*> st.resid
    cdef const floating* sw = <const floating*> d.sw
    cdef const floating* X
    cdef const floating* data
    cdef double acc = 0.0
    cdef int i, k, n = d.n
    if d.layout == _DENSE:
        X = _column(d, dummy, j)
        if not d.weighted:
            return _dot(n, X, 1, resid, 1)
        for i in range(n):
            acc += sw[i] * X[i] * resid[i]
        return acc
    if d.layout == _SPARSE:
        acc = _sparse_dot(<const floating*> d.X_data, d.X_indices, d.X_indptr[j],
                          d.X_indptr[j + 1], resid, sw if d.weighted else NULL)
        if d.fit_intercept:
            acc -= st.offset * d.n_weight * (<const floating*> d.x_mean)[j]
        return acc
    return (<const floating*> d.q)[j] - (<const floating*> st.Qw)[j]


cdef bint _sweep(const Data* d, State* st, floating* w, const int* ws, int n_ws,
                 double* d_w_max, double* w_max) noexcept nogil:
    """One pass of exact coordinate minimisation over the working set; return
    whether any coefficient changed sign (zero counting as a sign)."""
    cdef int jj, j
    cdef double g, w_old, w_new, delta
    cdef bint flipped = False
    d_w_max[0] = 0.0
    w_max[0] = 0.0
    for jj in range(n_ws):
        j = ws[jj]
        w_old = w[j]
        g = _partial(d, w, st, j)
        w_new = enet_coordinate_step(d.hess[j] * w_old + g, d.hess[j], d.l1, d.l2,
                                     d.positive)
        delta = w_new - w_old
        if delta != 0.0:
            w[j] = <floating> w_new
            _move(d, w, st, j, delta)
            flipped = flipped or (w_old > 0.0) != (w[j] > 0.0) or (w_old < 0.0) != (w[j] < 0.0)
        # (Comparisons, not fmax: that is a library call per coordinate.)
        if fabs(delta) > d_w_max[0]:
            d_w_max[0] = fabs(delta)
        if fabs(w_new) > w_max[0]:
            w_max[0] = fabs(w_new)
    return flipped


cdef bint _cold_sweep(const Data* d, State* st, floating* w, const int* kept,
                      int n_kept, int max_moved) noexcept nogil:
    """The cold start's sweep over every kept feature (w = 0 on entry), in
    blocks of COLD_SWEEP_BLOCK; False, with the sweep cut short, once it has
    moved more than max_moved features (the caller then starts again from
    w = 0: a poor support estimate is found out after a few blocks instead of
    a whole pass).

    C-ordered X: each block's columns are gathered, and col_buf keeps only
    those of the features the sweep moved (the rest would be a Fortran copy
    of X in all but name).
    """
    cdef int b0 = 0, m, jj, j, k, first, nxt, n_moved = 0
    cdef double dmax, wmax
    cdef size_t size = sizeof(floating) * <size_t> d.n
    while b0 < n_kept:
        m = min(COLD_SWEEP_BLOCK, n_kept - b0)
        first = d.n_cols[0] if d.X_rows != NULL else 0
        _gather(d, w, kept + b0, m)
        _sweep(d, st, w, kept + b0, m, &dmax, &wmax)
        for jj in range(m):
            n_moved += w[kept[b0 + jj]] != 0.0
        if d.X_rows != NULL:
            # The block's new columns sit at slots first.. in kept's order:
            # compact the kept ones down (nxt <= their slot, so no overlap).
            nxt = first
            for jj in range(m):
                j = kept[b0 + jj]
                k = d.col_slot[j]
                if k < first:
                    continue
                if w[j] != 0.0:
                    if k != nxt:
                        memcpy((<floating*> d.col_buf) + <size_t> nxt * d.n,
                               (<floating*> d.col_buf) + <size_t> k * d.n, size)
                        d.col_slot[j] = nxt
                    nxt += 1
                else:
                    d.col_slot[j] = -1
            d.n_cols[0] = nxt
        if n_moved > max_moved:
            return False
        b0 += m
    return True


cdef inline void _gram_products(const Data* d, const floating* w, const floating* Qw,
                                const int* feats, int n_feats, double* wq,
                                double* wQw) noexcept nogil:
    """wq = w . q and wQw = w . Q w over feats (w is zero elsewhere; Qw formed)."""
    cdef const floating* q = <const floating*> d.q
    cdef int j, jj
    wq[0] = 0.0
    wQw[0] = 0.0
    for jj in range(n_feats):
        j = feats[jj]
        wq[0] += <double> w[j] * q[j]
        wQw[0] += <double> w[j] * Qw[j]


cdef inline double _dual_correlation(const Data* d, double g, double scale) noexcept nogil:
    """How hard coordinate g pushes on its dual constraint at the point scale * r:
    |scale g|, or scale g alone under positive=True (one-sided constraint)."""
    cdef double corr = scale * g
    return corr if d.positive else fabs(corr)


cdef void _residual_norms(const Data* d, floating* w, State* st, const int* feats,
                          int n_feats, floating* work_n, double* rnorm2,
                          double* ry) noexcept nogil:
    """Refresh the residual; rnorm2 = |r|_S^2, ry = r . S yc; work_n = S r.

    Folds the sparse layout's lazy offset into the residual and removes any
    mean drift (the optimal intercept makes the residual s-centred).  GRAM
    recomputes Q w over the given features (w is zero elsewhere) so that
    rounding drift does not build up.
    """
    cdef floating* resid = <floating*> st.resid
    cdef const floating* sw = <const floating*> d.sw
    cdef const floating* y = <const floating*> d.y
    cdef const floating* Q = <const floating*> d.Q
    cdef floating* Qw = <floating*> st.Qw
    cdef int i, j, jj, n = d.n
    cdef double total, sw_sum, mean, s_i, r_i, wq, wQw
    rnorm2[0] = 0.0
    ry[0] = 0.0
    if d.layout == _GRAM:
        for j in range(d.p):
            Qw[j] = 0.0
        for jj in range(n_feats):
            j = feats[jj]
            if w[j] != 0.0:
                _axpy(d.p, w[j], Q + <size_t> j * d.p, 1, Qw, 1)
        _gram_products(d, w, Qw, feats, n_feats, &wq, &wQw)
        ry[0] = d.y_norm2 - wq
        rnorm2[0] = d.y_norm2 - 2.0 * wq + wQw
        return
    mean = st.offset
    st.offset = 0.0
    if d.fit_intercept:
        total = 0.0
        sw_sum = 0.0
        for i in range(n):
            s_i = _sw(d, sw, i)
            total += s_i * (resid[i] - mean)
            sw_sum += s_i
        mean += total / sw_sum
    for i in range(n):
        resid[i] = <floating> (resid[i] - mean)
        r_i = resid[i]
        s_i = _sw(d, sw, i)
        rnorm2[0] += s_i * r_i * r_i
        ry[0] += s_i * r_i * (y[i] - d.y_mean)
        work_n[i] = <floating> (s_i * r_i)


cdef void _xt_dot(const Data* d, const floating* v, floating* out) noexcept nogil:
    """DENSE: out = X^T v over every feature, on the calling thread."""
    if d.X_rows == NULL:
        _gemv_t_one_thread(d.n, d.p, <const floating*> d.X, d.n, v, out)
    elif floating is float:
        sklreg_rows_xtv_f32(<const float*> d.X_rows, d.n, d.p, v, out)
    else:
        sklreg_rows_xtv_f64(<const double*> d.X_rows, d.n, d.p, v, out)


cdef void _gradient(const Data* d, State* st, const int* feats, int n_feats,
                    const floating* work_n, floating* work_p,
                    double* grad) noexcept nogil:
    """grad_j = xc_j . S r for the given features, or all when feats is NULL
    (after _residual_norms)."""
    cdef const floating* data = <const floating*> d.X_data
    cdef const floating* q = <const floating*> d.q
    cdef const floating* Qw = <const floating*> st.Qw
    cdef int j, jj, k, n = d.n, n_strided
    cdef double total
    if d.layout == _GRAM:
        for jj in range(n_feats):
            j = feats[jj] if feats != NULL else jj
            grad[j] = q[j] - Qw[j]
    elif d.layout == _DENSE:
        if feats == NULL or n_feats == d.p:
            # All features: one pass over X.
            _xt_dot(d, work_n, work_p)
            for j in range(d.p):
                grad[j] = work_p[j]
            return
        if d.X_rows != NULL:
            n_strided = 0
            for jj in range(n_feats):
                n_strided += d.col_slot[feats[jj]] < 0
            # A column read across rows costs about n cache lines, a pass
            # over all of X by rows n p / 8 (doubles): past p / 8 such
            # columns the pass is cheaper.
            if n_strided > d.p // 8:
                _xt_dot(d, work_n, work_p)
                for jj in range(n_feats):
                    grad[feats[jj]] = work_p[feats[jj]]
                return
        for jj in range(n_feats):
            j = feats[jj]
            if d.X_rows != NULL and d.col_slot[j] < 0:
                grad[j] = _dot(n, (<const floating*> d.X_rows) + j, d.p, work_n, 1)
            else:
                grad[j] = _dot(n, _column(d, work_n, j), 1, work_n, 1)
    else:
        for jj in range(n_feats):
            j = feats[jj] if feats != NULL else jj
            grad[j] = _sparse_dot(data, d.X_indices, d.X_indptr[j], d.X_indptr[j + 1],
                                  work_n, <const floating*> NULL)


cdef int _correlations(const Data* d, const floating* w, State* st, Reference* ref,
                       const int* feats, int n_feats, const floating* work_n,
                       floating* work_p, double* grad) noexcept nogil:
    """grad_j for j in feats: xc_j . S r, or a bound where that is enough.

    The residual r is within delta = |r - r_ref|_S of the reference, so by
    Cauchy-Schwarz |xc_j . S r| <= |g_ref_j| + sqrt(hess_j) delta (the
    code uses the larger norm sqrt(hess_j + l2)).  Where
    w_j = 0 and that bound is below l1, feature j's dual constraint is slack
    whatever its exact value: grad_j receives the bound (the signed one under
    positive=True), an upper bound that the dual scale, the conjugate,
    screening and working-set selection all treat correctly (see _gap), and
    the feature's column is not read.  Along a path the previous alpha's
    residual is the reference, so a new alpha's first gap reads only the
    columns that its smaller l1 may make tight.

    When more than REFRESH_FRACTION of feats would need their column anyway,
    every feature is computed (if feats covers at least half of them) and r
    becomes the new reference.

    Returns the number of features computed exactly, listed in ref.exact,
    when bounds were used (all the others have w_j = 0 and a bound below
    l1, so they can be left out of the gap's sums); -1 otherwise.
    """
    cdef const floating* resid = <const floating*> st.resid
    cdef const floating* sw = <const floating*> d.sw
    cdef floating* r_ref
    cdef double delta = 0.0, rnorm2 = 0.0, diff, g, bound, s_i, pad
    cdef int i, j, jj, m = 0
    if ref == NULL or d.layout == _GRAM or not d.l1 > 0.0:
        _gradient(d, st, feats, n_feats, work_n, work_p, grad)
        return -1
    r_ref = <floating*> ref.resid
    if ref.state[0] != 0.0:
        for i in range(d.n):
            s_i = _sw(d, sw, i)
            diff = resid[i] - r_ref[i]
            delta += s_i * diff * diff
            rnorm2 += s_i * resid[i] * resid[i]
        # Both correlations carry rounding of about eps |xc_j|_S |r|_S (the
        # products with S r are taken in the data's precision): pad for it.
        pad = 4.0 * _eps(w) * (ref.state[1] + sqrt(rnorm2))
        if sqrt(delta) <= pad:
            # r is the reference up to rounding (the first gap of a cold
            # start, seeded from the column moments; w back at 0 after a
            # cold sweep): its correlations are the reference's.
            for jj in range(n_feats):
                grad[feats[jj]] = ref.grad[feats[jj]]
            return -1
        delta = sqrt(delta) + pad
        for jj in range(n_feats):
            j = feats[jj]
            g = ref.grad[j]
            bound = (g if d.positive else fabs(g)) + d.norm[j] * delta
            if w[j] != 0.0 or bound >= d.l1:
                ref.exact[m] = j
                m += 1
            else:
                grad[j] = bound
        if m <= REFRESH_FRACTION * n_feats:
            _gradient(d, st, ref.exact, m, work_n, work_p, grad)
            return m
    if 2 * n_feats < d.p:
        _gradient(d, st, feats, n_feats, work_n, work_p, grad)
        return -1
    _gradient(d, st, NULL, d.p, work_n, work_p, grad)
    rnorm2 = 0.0
    for i in range(d.n):
        r_ref[i] = resid[i]
        rnorm2 += _sw(d, sw, i) * resid[i] * resid[i]
    for j in range(d.p):
        ref.grad[j] = grad[j]
    ref.state[0] = 1.0
    ref.state[1] = sqrt(rnorm2)
    return -1


cdef inline int _listed(int n_exact, Reference* ref, const int* feats, int n_feats,
                        const int** listed) noexcept nogil:
    """The features a gap must sum over after _correlations returned n_exact:
    only the exactly computed ones when bounds were used, else all of feats."""
    if n_exact >= 0:
        listed[0] = ref.exact
        return n_exact
    listed[0] = feats
    return n_feats


cdef inline void _residual_at_zero(const Data* d, const floating* dummy,
                                   State* st) noexcept nogil:
    """st's residual for w = 0: r = y - y_mean (DENSE and SPARSE)."""
    cdef int i
    cdef floating* resid = <floating*> st.resid
    cdef const floating* y = <const floating*> d.y
    for i in range(d.n):
        resid[i] = <floating> (y[i] - d.y_mean)
    st.offset = 0.0


cdef inline double _eps(const floating* dummy) noexcept nogil:
    """The unit roundoff of the data's precision."""
    return 1.2e-7 if floating is float else 2.3e-16


cdef inline double _rescaled_gap(const Data* d, double primal, double scale, double ry,
                                 double rnorm2, double w_norm2) noexcept nogil:
    """Primal minus the dual objective at scale * (residual r, -w) (the
    augmented-lasso dual point); ry = r . S yc, rnorm2 = |r|_S^2."""
    return primal - (scale * ry - 0.5 * scale * scale * (rnorm2 + d.l2 * w_norm2))


cdef void _snapshot(const Data* d, floating* dummy, State* st, Snapshots* sn) noexcept nogil:
    """Store the current residual (lazy offset folded in) in the ring buffer."""
    cdef const floating* resid = <const floating*> st.resid
    cdef floating* slot = (<floating*> sn.hist) + <size_t> sn.next * d.n
    cdef int i
    for i in range(d.n):
        slot[i] = <floating> (resid[i] - st.offset)
    sn.next = (sn.next + 1) % (ANDERSON_K + 1)
    sn.count = min(sn.count + 1, ANDERSON_K + 1)


cdef double _extrapolated_gap(const Data* d, floating* w, const int* feats,
                              int n_feats, Snapshots* sn, Reference* ref, floating* work_n,
                              floating* work_p, double* gbuf, floating* wbuf,
                              double primal, double w_norm2, double* scale) noexcept nogil:
    """Gap at the dual point extrapolated from the stored residuals; INFINITY
    when fewer than ANDERSON_K + 1 are stored or the extrapolation fails.

    Coordinate descent converges linearly, so the residuals r_t follow an
    (asymptotically) linear recurrence, and the affine combination sum c_k
    r_{k+1} (sum c_k = 1) minimising |sum c_k (r_{k+1} - r_k)| lands much
    closer to the optimal residual than the last one (Massias et al.'s dual
    extrapolation, 2018).  Rescaled into the feasible set it gives a far
    tighter gap once many features are active: the plain residual's gap
    shrinks only like the square root of the suboptimality.  Any affine
    combination rescaled to feasibility is a valid dual point, so the gap
    stays a certificate.  grad_acc receives the point's correlations.
    """
    cdef const floating* hist = <const floating*> sn.hist
    cdef floating* r_acc = <floating*> sn.r_acc
    cdef double G[ANDERSON_K * ANDERSON_K]
    cdef double c[ANDERSON_K]
    cdef int order[ANDERSON_K + 1]
    cdef double total, trace = 0.0, a, b_, ry, rnorm2
    cdef int i, k, l, jj, K = ANDERSON_K, n = d.n, n_listed
    cdef const int* listed
    cdef State acc
    if sn.count < K + 1 or n == 0:
        return INFINITY
    for k in range(K + 1):
        order[k] = (sn.next + k) % (K + 1)  # oldest first
    for k in range(K):
        for l in range(k, K):
            total = 0.0
            for i in range(n):
                a = hist[<size_t> order[k + 1] * n + i] - hist[<size_t> order[k] * n + i]
                b_ = hist[<size_t> order[l + 1] * n + i] - hist[<size_t> order[l] * n + i]
                total += a * b_
            G[k * K + l] = total
            G[l * K + k] = total
        trace += G[k * K + k]
    if not _anderson_weights(G, trace, c):
        return INFINITY
    for i in range(n):
        a = 0.0
        for k in range(K):
            a += c[k] * hist[<size_t> order[k + 1] * n + i]
        r_acc[i] = <floating> a
    # The combination as a residual: _residual_norms s-centres it (the X^T
    # products assume that, as for the residual at the optimal intercept),
    # gives its norms and puts S r_acc in work_n.
    acc.resid = r_acc
    acc.offset = 0.0
    _residual_norms(d, w, &acc, feats, n_feats, work_n, &rnorm2, &ry)
    n_listed = _listed(_correlations(d, w, &acc, ref, feats, n_feats, work_n, work_p,
                                     sn.grad_acc), ref, feats, n_feats, &listed)
    for jj in range(n_listed):
        gbuf[jj] = sn.grad_acc[listed[jj]]
        wbuf[jj] = w[listed[jj]]
    scale[0] = enet_dual_scale(gbuf, wbuf, n_listed, d.l1, d.l2, d.positive)
    return _rescaled_gap(d, primal, scale[0], ry, rnorm2, w_norm2)


cdef double _gap(const Data* d, floating* w, State* st, const int* feats, int n_feats,
                 floating* work_n, floating* work_p, double* grad, double* gbuf,
                 floating* wbuf, double* scale, double* gap_scaled,
                 double* primal, Snapshots* sn, Reference* ref,
                 double target) noexcept nogil:
    """Duality gap of the problem restricted to ``feats`` (n-scaled objective).

    w must be zero outside feats.  grad[j] receives xc_j . S r for j in feats;
    scale the factor c making c r dual-feasible, gap_scaled the gap at that
    dual point (the one gap-safe screening uses).  When that gap is above
    ``target`` (the caller would go on iterating) the extrapolated dual point
    is tried as well and, if it gives a smaller gap, replaces r: grad, scale
    and gap_scaled then refer to it.  With a reference (ref not NULL),
    features proven slack get a bound instead of grad (see _correlations).
    """
    cdef int j, jj
    cdef double rnorm2, ry, w_norm2 = 0.0, pen, gap, gap_conj, gap_acc, scale_acc
    cdef int n_listed
    cdef const int* listed
    _residual_norms(d, w, st, feats, n_feats, work_n, &rnorm2, &ry)
    n_listed = _listed(_correlations(d, w, st, ref, feats, n_feats, work_n, work_p, grad),
                       ref, feats, n_feats, &listed)
    for jj in range(n_listed):
        j = listed[jj]
        gbuf[jj] = grad[j]
        wbuf[jj] = w[j]
        w_norm2 += <double> w[j] * w[j]
    pen = enet_value(wbuf, n_listed, d.l1, d.l2)
    primal[0] = 0.5 * rnorm2 + pen
    scale[0] = 1.0
    gap_scaled[0] = INFINITY
    if d.l1 == 0.0 and d.l2 == 0.0:
        # Least squares has no bounded dual here; report the decrease that
        # exact steps on each coordinate alone would give, sum_j g_j^2 /
        # (2 hess_j), which vanishes exactly at a solution.
        gap = 0.0
        for jj in range(n_feats):
            j = feats[jj]
            if d.hess[j] > 0.0:
                gap += grad[j] * grad[j] / (2.0 * d.hess[j])
        return gap
    gap = INFINITY
    if d.l1 > 0.0:
        # Dual point: the residual rescaled into the feasible set.
        scale[0] = enet_dual_scale(gbuf, wbuf, n_listed, d.l1, d.l2, d.positive)
        gap = _rescaled_gap(d, primal[0], scale[0], ry, rnorm2, w_norm2)
        gap_scaled[0] = gap
    if d.l2 > 0.0:
        # Dual point: the residual itself, always feasible when l2 > 0.
        gap_conj = primal[0] + 0.5 * rnorm2 - ry + enet_conjugate_sum(
            gbuf, n_listed, d.l1, d.l2, d.positive)
        gap = fmin(gap, gap_conj)
    # Tried only within EXTRAPOLATE_WITHIN of the target: further away one
    # extrapolation rarely closes the distance, and it costs a pass over the
    # features (measured: the sparse path 1.4 -> 1.25 s, wide fits even).
    if d.l1 > 0.0 and target < gap < EXTRAPOLATE_WITHIN * target and d.layout != _GRAM:
        gap_acc = _extrapolated_gap(d, w, feats, n_feats, sn, ref, work_n, work_p, gbuf, wbuf,
                                    primal[0], w_norm2, &scale_acc)
        if gap_acc < gap_scaled[0]:
            scale[0] = scale_acc
            gap_scaled[0] = gap_acc
            for jj in range(n_feats):
                grad[feats[jj]] = sn.grad_acc[feats[jj]]
            gap = fmin(gap, gap_acc)
    return gap


cdef double _objective(const Data* d, floating* w, State* st, const int* ws, int n_ws,
                       floating* wbuf) noexcept nogil:
    """Primal (n-scaled) objective at w, which is zero outside ws."""
    cdef const floating* resid = <const floating*> st.resid
    cdef const floating* sw = <const floating*> d.sw
    cdef int i, jj
    cdef double rnorm2 = 0.0, r_i, wq, wQw
    for jj in range(n_ws):
        wbuf[jj] = w[ws[jj]]
    if d.layout == _GRAM:
        _gram_products(d, w, <const floating*> st.Qw, ws, n_ws, &wq, &wQw)
        rnorm2 = d.y_norm2 - 2.0 * wq + wQw
    else:
        for i in range(d.n):
            r_i = resid[i] - st.offset
            rnorm2 += _sw(d, <const floating*> sw, i) * r_i * r_i
    return 0.5 * rnorm2 + enet_value(wbuf, n_ws, d.l1, d.l2)


cdef bint _solve_small(double* A, double* b, int m) noexcept nogil:
    """Solve A x = b in place (b <- x) by Gaussian elimination with pivoting."""
    cdef int i, j, k, piv
    cdef double best, t, f
    for k in range(m):
        piv = k
        best = fabs(A[k * m + k])
        for i in range(k + 1, m):
            if fabs(A[i * m + k]) > best:
                best = fabs(A[i * m + k])
                piv = i
        if best == 0.0:
            return False
        if piv != k:
            for j in range(m):
                t = A[k * m + j]
                A[k * m + j] = A[piv * m + j]
                A[piv * m + j] = t
            t = b[k]
            b[k] = b[piv]
            b[piv] = t
        for i in range(k + 1, m):
            f = A[i * m + k] / A[k * m + k]
            for j in range(k, m):
                A[i * m + j] -= f * A[k * m + j]
            b[i] -= f * b[k]
    for k in range(m - 1, -1, -1):
        t = b[k]
        for j in range(k + 1, m):
            t -= A[k * m + j] * b[j]
        b[k] = t / A[k * m + k]
    return True


cdef bint _anderson_weights(double* G, double trace, double* c) noexcept nogil:
    """c (summing to 1) minimising |sum_k c_k D_k| given G = D^T D (K x K,
    overwritten) and its trace; False when the system is degenerate."""
    cdef int k, K = ANDERSON_K
    cdef double total = 0.0
    if not trace > 0.0:
        return False
    for k in range(K):
        # A tiny ridge keeps the system solvable when the iterates are
        # (nearly) collinear; the callers' objective or feasibility tests
        # guard the rest.
        G[k * K + k] += 1e-10 * trace
        c[k] = 1.0
    if not _solve_small(G, c, K):
        return False
    for k in range(K):
        total += c[k]
    if not (isfinite(total) and total != 0.0):
        return False
    for k in range(K):
        c[k] /= total
    return True


cdef void _anderson(const Data* d, floating* w, State* st, State* trial,
                    const int* ws, int n_ws, const double* history,
                    double* w_acc, floating* wbuf) noexcept nogil:
    """Replace w by the Anderson extrapolation of the stored iterates if that
    lowers the objective.

    history holds ANDERSON_K + 1 successive iterates (rows of length n_ws, the
    last equal to w); the extrapolation is the affine combination sum c_k
    x_{k+1} whose coefficients (summing to 1) minimise |sum c_k (x_{k+1} -
    x_k)|.  trial receives a copy of the residual to try it on.
    """
    cdef double G[ANDERSON_K * ANDERSON_K]
    cdef double c[ANDERSON_K]
    cdef double total, a, b_, trace = 0.0
    cdef int k, l, jj, K = ANDERSON_K
    for k in range(K):
        for l in range(k, K):
            total = 0.0
            for jj in range(n_ws):
                a = history[(k + 1) * n_ws + jj] - history[k * n_ws + jj]
                b_ = history[(l + 1) * n_ws + jj] - history[l * n_ws + jj]
                total += a * b_
            G[k * K + l] = total
            G[l * K + k] = total
        trace += G[k * K + k]
    if not _anderson_weights(G, trace, c):
        return
    for jj in range(n_ws):
        a = 0.0
        for k in range(K):
            a += c[k] * history[(k + 1) * n_ws + jj]
        w_acc[jj] = a
    _try_candidate(d, w, st, trial, ws, n_ws, w_acc, wbuf)


cdef bint _try_candidate(const Data* d, floating* w, State* st, State* trial,
                         const int* ws, int n_ws, double* w_new,
                         floating* wbuf) noexcept nogil:
    """Replace w on ws by w_new (clipped at 0 under positive=True) if that
    lowers the objective; return whether it did.  w_new is overwritten."""
    cdef double a, before, after, delta
    cdef int i, j, jj
    cdef floating* resid = <floating*> st.resid
    cdef floating* tres = <floating*> trial.resid
    for jj in range(n_ws):
        if not isfinite(w_new[jj]):
            return False
        if d.positive and w_new[jj] < 0.0:
            w_new[jj] = 0.0
    before = _objective(d, w, st, ws, n_ws, wbuf)
    # Move a copy of the residual to the extrapolated point.
    trial.offset = st.offset
    if d.layout == _GRAM:
        for j in range(d.p):
            (<floating*> trial.Qw)[j] = (<floating*> st.Qw)[j]
    else:
        for i in range(d.n):
            tres[i] = resid[i]
    for jj in range(n_ws):
        j = ws[jj]
        delta = w_new[jj] - <double> w[j]
        if delta != 0.0:
            _move(d, w, trial, j, delta)
        # Swap in the candidate to evaluate it; swapped back if rejected.
        a = w[j]
        w[j] = <floating> w_new[jj]
        w_new[jj] = a
    after = _objective(d, w, trial, ws, n_ws, wbuf)
    if after < before:
        st.resid, trial.resid = trial.resid, st.resid
        st.Qw, trial.Qw = trial.Qw, st.Qw
        st.offset = trial.offset
        return True
    for jj in range(n_ws):
        w[ws[jj]] = <floating> w_new[jj]
    return False


cdef void _cholesky_delete(double* U, int ld, int k, int r) noexcept nogil:
    """U (k x k upper triangular, leading dimension ld, U^T U = A) becomes the
    factor of A without its row and column r, in O(k^2): column r is
    removed, and Givens rotations of rows (c, c + 1) clear the subdiagonal
    that the shift leaves behind.  Nothing below that subdiagonal is read,
    and the result is in the upper triangle (the subdiagonal keeps stale
    values, as below the diagonal of a LAPACK factor)."""
    cdef int i, j, c
    cdef double x, y, rho, cs, sn
    for j in range(r, k - 1):
        for i in range(j + 2):
            U[i + <size_t> j * ld] = U[i + <size_t> (j + 1) * ld]
    for c in range(r, k - 1):
        x = U[c + <size_t> c * ld]
        y = U[c + 1 + <size_t> c * ld]
        rho = hypot(x, y)
        if rho == 0.0:
            continue
        cs = x / rho
        sn = y / rho
        U[c + <size_t> c * ld] = rho
        for j in range(c + 1, k - 1):
            x = U[c + <size_t> j * ld]
            y = U[c + 1 + <size_t> j * ld]
            U[c + <size_t> j * ld] = cs * x + sn * y
            U[c + 1 + <size_t> j * ld] = cs * y - sn * x


def cholesky_delete(double[::1, :] U, int r):
    """_cholesky_delete on a Fortran-ordered (k, k) U in place (for the
    tests): its leading (k - 1, k - 1) upper triangle becomes the factor of
    U^T U without row and column r."""
    cdef int k = U.shape[0]
    if U.shape[1] != k or not 0 <= r < k:
        raise ValueError("U must be square and 0 <= r < k.")
    _cholesky_delete(&U[0, 0], k, k, r)


cdef bint _newton_on_support(const Data* d, floating* w, State* st, State* trial,
                             const int* ws, int n_ws, double* H, double* B,
                             double* rhs, int* sup, double* w_new,
                             floating* wbuf, double* G, double* delta, double* cur,
                             int* act, double max_work, double* work) noexcept nogil:
    """Try the exact minimiser for the current support and signs.

    With the support S and the signs sigma of w held fixed the problem is a
    ridge regression on S:  (Hc_SS + l2 I) w_S = Xc_S^T S yc - l1 sigma_S,
    Hc = Xc^T S Xc.  Solved from the current point as a Newton step,
    (Hc_SS + l2 I) delta = g_S - l2 w_S - l1 sigma_S with g = Xc^T S r, it
    lands on the solution in one step once coordinate descent has found the
    support, which on strongly correlated features it does long before its
    linear rate reaches the tolerance.

    A step that would carry a coefficient across zero stops there, and that
    feature leaves S.  The step is then solved again on the smaller S from the
    new point (an active-set method on the orthant), the factor updated by
    _cholesky_delete, while those updates cost at most ``max_work`` flops in
    all (``work`` returns what they cost).
    This matters when S is too large: a lasso support of more features than
    samples makes Hc_SS singular, and each step along its null space frees only
    one coefficient (measured on 100 x 1000 at alpha_max / 100: a support of
    105 had to shrink to 94 one feature per Newton step, with 16 to 18 sweeps
    before each).  The final point is kept only if the objective drops.

    H, G hold m^2, rhs, delta, cur m doubles and act m ints, m = |S|; B holds
    n m doubles (DENSE) or n (SPARSE).
    """
    cdef const floating* X
    cdef const floating* Xd = <const floating*> d.X_data
    cdef const floating* Q = <const floating*> d.Q
    cdef const floating* x_mean = <const floating*> d.x_mean
    cdef const floating* sw = <const floating*> d.sw
    cdef int i, j, a, b, k, jj, aa, bb, m = 0, n = d.n, info = 0, one = 1, block
    cdef double s_i, mu, total, t, ridge, trace = 0.0
    cdef char uplo = c'U'
    work[0] = 0.0
    for jj in range(n_ws):
        if w[ws[jj]] != 0.0:
            sup[m] = jj
            m += 1
    if m == 0:
        return False
    # Hc_SS + l2 I into G, upper triangle in column-major order (G[a + b m], a <= b).
    if d.layout == _DENSE:
        for a in range(m):
            j = ws[sup[a]]
            mu = x_mean[j] if d.fit_intercept else 0.0
            X = _column(d, w, j)
            for i in range(n):
                s_i = sqrt(sw[i]) if d.weighted else 1.0
                B[i + <size_t> a * n] = s_i * (X[i] - mu)
        _syrk(c'U', c'T', m, n, 1.0, B, n, 0.0, G, m)
    elif d.layout == _SPARSE:
        # B is an n-vector here: column a scattered, weighted.
        for i in range(n):
            B[i] = 0.0
        for a in range(m):
            j = ws[sup[a]]
            for k in range(d.X_indptr[j], d.X_indptr[j + 1]):
                B[d.X_indices[k]] = Xd[k] * _sw(d, sw, d.X_indices[k])
            for b in range(a, m):
                total = 0.0
                for k in range(d.X_indptr[ws[sup[b]]], d.X_indptr[ws[sup[b]] + 1]):
                    total += Xd[k] * B[d.X_indices[k]]
                if d.fit_intercept:
                    total -= d.n_weight * x_mean[j] * x_mean[ws[sup[b]]]
                G[a + <size_t> b * m] = total
            for k in range(d.X_indptr[j], d.X_indptr[j + 1]):
                B[d.X_indices[k]] = 0.0
    else:
        for a in range(m):
            for b in range(a, m):
                G[a + <size_t> b * m] = Q[<size_t> ws[sup[a]] * d.p + ws[sup[b]]]
    for a in range(m):
        j = ws[sup[a]]
        G[a + <size_t> a * m] += d.l2
        trace += G[a + <size_t> a * m]
        # rhs: the negative gradient of the orthant's quadratic at cur.
        rhs[a] = _partial(d, w, st, j) - d.l2 * w[j] - (d.l1 if w[j] > 0.0 else -d.l1)
        cur[a] = w[j]
        act[a] = a
    # A relative ridge of 1e-12 keeps a lasso support with |S| > rank solvable;
    # the objective test decides whether the step is any good.
    ridge = 1e-12 * trace / m
    # H: the Cholesky factor (upper, leading dimension m) of G + ridge I on
    # the active features, which stay in increasing order.
    memcpy(H, G, sizeof(double) * <size_t> m * m)
    for a in range(m):
        H[a + <size_t> a * m] += ridge
    k = m
    dpotrf(&uplo, &k, H, &m, &info)
    if info != 0:
        return False
    while True:
        for aa in range(k):
            delta[aa] = rhs[act[aa]]
        # (dpotrs fails only on invalid arguments.  A factor made singular
        # by a deletion gives a non-finite step, which _try_candidate refuses.)
        dpotrs(&uplo, &k, &one, H, &m, delta, &k, &info)
        # Within the orthant of the current signs the objective is the
        # quadratic just minimised, so every step along delta up to the first
        # coefficient reaching zero lowers it: stop there (that coefficient
        # leaves the support) rather than cross into a region where the model
        # is wrong.
        t = 1.0
        block = -1
        for aa in range(k):
            a = act[aa]
            if (cur[a] + delta[aa] > 0.0) != (cur[a] > 0.0) and delta[aa] != 0.0:
                if -cur[a] / delta[aa] < t:
                    t = -cur[a] / delta[aa]
                    block = aa
        for aa in range(k):
            cur[act[aa]] += t * delta[aa]
        if block < 0:
            break
        cur[act[block]] = 0.0
        if k == 1 or work[0] + 4.0 * k * k > max_work:
            break
        work[0] += 4.0 * k * k
        # The step changed the gradient by -t G delta.
        for bb in range(k):
            if bb == block:
                continue
            b = act[bb]
            total = 0.0
            for aa in range(k):
                a = act[aa]
                total += (G[a + <size_t> b * m] if a <= b else G[b + <size_t> a * m]) * delta[aa]
            rhs[b] -= t * total
        # The blocked feature leaves: its row and column leave the factor.
        _cholesky_delete(H, m, k, block)
        for aa in range(block, k - 1):
            act[aa] = act[aa + 1]
        k -= 1
    for jj in range(n_ws):
        w_new[jj] = w[ws[jj]]
    for a in range(m):
        w_new[sup[a]] = cur[a]
    return _try_candidate(d, w, st, trial, ws, n_ws, w_new, wbuf)


cdef inline double _column_length(const Data* d) noexcept nogil:
    """Entries of a column, for flop estimates (sparse: the average)."""
    if d.layout == _SPARSE:
        return fmax(1.0, <double> d.X_indptr[d.p] / d.p)
    return d.n


cdef double _sweep_flops(const Data* d, int n_ws) noexcept nogil:
    """A sweep over n_ws features, in flops."""
    if d.layout == _GRAM:
        return fmax(2.0 * d.p * n_ws, 1.0)
    return fmax(4.0 * _column_length(d) * n_ws, 1.0)


cdef double _newton_flops(const Data* d, int m) noexcept nogil:
    """One Newton step on a support of m features: forming its matrix, then
    the Cholesky factorisation, in flops."""
    cdef double col = _column_length(d)
    if d.layout == _GRAM:
        return <double> m * m + 2.0 * m * d.p + <double> m * m * m / 3.0
    return col * m * m + 4.0 * col * m + 2.0 * d.n + <double> m * m * m / 3.0


cdef bint _maybe_newton(const Data* d, floating* w, State* st, State* trial,
                        const int* ws, int n_ws, int* since_last, double* w_new,
                        floating* wbuf) noexcept nogil:
    """Try _newton_on_support when it is affordable: at most once per its own
    cost in sweeps (so it never takes more than about half the time), on
    supports of at most NEWTON_MAX features.  Its further steps on shrunk
    supports may cost up to NEWTON_EXTRA_WORK times the first; what they
    cost is added to the wait before the next attempt.  Return whether a
    step was kept."""
    cdef int jj, m = 0
    cdef size_t gather
    cdef double* H
    cdef double* G
    cdef double* rhs
    cdef double* delta
    cdef double* cur
    cdef double* B
    cdef int* sup
    cdef double first, extra = 0.0
    cdef bint kept = False
    for jj in range(n_ws):
        if w[ws[jj]] != 0.0:
            m += 1
    gather = <size_t> d.n * m if d.layout == _DENSE else <size_t> d.n
    if m == 0 or m > NEWTON_MAX or gather > NEWTON_MAX_GATHER:
        return False
    first = _newton_flops(d, m)
    if since_last[0] < first / _sweep_flops(d, n_ws):
        return False
    # One block of doubles: H and G (m^2 each), rhs, delta, cur (m each),
    # then B, the gathered columns (DENSE) or one scattered column (SPARSE);
    # and one of ints: sup and act (m each).
    H = <double*> malloc(sizeof(double) * (2 * <size_t> m * m + 3 * <size_t> m + gather + 1))
    sup = <int*> malloc(sizeof(int) * 2 * <size_t> m)
    if H != NULL and sup != NULL:
        G = H + <size_t> m * m
        rhs = G + <size_t> m * m
        delta = rhs + m
        cur = delta + m
        B = cur + m
        kept = _newton_on_support(d, w, st, trial, ws, n_ws, H, B, rhs, sup, w_new, wbuf,
                                  G, delta, cur, sup + m, NEWTON_EXTRA_WORK * first, &extra)
    free(H)
    free(sup)
    since_last[0] = -<int> (extra / _sweep_flops(d, n_ws))
    return kept


cdef double _kth_smallest(double* a, int m, int k) noexcept nogil:
    """The k-th smallest (0-based) of a[0:m]; reorders a (quickselect)."""
    cdef int lo = 0, hi = m - 1, i, j
    cdef double pivot, t
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


cdef int _screen(const Data* d, State* st, floating* w, int* kept, int n_kept,
                 const double* grad, double scale, double gap_scaled,
                 double primal, double eps) noexcept nogil:
    """Drop the features the gap-safe rule proves zero; return the new count.

    The dual optimum lies within sqrt(2 gap) of the feasible dual point
    scale * r; feature j (augmented column norm sqrt(hess_j + l2)) is zero at
    the optimum if its constraint stays slack over that whole ball.  The gap
    is padded by the objective's rounding error so that float32 residuals
    cannot screen a feature wrongly.
    """
    cdef double radius = sqrt(2.0 * (fmax(gap_scaled, 0.0) + 64.0 * eps * fabs(primal)))
    cdef double corr
    cdef int jj, j, m = 0
    for jj in range(n_kept):
        j = kept[jj]
        corr = _dual_correlation(d, grad[j] - d.l2 * w[j], scale)
        if corr + radius * d.norm[j] < d.l1:
            if w[j] != 0.0:
                _move(d, w, st, j, -<double> w[j])
                w[j] = 0.0
        else:
            kept[m] = j
            m += 1
    return m


cdef int _select(const Data* d, floating* w, const int* kept, int n_kept,
                 const double* grad, double scale, int size, double* prio,
                 double* work, int* ws) noexcept nogil:
    """The working set: the support plus the features whose dual constraint
    is closest to tight (in distance units), ``size`` in all, in index order.

    The size-th smallest priority is found among the candidates below a
    cutoff taken from a strided sample (about 4 size of them), not among all
    kept features: two passes over those instead of about six.  Should fewer
    than size pass the cutoff, every kept feature is a candidate.
    """
    cdef int jj, j, c, m = 0, n_ties, n_cand = 0, stride, n_sample = 0, k
    cdef double corr, threshold, cutoff = INFINITY
    if size >= n_kept:
        for jj in range(n_kept):
            ws[jj] = kept[jj]
        return n_kept
    for jj in range(n_kept):
        j = kept[jj]
        if w[j] != 0.0:
            prio[jj] = -INFINITY
        else:
            corr = _dual_correlation(d, grad[j], scale)
            prio[jj] = (d.l1 - corr) / (d.norm[j] + 1e-300)
    stride = n_kept // (4 * size)
    if stride >= 4:
        jj = 0
        while jj < n_kept:
            work[n_sample] = prio[jj]
            n_sample += 1
            jj += stride
        # About 2 size features of all lie below this sample quantile.
        k = min(n_sample - 1, 2 * size // stride + 2)
        cutoff = _kth_smallest(work, n_sample, k)
    # Candidates (positions in kept, kept in ws for now) and their priorities.
    for jj in range(n_kept):
        if prio[jj] <= cutoff:
            ws[n_cand] = jj
            work[n_cand] = prio[jj]
            n_cand += 1
    if n_cand < size:
        for jj in range(n_kept):
            ws[jj] = jj
            work[jj] = prio[jj]
        n_cand = n_kept
    threshold = _kth_smallest(work, n_cand, size - 1)
    # Everything strictly below the threshold, then ties up to size (ws is
    # rewritten in place: entry m is written after entry c >= m was read).
    n_ties = size
    for c in range(n_cand):
        if prio[ws[c]] < threshold:
            n_ties -= 1
    for c in range(n_cand):
        jj = ws[c]
        if prio[jj] < threshold:
            ws[m] = kept[jj]
            m += 1
        elif prio[jj] == threshold and n_ties > 0:
            ws[m] = kept[jj]
            m += 1
            n_ties -= 1
    return m


cdef int _ensure_gram_rows(const Data* d, floating* w, const floating[:, :] X,
                           unsigned char[::1] have, const int* feats,
                           int n_feats) except -1:
    """GRAM: form the rows of Q of the features in feats (all features with
    w_j != 0 when feats is NULL) that ``have`` marks as missing.

    Coordinate descent reads row j of Q only for features it moves, so a fit
    whose working sets stay small forms a few rows (_gram.gram_rows) instead
    of all p.  Once more than LAZY_GRAM_MAX_SHARE of the rows would be
    formed, the rest of Q is completed at once (_gram.gram_complete: a syrk
    over the missing columns only)."""
    cdef int jj, j, k, m = 0, n_have = 0, p = d.p
    cdef bint ok, c_order, complete
    cdef int* missing
    if have is None or have.shape[0] != p:
        return 0
    missing = <int*> malloc(<size_t> max(p, 1) * sizeof(int))
    if missing == NULL:
        raise MemoryError()
    try:
        for j in range(p):
            n_have += have[j]
        for jj in range(p if feats == NULL else n_feats):
            j = jj if feats == NULL else feats[jj]
            if not have[j] and (feats != NULL or w[j] != 0.0):
                missing[m] = j
                m += 1
        if m == 0:
            return 0
        if X is None or X.shape[1] != p:
            raise ValueError("X_gram must be the X of the Gram matrix.")
        # gram_rows / gram_complete read X with leading dimension p (C order)
        # or n (Fortran order): nothing else will do.
        c_order = (X.strides[1] == sizeof(floating)
                   and X.strides[0] == <Py_ssize_t> (p * sizeof(floating)))
        if not c_order and not (X.strides[0] == sizeof(floating) and X.strides[1]
                                == <Py_ssize_t> (X.shape[0] * sizeof(floating))):
            raise ValueError("X_gram must be C- or Fortran-contiguous.")
        complete = n_have + m > LAZY_GRAM_MAX_SHARE * p
        with nogil:
            if complete:
                ok = gram_complete(&X[0, 0], c_order, X.shape[0], p,
                                   <const floating*> d.x_mean, d.fit_intercept,
                                   <const floating*> d.sw, d.weighted, &have[0],
                                   <floating*> d.Q)
            else:
                ok = gram_rows(&X[0, 0], c_order, X.shape[0], p,
                               <const floating*> d.x_mean, d.fit_intercept,
                               <const floating*> d.sw, d.weighted, missing, m,
                               <floating*> d.Q)
        if not ok:
            raise MemoryError()
        if complete:
            for j in range(p):
                have[j] = 1
        else:
            for k in range(m):
                have[missing[k]] = 1
        return 0
    finally:
        free(missing)


class Workspace:
    """Scratch arrays of enet_coordinate_descent for one layout, shape and
    dtype.  Reused across the calls of a path it saves allocating (and
    faulting in) several MB per alpha; nothing in it outlives a call."""

    def __init__(self, int layout, int n, int p, dtype):
        n_res = n if layout != _GRAM else 0
        n_qw = p if layout == _GRAM else 0
        self.shape = (layout, n_res, p, np.dtype(dtype))
        # One spare slot each, so that no array is empty.
        vec = lambda size, kind=dtype: np.empty(size + 1, dtype=kind)
        self.resid, self.resid_trial, self.work_n, self.snap_acc = (
            vec(n_res), vec(n_res), vec(n_res), vec(n_res))
        self.snap_hist = vec((ANDERSON_K + 1) * n_res)
        self.work_p, self.wbuf = vec(p), vec(p)
        self.Qw, self.Qw_trial = vec(n_qw), vec(n_qw)
        self.grad, self.gbuf, self.prio, self.work, self.w_acc, self.grad_acc = (
            vec(p, np.float64) for _ in range(6))
        self.history = vec((ANDERSON_K + 1) * p, np.float64)
        self.norm = vec(p, np.float64)
        self.kept, self.ws = vec(p, np.intc), vec(p, np.intc)
        self.columns = None  # a ColumnCache, for C-ordered X


cdef class ColumnCache:
    """The gathered columns of a C-ordered X (see _gather), for one X: ``key``
    is its address.  Room for all p columns is reserved but only the pages
    gathered into are touched."""
    cdef int* slot
    cdef int* scratch
    cdef void* buf
    cdef int n_cols
    cdef readonly object key

    def __cinit__(self, int n, int p, size_t itemsize, key):
        cdef int j
        self.slot = <int*> malloc(sizeof(int) * (<size_t> p + 1))
        self.scratch = <int*> malloc(sizeof(int) * (<size_t> p + 1))
        self.buf = malloc(itemsize * <size_t> n * p + 1)
        if self.slot == NULL or self.scratch == NULL or self.buf == NULL:
            raise MemoryError()
        for j in range(p):
            self.slot[j] = -1
        self.n_cols = 0
        self.key = key

    def __dealloc__(self):
        free(self.slot)
        free(self.scratch)
        free(self.buf)


class CorrelationReference:
    """A residual and every feature's correlation with it (see _correlations),
    carried from one call to the next on the same data and target, as along
    a path.  Valid for one problem only: new data needs a new reference."""

    def __init__(self, int n, int p, dtype):
        self.shape = (n, p, np.dtype(dtype))
        self.resid = np.empty(n + 1, dtype=dtype)
        self.grad = np.empty(p + 1, dtype=np.float64)
        self.state = np.zeros(2, dtype=np.float64)
        self.exact = np.empty(p + 1, dtype=np.intc)

    def seed(self, resid, grad, double norm2):
        """Take (resid, grad) as the reference, grad_j = xc_j . S resid and
        norm2 = |resid|_S^2 known to the caller (as at w = 0 from the column
        moments), unless it already holds one: the first gap then needs no
        pass over X."""
        n, p = self.shape[:2]
        if self.state[0] != 0.0:
            return
        resid = np.asarray(resid, dtype=self.shape[2])
        grad = np.asarray(grad, dtype=np.float64)
        if resid.shape != (n,) or grad.shape != (p,):
            raise ValueError("seed: resid must have n and grad p entries.")
        self.resid[:n] = resid
        self.grad[:p] = grad
        self.state[1] = np.sqrt(norm2)
        self.state[0] = 1.0


def enet_coordinate_descent(
    int layout,
    const floating[::1, :] X,
    const floating[::1] X_data, const int[::1] X_indices, const int[::1] X_indptr,
    floating[:, ::1] Q, const floating[::1] q,
    const floating[::1] y, const floating[::1] sw, bint weighted,
    const floating[::1] x_mean, double y_mean, double y_norm2,
    bint fit_intercept, const double[::1] hess, floating[::1] w,
    double l1, double l2, bint positive,
    int max_iter, double tol, double tol_gap, workspace=None, reference=None,
    const floating[::1] start=None, const floating[:, :] X_gram=None,
    unsigned char[::1] have=None, int first_ws=0, const floating[:, ::1] X_rows=None,
):
    """Run coordinate descent in place on w; return (duality gap, n_iter).

    Arrays that a layout does not use are passed empty.  DENSE reads X
    (Fortran order) or, when it is given instead, X_rows (C order, n > 0).
    ``sw`` holds the sample weights rescaled to sum to n (empty when
    ``weighted`` is false), ``x_mean`` / ``y_mean`` the weighted means (zeros without intercept) and
    ``y_norm2`` the weighted squared norm of the centred y, ``hess`` the
    curvature of each coordinate (``_gram.column_variances``, or the Gram
    diagonal).  ``tol`` (relative) sets how finely sweeps are judged settled
    before an inner gap is computed; ``tol_gap`` is the stopping gap.
    ``first_ws`` is the least size of the first working set (callers that
    pass only a pre-selected set of features, as proximal Newton's steps
    do, pass their number: every feature is swept from the first round).
    ``start``, if given, is a guess of the solution (a path's extrapolation
    from its last two alphas), taken over w after the first gap if it has
    the lower objective.  ``workspace`` (a Workspace) and ``reference`` (a CorrelationReference,
    DENSE and SPARSE) may be passed to reuse them across calls on the same
    data; fresh ones are made otherwise.

    GRAM may start with Q partly formed: ``have[j]`` tells whether row j is;
    missing rows are formed from ``X_gram`` (X, C- or Fortran-contiguous)
    when a working set needs them (see _ensure_gram_rows).  Without
    ``have``, Q must be complete.
    """
    cdef int n = y.shape[0] if layout != _GRAM else 0
    cdef int p = w.shape[0]
    dtype = np.float32 if floating is float else np.float64
    # (n is already 0 for GRAM, which keeps no residual.)
    if workspace is None:
        workspace = Workspace(layout, n, p, dtype)
    if reference is None:
        reference = CorrelationReference(n, p, dtype)
    if (workspace.shape != (layout, n, p, np.dtype(dtype))
            or reference.shape != (n, p, np.dtype(dtype))):
        raise ValueError("workspace or reference made for other data.")
    cdef floating[::1] resid = workspace.resid
    cdef floating[::1] resid_trial = workspace.resid_trial
    cdef floating[::1] work_n = workspace.work_n
    cdef floating[::1] work_p = workspace.work_p
    cdef floating[::1] wbuf = workspace.wbuf
    cdef floating[::1] Qw = workspace.Qw
    cdef floating[::1] Qw_trial = workspace.Qw_trial
    cdef double[::1] grad = workspace.grad
    cdef double[::1] gbuf = workspace.gbuf
    cdef double[::1] prio = workspace.prio
    cdef double[::1] work = workspace.work
    cdef double[::1] w_acc = workspace.w_acc
    cdef double[::1] history = workspace.history
    cdef double[::1] norm = workspace.norm
    cdef floating[::1] snap_hist = workspace.snap_hist
    cdef floating[::1] snap_acc = workspace.snap_acc
    cdef double[::1] grad_acc = workspace.grad_acc
    cdef int[::1] kept = workspace.kept
    cdef int[::1] ws = workspace.ws
    cdef floating[::1] ref_resid = reference.resid
    cdef double[::1] ref_grad = reference.grad
    cdef double[::1] ref_state = reference.state
    cdef int[::1] ref_exact = reference.exact
    cdef Snapshots sn
    cdef Reference ref
    cdef Data d
    cdef State st, trial
    cdef double gap = INFINITY, gap_scaled, scale, primal, inner_gap, inner_tol
    cdef double prev_gap = INFINITY, d_w_max, w_max, settle_tol, eps
    cdef int i, j, jj, n_iter = 0, n_kept = p, n_ws = 0, n_support, n_violators
    cdef int n_sweeps = 0, slot, size, n_stable = 0, n_since_newton = 0
    cdef bint inner_done, settled, newton_done = False, stalled = False, warm = False
    cdef bint has_start = start is not None and start.shape[0] == p
    cdef bint cold_sweep
    cdef bint by_rows = layout == _DENSE and X_rows is not None
    cdef ColumnCache columns = None

    if by_rows:
        if X_rows.shape[0] != n or X_rows.shape[1] != p or n == 0:
            raise ValueError("X_rows must be the (n, p) X, n > 0.")
        key = (<size_t> &X_rows[0, 0], n, p)
        columns = workspace.columns
        if columns is None or columns.key != key:
            columns = ColumnCache(n, p, sizeof(floating), key)
            workspace.columns = columns
    if p == 0:
        return 0.0, 0
    for j in range(p):
        kept[j] = j
        warm = warm or w[j] != 0.0
        norm[j] = sqrt(hess[j] + l2)

    d.layout = layout
    d.n = n
    d.p = p
    d.X = &X[0, 0] if layout == _DENSE and not by_rows else NULL
    d.X_rows = &X_rows[0, 0] if by_rows else NULL
    d.col_slot = columns.slot if by_rows else NULL
    d.col_buf = columns.buf if by_rows else NULL
    d.n_cols = &columns.n_cols if by_rows else NULL
    d.col_scratch = columns.scratch if by_rows else NULL
    d.X_data = &X_data[0] if layout == _SPARSE and X_data.shape[0] > 0 else NULL
    d.X_indices = &X_indices[0] if layout == _SPARSE and X_indices.shape[0] > 0 else NULL
    d.X_indptr = &X_indptr[0] if layout == _SPARSE else NULL
    d.Q = &Q[0, 0] if layout == _GRAM else NULL
    d.q = &q[0] if layout == _GRAM else NULL
    d.y = &y[0] if layout != _GRAM and n > 0 else NULL
    d.sw = &sw[0] if weighted else NULL
    d.weighted = weighted
    d.x_mean = &x_mean[0]
    d.fit_intercept = fit_intercept
    d.hess = &hess[0]
    d.norm = &norm[0]
    d.y_mean = y_mean
    d.y_norm2 = y_norm2
    d.l1 = l1
    d.l2 = l2
    d.positive = positive
    st.resid = &resid[0]
    st.Qw = &Qw[0]
    st.offset = 0.0
    trial.resid = &resid_trial[0]
    trial.Qw = &Qw_trial[0]
    trial.offset = 0.0
    sn.hist = &snap_hist[0]
    sn.r_acc = &snap_acc[0]
    sn.grad_acc = &grad_acc[0]
    sn.count = 0
    sn.next = 0
    ref.resid = &ref_resid[0]
    ref.grad = &ref_grad[0]
    ref.state = &ref_state[0]
    ref.exact = &ref_exact[0]
    eps = _eps(&w[0])
    cold_sweep = not warm and not has_start and l1 > 0.0 and layout != _GRAM

    with nogil:
        d.n_weight = 0.0
        for i in range(n):
            d.n_weight += sw[i] if weighted else 1.0

        # Initial residual r = yc - Xc w, moved there from r = yc one
        # coordinate at a time (GRAM: Q w is formed in _gap).
        if layout != _GRAM:
            if by_rows:
                i = 0
                for j in range(p):
                    if w[j] != 0.0:
                        ws[i] = j
                        i += 1
                _gather(&d, &w[0], &ws[0], i)
            _residual_at_zero(&d, &w[0], &st)
            for j in range(p):
                if w[j] != 0.0:
                    _move(&d, &w[0], &st, j, w[j])
        elif warm:
            with gil:
                _ensure_gram_rows(&d, &w[0], X_gram, have, NULL, 0)

        while True:
            gap = _gap(&d, &w[0], &st, &kept[0], n_kept, &work_n[0], &work_p[0],
                       &grad[0], &gbuf[0], &wbuf[0], &scale, &gap_scaled, &primal,
                       &sn, &ref, tol_gap)
            # At least one round runs, as callers warm-starting from a point
            # already within tol_gap (proximal Newton's inner solves) still
            # expect progress.
            if (gap <= tol_gap and n_iter > 0) or n_iter >= max_iter:
                break
            if stalled and n_ws == n_kept:
                # Sweeps no longer move any coefficient beyond the dtype's
                # resolution (typical of float32 with a tiny tol): more cannot
                # lower the gap.  The caller warns.
                break
            n_support = 0
            if l1 > 0.0:
                n_kept = _screen(&d, &st, &w[0], &kept[0], n_kept, &grad[0], scale,
                                 gap_scaled, primal, eps)
                if cold_sweep:
                    # One sweep over every kept feature estimates the
                    # support (see the module docstring); the next round's
                    # working set starts from it.
                    cold_sweep = False
                    n_iter += 1
                    if not _cold_sweep(&d, &st, &w[0], &kept[0], n_kept,
                                       <int> (COLD_SWEEP_MAX_SHARE * n)):
                        for j in range(p):
                            w[j] = 0.0
                        _residual_at_zero(&d, &w[0], &st)
                    continue
                n_violators = 0
                for jj in range(n_kept):
                    j = kept[jj]
                    if w[j] != 0.0:
                        n_support += 1
                    elif _dual_correlation(&d, grad[j], 1.0) > l1:
                        n_violators += 1
                # Twice the support; from a warm start (a path's previous
                # alpha) the support is nearly final and only the violated
                # constraints need room: measured on the sparse benchmark
                # path 0.75 -> 0.69 s, while cold fits keep the doubling
                # (with the smaller set, 97 -> 128 ms at alpha_max / 100).
                size = 2 * n_support
                if warm:
                    size = min(size, n_support + 2 * n_violators)
                size = max(WS_MIN, size, first_ws if n_ws == 0 else 0)
                if (size <= n_ws and gap > 0.5 * prev_gap) or stalled:
                    size = 2 * n_ws
                n_ws = _select(&d, &w[0], &kept[0], n_kept, &grad[0], scale, size,
                               &prio[0], &work[0], &ws[0])
            else:
                n_ws = _select(&d, &w[0], &kept[0], n_kept, &grad[0], scale, n_kept,
                               &prio[0], &work[0], &ws[0])
            if layout == _GRAM:
                with gil:
                    _ensure_gram_rows(&d, &w[0], X_gram, have, &ws[0], n_ws)
            _gather(&d, &w[0], &ws[0], n_ws)
            if has_start:
                # The caller's guess of the solution, tried on the first
                # working set once the gap and screening at w are done (so
                # that w's residual, the reference's, served for them).
                has_start = False
                for jj in range(n_ws):
                    w_acc[jj] = start[ws[jj]]
                _try_candidate(&d, &w[0], &st, &trial, &ws[0], n_ws, &w_acc[0], &wbuf[0])
            prev_gap = gap
            # (Not below the stopping gap's share: a round forced on a point
            # already within tol_gap would otherwise chase rounding.)
            inner_tol = INNER_GAP_FRACTION * fmax(gap, tol_gap)
            settle_tol = sqrt(tol)
            stalled = False
            n_sweeps = 0
            n_stable = 0
            n_since_newton = 0
            inner_done = False
            while not inner_done and n_iter < max_iter:
                n_iter += 1
                if _sweep(&d, &st, &w[0], &ws[0], n_ws, &d_w_max, &w_max):
                    n_stable = 0
                else:
                    n_stable += 1
                if layout != _GRAM and l1 > 0.0:
                    _snapshot(&d, &w[0], &st, &sn)
                n_since_newton += 1
                slot = n_sweeps % (ANDERSON_K + 1)
                for jj in range(n_ws):
                    history[slot * n_ws + jj] = w[ws[jj]]
                n_sweeps += 1
                if slot == ANDERSON_K:
                    _anderson(&d, &w[0], &st, &trial, &ws[0], n_ws, &history[0],
                              &w_acc[0], &wbuf[0])
                newton_done = False
                if n_stable >= NEWTON_STABLE:
                    newton_done = _maybe_newton(&d, &w[0], &st, &trial, &ws[0], n_ws,
                                                &n_since_newton, &w_acc[0], &wbuf[0])
                settled = w_max == 0.0 or d_w_max <= settle_tol * w_max
                # An accepted Newton step usually solves the working set: check.
                if settled or newton_done:
                    inner_gap = _gap(&d, &w[0], &st, &ws[0], n_ws, &work_n[0],
                                     &work_p[0], &grad[0], &gbuf[0], &wbuf[0],
                                     &scale, &gap_scaled, &primal, &sn, NULL, inner_tol)
                    if inner_gap <= inner_tol:
                        inner_done = True
                    elif settled:  # (after an unsettled Newton step settle_tol stands)
                        if settle_tol < eps or d_w_max <= eps * w_max:
                            stalled = True
                            inner_done = True
                        else:
                            settle_tol *= 0.1
    return gap, n_iter
