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
- SPARSE: X in CSC; the residual is kept uncentred up to a scalar offset, so
  a coordinate update touches only the column's non-zeros.
- GRAM:   the centred weighted Gram matrix Q = Xc^T S Xc and q = Xc^T S yc
  (covariance updates: each coordinate costs O(p), independent of n).

Sweeps alternate: a full sweep over all features, then sweeps over the
active set (the non-zero coefficients) until their changes are small, then a
full sweep again.  Whenever a full sweep changes the coefficients little
(relative to a threshold that tightens as needed), the duality gap is computed; the solver stops when it
is below tol_gap.  Every sweep counts as one iteration against max_iter.  The penalty is reached only through ``_penalty.pxd``.
"""
import numpy as np
from cython cimport floating
from libc.math cimport fabs, fmax, fmin, sqrt, INFINITY

from ._blas cimport _dot, _axpy, _gemv
from ._penalty cimport (enet_coordinate_step, enet_value, enet_dual_scale,
                        enet_conjugate_sum)

cdef enum:
    _DENSE = 0
    _SPARSE = 1
    _GRAM = 2

# Layout codes for the Python caller.
DENSE = _DENSE
SPARSE = _SPARSE
GRAM = _GRAM


cdef double _duality_gap(
    int layout, int n, int p,
    const floating[::1, :] X, const floating[::1] X_data,
    const int[::1] X_indices, const int[::1] X_indptr,
    const floating[:, ::1] Q, const floating[::1] q,
    const floating[::1] y, const floating[::1] sw, bint weighted,
    double y_mean, double y_norm2, bint fit_intercept,
    const floating[::1] w, floating[::1] resid, double* offset,
    floating[::1] Qw, floating[::1] work_n, floating[::1] work_p,
    double[::1] grad, double l1, double l2, bint positive,
) noexcept nogil:
    """Duality gap at w (n-scaled objective); also refreshes the residual.

    grad receives Xc^T S r, the negative gradient of the data term.
    """
    cdef int i, j, k
    cdef double total, sw_sum, mean, rnorm2 = 0.0, ry = 0.0, s_i, r_i
    cdef double primal, c, gap, gap_conj, w_norm2 = 0.0

    if layout == _GRAM:
        # Recompute Q w from scratch so that rounding drift does not build up.
        _gemv(c'N', p, p, 1.0, &Q[0, 0], p, &w[0], 1, 0.0, &Qw[0], 1)
        total = 0.0
        for j in range(p):
            grad[j] = q[j] - Qw[j]
            total += <double> w[j] * q[j]
            rnorm2 += <double> w[j] * Qw[j]
        ry = y_norm2 - total
        rnorm2 = y_norm2 - 2.0 * total + rnorm2
    else:
        # Fold the lazy scalar offset (sparse) into the residual and remove any
        # mean drift: the optimal intercept makes the residual s-centred.
        mean = offset[0]
        offset[0] = 0.0
        if fit_intercept:
            total = 0.0
            sw_sum = 0.0
            for i in range(n):
                s_i = sw[i] if weighted else 1.0
                total += s_i * (resid[i] - mean)
                sw_sum += s_i
            mean += total / sw_sum
        for i in range(n):
            resid[i] = <floating> (resid[i] - mean)
            r_i = resid[i]
            s_i = sw[i] if weighted else 1.0
            rnorm2 += s_i * r_i * r_i
            ry += s_i * r_i * (y[i] - y_mean)
            work_n[i] = <floating> (s_i * r_i)
        if layout == _DENSE:
            _gemv(c'T', n, p, 1.0, &X[0, 0], n, &work_n[0], 1, 0.0, &work_p[0], 1)
            for j in range(p):
                grad[j] = work_p[j]
        else:
            for j in range(p):
                total = 0.0
                for k in range(X_indptr[j], X_indptr[j + 1]):
                    total += X_data[k] * work_n[X_indices[k]]
                grad[j] = total

    for j in range(p):
        w_norm2 += <double> w[j] * w[j]
    primal = 0.5 * rnorm2 + enet_value(&w[0], p, l1, l2)
    if l1 == 0.0 and l2 == 0.0:
        # Least squares has no bounded dual here; report the optimality
        # residual |r . Xc w|, which vanishes exactly at a solution.
        return fabs(rnorm2 - ry)
    gap = INFINITY
    if l1 > 0.0:
        # Dual point: the residual rescaled into the feasible set.
        c = enet_dual_scale(&grad[0], &w[0], p, l1, l2, positive)
        gap = primal - (c * ry - 0.5 * c * c * (rnorm2 + l2 * w_norm2))
    if l2 > 0.0:
        # Dual point: the residual itself, always feasible when l2 > 0.
        gap_conj = primal + 0.5 * rnorm2 - ry + enet_conjugate_sum(
            &grad[0], p, l1, l2, positive)
        gap = fmin(gap, gap_conj)
    return gap


def enet_coordinate_descent(
    int layout,
    const floating[::1, :] X,
    const floating[::1] X_data, const int[::1] X_indices, const int[::1] X_indptr,
    const floating[:, ::1] Q, const floating[::1] q,
    const floating[::1] y, const floating[::1] sw, bint weighted,
    const floating[::1] x_mean, double y_mean, double y_norm2,
    bint fit_intercept, const double[::1] hess, floating[::1] w,
    double l1, double l2, bint positive,
    int max_iter, double tol, double tol_gap,
):
    """Run coordinate descent in place on w; return (duality gap, n_iter).

    Arrays that a layout does not use are passed empty.  ``sw`` holds the
    sample weights rescaled to sum to n (empty when ``weighted`` is false),
    ``x_mean`` / ``y_mean`` the weighted means (zeros without intercept) and
    ``y_norm2`` the weighted squared norm of the centred y, ``hess`` the
    curvature of each coordinate (``_gram.column_variances``, or the Gram
    diagonal).
    """
    cdef int n = y.shape[0]
    cdef int p = w.shape[0]
    dtype = np.float32 if floating is float else np.float64
    cdef floating[::1] resid = np.zeros(n if layout != _GRAM else 0, dtype=dtype)
    cdef floating[::1] work_n = np.zeros(n if layout != _GRAM else 0, dtype=dtype)
    cdef floating[::1] work_p = np.zeros(p, dtype=dtype)
    cdef floating[::1] Qw = np.zeros(p if layout == _GRAM else 0, dtype=dtype)
    cdef double[::1] grad = np.zeros(p, dtype=np.float64)
    cdef int[::1] active = np.zeros(p, dtype=np.intc)
    cdef double n_weight = 0.0, offset = 0.0, gap = INFINITY
    cdef double g, z, w_old, w_new, delta, d_w_max, w_max, acc, s_i, mu, settle_tol, eps
    cdef int i, j, k, jj, n_iter = 0, n_active = 0, n_sweep
    cdef bint full_sweep, settled, gap_is_current = False

    if p == 0:
        return 0.0, 0

    with nogil:
        for i in range(n):
            n_weight += sw[i] if weighted else 1.0

        # Initial residual r = yc - Xc w.
        if layout == _GRAM:
            _gemv(c'N', p, p, 1.0, &Q[0, 0], p, &w[0], 1, 0.0, &Qw[0], 1)
        else:
            for i in range(n):
                resid[i] = <floating> (y[i] - y_mean)
            acc = 0.0
            for j in range(p):
                if w[j] == 0:
                    continue
                if fit_intercept:
                    acc += x_mean[j] * w[j]
                if layout == _DENSE:
                    _axpy(n, -w[j], &X[0, j], 1, &resid[0], 1)
                else:
                    for k in range(X_indptr[j], X_indptr[j + 1]):
                        resid[X_indices[k]] -= X_data[k] * w[j]
            if layout == _DENSE:
                for i in range(n):
                    resid[i] = <floating> (resid[i] + acc)
            else:
                offset = -acc   # true residual = resid - offset

        # Every sweep, over all features or over the active set, counts as
        # one iteration against max_iter.  A sweep has "settled" when no
        # coefficient moved by more than settle_tol relative to the largest;
        # the gap is ~ distance^2 while the moves are ~ distance, so checks
        # start at sqrt(tol) and tighten tenfold whenever a gap check fails.
        settle_tol = sqrt(tol)
        eps = 1.2e-7 if floating is float else 2.3e-16
        full_sweep = True
        while n_iter < max_iter:
            n_iter += 1
            d_w_max = 0.0
            w_max = 0.0
            n_sweep = p if full_sweep else n_active
            if full_sweep:
                n_active = 0
            for jj in range(n_sweep):
                j = jj if full_sweep else active[jj]
                w_old = w[j]
                mu = x_mean[j] if fit_intercept else 0.0
                # g = xc_j . S r : the coordinate's negative data gradient.
                if layout == _DENSE:
                    if weighted:
                        acc = 0.0
                        for i in range(n):
                            acc += sw[i] * X[i, j] * resid[i]
                        g = acc
                    else:
                        g = _dot(n, &X[0, j], 1, &resid[0], 1)
                elif layout == _SPARSE:
                    acc = 0.0
                    for k in range(X_indptr[j], X_indptr[j + 1]):
                        i = X_indices[k]
                        s_i = sw[i] if weighted else 1.0
                        acc += s_i * X_data[k] * resid[i]
                    g = acc - offset * n_weight * mu
                else:
                    g = q[j] - Qw[j]
                z = hess[j] * w_old + g
                w_new = enet_coordinate_step(z, hess[j], l1, l2, positive)
                delta = w_new - w_old
                if delta != 0.0:
                    w[j] = <floating> w_new
                    if layout == _DENSE:
                        # r -= delta * (x_j - mu_j), fused in one pass.
                        for i in range(n):
                            resid[i] = <floating> (resid[i] - delta * X[i, j] + delta * mu)
                    elif layout == _SPARSE:
                        for k in range(X_indptr[j], X_indptr[j + 1]):
                            resid[X_indices[k]] -= <floating> (delta * X_data[k])
                        offset -= delta * mu
                    else:
                        _axpy(p, <floating> delta, &Q[j, 0], 1, &Qw[0], 1)
                d_w_max = fmax(d_w_max, fabs(delta))
                w_max = fmax(w_max, fabs(w_new))
                if full_sweep and w_new != 0.0:
                    active[n_active] = j
                    n_active += 1
            settled = w_max == 0.0 or d_w_max <= settle_tol * w_max
            if full_sweep:
                if settled:
                    gap = _duality_gap(layout, n, p, X, X_data, X_indices, X_indptr,
                                       Q, q, y, sw, weighted, y_mean, y_norm2,
                                       fit_intercept, w, resid, &offset, Qw, work_n,
                                       work_p, grad, l1, l2, positive)
                    gap_is_current = True
                    if gap <= tol_gap:
                        break
                    if settle_tol < eps:
                        # Moves already below the dtype's resolution: more
                        # sweeps cannot lower the gap (typical of float32
                        # with a tiny tol).  The caller warns.
                        break
                    settle_tol *= 0.1
                # Cycle on the active set before paying for another full sweep.
                full_sweep = n_active == 0
            elif settled:
                # The active set settled; a full sweep must confirm it.
                full_sweep = True
            gap_is_current = False
        if not gap_is_current:
            gap = _duality_gap(layout, n, p, X, X_data, X_indices, X_indptr,
                               Q, q, y, sw, weighted, y_mean, y_norm2,
                               fit_intercept, w, resid, &offset, Qw, work_n,
                               work_p, grad, l1, l2, positive)
    return gap, n_iter
