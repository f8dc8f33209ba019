"""Squared-loss solvers: bind a CenteredProblem to the compiled kernels.

All kernels work on the n-scaled objective
    1/2 sum_i s_i (yc_i - xc_i w)^2 + l1 ||w||_1 + l2/2 ||w||^2,
with l1 = n * alpha * r and l2 = n * alpha * (1 - r); this module makes
that conversion once, in ``penalty_weights``.
"""
import warnings

import numpy as np
import scipy.linalg as la
from sklearn.exceptions import ConvergenceWarning

from ._base import (CSC, CSR, DENSE_C, DENSE_F, csc_arrays, empty_like_dtype, is_sparse,
                    kernel_layout, pass_threads, xt_dot)
from ._core import _cd, _fused, _gram

#: Gram-matrix ("covariance") coordinate descent pays off once X has several
#: rows per column; above this many columns the p x p matrix is too large.
GRAM_MIN_ROWS_PER_FEATURE = 2
GRAM_MAX_FEATURES = 4096
#: From this share of alpha_max on, solutions are usually sparse enough for
#: the Gram matrix to be formed row by row (see _lazy_gram).
LAZY_GRAM_MIN_ALPHA_SHARE = 0.05
#: A dense direct solve factors a min(n, p)-sized Gram matrix.
CHOLESKY_MAX_SIZE = 8192
#: Building that matrix costs about as much as min(n, p) / 32 CG iterations
#: (syrk runs near peak flops, a CG pass is memory-bound; measured 6.2 on
#: 200 x 20000, 7.2 on 200000 x 300, 16 on 50000 x 500): the iteration
#: budget CG gets before "auto" switches to the direct solve.  A failed CG
#: attempt costs its budget on top of the direct solve, so CG is only tried
#: when the budget covers the typical iteration count (measured 3 on
#: 200000 x 300 and 5 to 8 on 200 x 20000 at alpha_max / 10): below
#: CG_MIN_BUDGET iterations "auto" solves directly.
CG_ITERATIONS_PER_GRAM_ROW = 1 / 32
CG_MIN_BUDGET = 8
#: Jacobi preconditioning pays off when column scales differ widely; with
#: comparable scales it only perturbs the spectrum (measured: 19 vs 14 CG
#: iterations on a uniformly random sparse problem).  Spread = ratio of the
#: 99th to the 1st percentile of the diagonal of the Hessian.
JACOBI_MIN_SPREAD = 10.0


def penalty_weights(problem, alpha, l1_ratio):
    n = problem.n_samples
    return n * alpha * l1_ratio, n * alpha * (1.0 - l1_ratio)


def resolve_solver(solver, problem, l1_ratio, positive):
    """The solver "auto" stands for, after checking explicit choices."""
    l2_only = l1_ratio == 0.0
    sparse = is_sparse(problem.X)
    n, p = problem.n_samples, problem.n_features
    if solver in ("cg", "cholesky"):
        if not l2_only or positive:
            raise ValueError(
                f"solver={solver!r} solves the L2 penalty only (penalty='l2' or "
                f"l1_ratio=0) with positive=False; use solver='cd' or 'cd_gram'."
            )
        if solver == "cholesky" and sparse:
            raise ValueError("solver='cholesky' needs dense X; use 'cg' for sparse X.")
        return solver
    if solver != "auto":
        return solver
    if l2_only and not positive:
        if not sparse and min(n, p) <= CHOLESKY_MAX_SIZE:
            return "cg_then_cholesky"
        return "cg"
    if n >= GRAM_MIN_ROWS_PER_FEATURE * p and p <= GRAM_MAX_FEATURES:
        return "cd_gram"
    return "cd"


def _warn(message):
    warnings.warn(message, ConvergenceWarning, stacklevel=4)


def _gram_and_rhs(problem, l1):
    """(Q, q, diag(Q), have) for the GRAM layout of coordinate descent.

    Q = Xc^T S Xc (p x p) and q = Xc^T S Yc (p x k) in X's dtype, diag(Q) in
    float64.  When the first alpha is large (``_lazy_gram``), Q starts empty
    (``have`` all 0) and the kernel forms the rows its working sets need
    (_cd._ensure_gram_rows); otherwise Q is formed whole (``have`` all 1).
    """
    X, dtype = problem.X, problem.dtype
    p = problem.n_features
    rhs = problem.xt_centered_targets()
    if _lazy_gram(problem, l1, rhs):
        no_index = np.empty(0, dtype=np.intc)
        hess = column_variances(problem, X, empty_like_dtype(dtype), no_index, no_index, 0)
        return np.empty((p, p), dtype=dtype), rhs, hess, np.zeros(p, dtype=np.uint8)
    if is_sparse(X):
        XS = X if problem.sw is None else X.multiply(problem.sw[:, None]).tocsc()
        Q = np.asarray((X.T @ XS).toarray(), dtype=dtype, order="C")
        if problem.fit_intercept:
            Q -= problem.n_samples * np.outer(problem.x_mean, problem.x_mean).astype(dtype)
        # rhs needs no correction: sum_i s_i yc_i = 0.
    else:
        Q = np.empty((p, p), dtype=dtype)
        _gram.centered_gram(X, problem.x_mean, _sw_or_empty(problem), problem.sw is not None,
                            problem.fit_intercept, Q)
    return Q, rhs, np.ascontiguousarray(np.diag(Q), dtype=np.float64), np.ones(p, np.uint8)


def _lazy_gram(problem, l1, rhs):
    """Whether the Gram matrix is formed row by row, as working sets need.

    Pays when the solution is sparse (measured warm: 1000 x 100 at
    alpha_max / 10, 8 non-zeros, the fit 0.51 -> 0.37 ms; 5000 x 100 at
    alpha_max / 10, 19 non-zeros, 2.10 -> 1.72 ms; 50000 x 500 at
    alpha_max / 10, 217 -> 98 ms).  When most rows end up formed it costs
    up to about 1.3 times the whole matrix (5000 x 100 at alpha_max / 100,
    53 non-zeros: Gram and kernel 1.7 -> 2.1 ms), so it is used only from
    alpha >= LAZY_GRAM_MIN_ALPHA_SHARE * alpha_max, and for dense X (float32
    X with an intercept excepted: its rows would be formed against
    uncentred X in single precision).
    """
    X = problem.X
    return (not is_sparse(X) and (X.flags.c_contiguous or X.flags.f_contiguous)
            and not (problem.dtype == np.float32 and problem.fit_intercept)
            and rhs.size > 0 and l1 >= LAZY_GRAM_MIN_ALPHA_SHARE * np.max(np.abs(rhs)))


def _sw_or_empty(problem):
    return problem.sw if problem.sw is not None else empty_like_dtype(problem.dtype)


def column_variances(problem, X_dense, data, indices, indptr, layout):
    """sum_i s_i (x_ij - xbar_j)^2 per column, float64: from the problem's
    column moments when they give it accurately (no pass over X), else one
    pass of _gram.column_variances over X as the solver holds it (layout: 0
    dense, 1 CSC, 2 CSR)."""
    var = problem.moment_variances()
    if var is not None:
        return var
    return _gram.column_variances(problem.n_samples, X_dense, data, indices, indptr,
                                  _sw_or_empty(problem), problem.sw is not None,
                                  problem.x_mean, problem.fit_intercept, layout)


def sweeps_by_rows(X):
    """Whether DENSE coordinate descent takes X in C order as it is.

    It then gathers the columns of the features its working sets reach,
    instead of copying all of X to Fortran order: on wide X those are a small
    share of the columns, and the copy was about 15 % of a 100 x 20000 fit.
    Tall X keeps the copy: its working sets reach most columns, and a column
    read across long rows costs a cache line per element.
    """
    return (X.flags.c_contiguous and not X.flags.f_contiguous
            and 0 < X.shape[0] <= X.shape[1])


def coordinate_descent(problem, coef, alpha, l1_ratio, positive, max_iter, tol, gram,
                       start=None):
    """Fit every target in place on coef (n_targets, p); return n_iter, gaps.

    ``start`` (n_targets, p): a guess of the solution that the kernel tries
    after its first gap at coef (see enet_coordinate_descent).
    """
    dtype = problem.dtype
    l1, l2 = penalty_weights(problem, alpha, l1_ratio)
    empty1, empty2 = empty_like_dtype(dtype), empty_like_dtype(dtype, 2)
    empty_f = empty_like_dtype(dtype, 2, "F")
    idx_empty = np.empty(0, dtype=np.intc)
    X_dense, data, indices, indptr = empty_f, empty1, idx_empty, idx_empty
    Q, rhs, have, X_gram, X_rows = empty2, None, None, None, None
    sw = _sw_or_empty(problem)
    if gram:
        layout = _cd.GRAM
        Q, rhs, hess, have = problem.cached("gram", lambda: _gram_and_rhs(problem, l1))
        X_gram = None if is_sparse(problem.X) else problem.X
    else:
        if is_sparse(problem.X):
            layout = _cd.SPARSE
            data, indices, indptr = problem.cached("csc", lambda: csc_arrays(problem.X))
            dense_view = empty_f
        else:
            layout = _cd.DENSE
            if sweeps_by_rows(problem.X):
                X_rows = dense_view = problem.X
            else:
                # Columns must be contiguous for the per-coordinate passes.
                X_dense = dense_view = problem.cached(
                    "fortran", lambda: np.asfortranarray(problem.X))
        hess = problem.cached("cd_hess", lambda: column_variances(
            problem, dense_view if layout == _cd.DENSE else empty2, data, indices, indptr,
            1 if layout == _cd.SPARSE else 0))

    n_targets = problem.Y.shape[1]
    n_iter = np.zeros(n_targets, dtype=int)
    gaps = np.zeros(n_targets)
    n, p = (0 if gram else problem.n_samples), problem.n_features
    # Along a path, the scratch arrays are reused, and each target's last
    # residual (with its correlations) spares the next alpha passes over X.
    workspace = problem.cached(("cd_workspace", layout),
                               lambda: _cd.Workspace(layout, n, p, dtype))
    for k in range(n_targets):
        y = np.ascontiguousarray(problem.Y[:, k]) if not gram else empty1
        q = np.ascontiguousarray(rhs[:, k]) if gram else empty1
        w = np.ascontiguousarray(coef[k], dtype=dtype)
        reference = problem.cached(("cd_reference", layout, k),
                                   lambda: _cd.CorrelationReference(n, p, dtype))
        if layout != _cd.GRAM and start is None and not w.any():
            # A cold start's residual is yc, whose correlations the column
            # moments hold: the first gap reads no column.
            reference.seed(problem.Y[:, k] - problem.y_mean[k], problem.xty[k],
                           float(problem.y_norm2[k]))
        tol_gap = tol * problem.y_norm2[k]
        gap, it = _cd.enet_coordinate_descent(
            layout, X_dense, data, indices, indptr, Q, q, y, sw, problem.sw is not None,
            problem.x_mean, float(problem.y_mean[k]), float(problem.y_norm2[k]),
            problem.fit_intercept, hess, w, l1, l2, positive, max_iter, tol, tol_gap,
            workspace, reference,
            None if start is None else np.ascontiguousarray(start[k], dtype=dtype),
            X_gram, have, X_rows=X_rows)
        coef[k] = w
        n_iter[k], gaps[k] = it, gap / problem.n_samples
        if not gap <= tol_gap:
            _warn(f"Coordinate descent did not converge in max_iter={max_iter} "
                  f"sweeps: duality gap {gap:.3e} > tolerance {tol_gap:.3e}. "
                  "Increase max_iter, or check the scale of the features.")
    return n_iter, gaps


def conjugate_gradient(problem, coef, alpha, max_iter, tol, warn=True):
    """L2 fit of every target in place by CG on the fused-gradient kernel.

    Returns (n_iter per target, whether every target converged).
    """
    dtype = problem.dtype
    _, l2 = penalty_weights(problem, alpha, 0.0)
    sw = _sw_or_empty(problem)
    layout, X_dense, data, indices, indptr = kernel_layout(problem.X)
    # column_variances' own codes: 0 dense, 1 CSC, 2 CSR.
    var_layout = {DENSE_C: 0, DENSE_F: 0, CSC: 1, CSR: 2}[layout]
    diag = problem.cached("cg_hess", lambda: column_variances(
        problem, X_dense, data, indices, indptr, var_layout))
    diag = cg_preconditioner(diag, l2)
    # A solve makes a few passes (4 on the 200000 x 300 benchmark at alpha_max / 10).
    n_threads = pass_threads(X_dense.size if layout in (DENSE_C, DENSE_F) else data.size,
                             n_passes=4)
    n_targets = problem.Y.shape[1]
    n_iter = np.zeros(n_targets, dtype=int)
    converged = True
    for k in range(n_targets):
        y = np.ascontiguousarray(problem.Y[:, k])
        w = np.ascontiguousarray(coef[k], dtype=dtype)
        it, rel = _fused.conjugate_gradient(
            layout, X_dense, data, indices, indptr, y, float(problem.y_mean[k]), sw,
            problem.sw is not None, problem.x_mean, problem.fit_intercept, diag, w, l2,
            max_iter, tol, False, n_threads, problem.xty[k])
        coef[k] = w
        n_iter[k] = it
        if rel > tol:
            converged = False
            if not warn:
                break
            _warn(f"Conjugate gradient did not converge in max_iter={max_iter} "
                  f"iterations: relative gradient norm {rel:.3e} > tol={tol:.3e}.")
    return n_iter, converged


def cg_preconditioner(diag, l2):
    """The diagonal handed to the CG kernel: Jacobi, or constant (plain CG).

    A constant diagonal gives plain CG's iterates up to scale, kept near unit
    size so that float32 cannot overflow.
    """
    if not diag.size:
        return diag
    low, median, high = np.percentile(diag, [1, 50, 99])
    if high + l2 > JACOBI_MIN_SPREAD * (low + l2):
        return diag
    return np.full_like(diag, median)


def cg_then_cholesky(problem, coef, alpha, max_iter, tol):
    """CG within the cost of a direct solve, else the direct solve.

    Well-conditioned problems (larger alpha) converge in a few CG passes over
    X, far cheaper than forming the Gram matrix; ill-conditioned ones stop at
    the budget and fall back to Cholesky, at most doubling its cost.
    Returns (coef, n_iter, solver used).
    """
    budget = int(min(problem.n_samples, problem.n_features) * CG_ITERATIONS_PER_GRAM_ROW)
    if budget < CG_MIN_BUDGET:
        return cholesky(problem, alpha), np.ones(coef.shape[0], dtype=int), "cholesky"
    trial = coef.copy()
    n_iter, converged = conjugate_gradient(problem, trial, alpha, min(budget, max_iter),
                                           tol, warn=False)
    if converged:
        return trial, n_iter, "cg"
    return cholesky(problem, alpha), np.ones_like(n_iter), "cholesky"


def path_guess(alpha_a, coef_a, alpha_b, coef_b, alpha):
    """A guess of the solution at alpha from those at the path's last two alphas.

    While the support and its signs hold, an L1 solution is affine in alpha
    (w_A = (Xc_A^T S Xc_A)^-1 (Xc_A^T S yc - n alpha r s_A)), so the features
    active with one sign at both points are continued linearly, stopped at
    zero; the others keep the last value.  Coordinate descent takes the
    guess only where it lowers the objective.  Measured on the 20000 x 50000
    sparse path: 499 -> 418 sweeps (and the 200 x 20000 dense path 3851 -> 2332).
    """
    if alpha_a == alpha_b:
        return None
    guess = coef_b.copy()
    # Only the support moves (an O(support) update: p can be large).
    both = np.flatnonzero(coef_b)
    a, b = coef_a.flat[both].astype(np.float64), coef_b.flat[both].astype(np.float64)
    both, a, b = both[a * b > 0], a[a * b > 0], b[a * b > 0]
    moved = b + (b - a) * ((alpha - alpha_b) / (alpha_b - alpha_a))
    moved[moved * b < 0] = 0.0
    guess.flat[both] = moved
    return guess


def solve(problem, solver, coef, alpha, l1_ratio, positive, max_iter, tol, start=None):
    """Run a resolved solver from the initial coef (n_targets, p).

    ``start``: an optional guess of the solution, used by coordinate descent.
    Returns (coef, n_iter per target, duality gaps or None, solver used).
    """
    if solver in ("cd", "cd_gram"):
        n_iter, gaps = coordinate_descent(problem, coef, alpha, l1_ratio, positive,
                                          max_iter, tol, gram=solver == "cd_gram",
                                          start=start)
        return coef, n_iter, gaps, solver
    if solver == "cg":
        n_iter, _ = conjugate_gradient(problem, coef, alpha, max_iter, tol)
        return coef, n_iter, None, solver
    if solver == "cg_then_cholesky":
        coef, n_iter, used = cg_then_cholesky(problem, coef, alpha, max_iter, tol)
        return coef, n_iter, None, used
    return cholesky(problem, alpha), np.ones(coef.shape[0], dtype=int), None, solver


def cholesky(problem, alpha):
    """Direct L2 solve on the primal (p <= n) or dual (p > n) Gram matrix."""
    X, dtype = problem.X, problem.dtype
    n, p = X.shape
    _, l2 = penalty_weights(problem, alpha, 0.0)
    sw = _sw_or_empty(problem)
    weighted = problem.sw is not None
    Yc = problem.centered_targets()
    if p <= n:
        G = problem.cached("primal_gram", lambda: _gram_matrix(
            _gram.centered_gram, X, p, problem, sw), private=True)
        G.flat[:: p + 1] += l2
        rhs = problem.cached("primal_rhs", problem.xt_centered_targets)
        return _spd_solve(G, rhs).T
    # Dual: w = Z^T (Z Z^T + l2 I)^-1 sqrt(s) yc with Z = sqrt(S) Xc.
    K = problem.cached("dual_gram", lambda: _gram_matrix(
        _gram.centered_kernel, X, n, problem, sw), private=True)
    K.flat[:: n + 1] += l2
    root = np.ones(n, dtype=dtype) if not weighted else np.sqrt(problem.sw)
    a = _spd_solve(K, (root * Yc.T).T) * root[:, None]
    coef = xt_dot(X, a)
    if problem.fit_intercept:
        coef -= np.outer(problem.x_mean, a.sum(axis=0)).astype(dtype)
    return coef.T


def _gram_matrix(kernel, X, size, problem, sw):
    """The (size x size) centred Gram matrix that ``kernel`` computes."""
    out = np.empty((size, size), dtype=problem.dtype)
    kernel(X, problem.x_mean, sw, problem.sw is not None, problem.fit_intercept, out)
    return out


def _spd_solve(A, B):
    """Solve A X = B for symmetric positive (semi-)definite A."""
    try:
        return la.solve(A, B, assume_a="pos", check_finite=False)
    except (la.LinAlgError, ValueError):
        # Singular (alpha = 0 with collinear columns): minimum-norm solution.
        return la.lstsq(A, B, check_finite=False)[0]
