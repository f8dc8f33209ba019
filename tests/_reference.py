"""Independent reference implementations used by the sklreg test suite.

Nothing here imports sklreg.  Everything is computed in float64 so that an
sklreg solution (possibly float32) and a reference solution are compared
through exactly the same function.

Objective (the API contract of ``sklreg.RegularizedRegressor``)::

    1/(2n) * sum_i s_i (y_i - x_i.w - b)^2
        + alpha * (r * ||w||_1 + (1 - r)/2 * ||w||_2^2)

with ``s`` the sample weights rescaled to sum to ``n`` (``s = 1`` if none).
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import nnls
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge

# Tolerances used for the scikit-learn reference fits.
REF_TOL = 1e-12
REF_MAX_ITER = 200_000


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------
def as_float64_dense(X):
    """Densify (if sparse) and upcast to a C-contiguous float64 array."""
    if sp.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=np.float64)


def as_float64(X):
    """Upcast to float64 keeping sparse matrices sparse (CSR)."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def rescaled_weights(sample_weight, n_samples):
    """Sample weights rescaled to sum to ``n_samples`` (float64)."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    s = np.asarray(sample_weight, dtype=np.float64).ravel()
    if s.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {s.shape}, expected ({n_samples},)")
    total = s.sum()
    if not total > 0:
        raise ValueError("sample_weight must have a positive sum")
    return s * (n_samples / total)


def weighted_mean(v, s):
    """Weighted mean of 1-D ``v`` (or columns of 2-D dense ``v``) with weights s."""
    return np.average(np.asarray(v, dtype=np.float64), axis=0, weights=s)


def _column_means(X, s):
    """Weighted column means of X (dense or sparse), float64."""
    if sp.issparse(X):
        return np.asarray(as_float64(X).T @ s).ravel() / s.sum()
    return np.asarray(X, dtype=np.float64).T @ s / s.sum()


# --------------------------------------------------------------------------
# objective
# --------------------------------------------------------------------------
def regression_objective(
    X, y, coef, intercept, alpha, l1_ratio_effective, sample_weight=None
):
    """Value of the sklreg objective, computed in float64.

    Works for dense and sparse X.  ``coef`` is 1-D (n_features,), ``y`` is
    1-D, ``intercept`` a scalar (use 0.0 when fit_intercept=False).
    """
    X = as_float64(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    w = np.asarray(coef, dtype=np.float64).ravel()
    b = float(intercept)
    n = X.shape[0]
    r = float(l1_ratio_effective)
    s = rescaled_weights(sample_weight, n)
    resid = y - np.asarray(X @ w).ravel() - b
    datafit = 0.5 / n * np.sum(s * resid**2)
    penalty = alpha * (r * np.sum(np.abs(w)) + 0.5 * (1.0 - r) * np.dot(w, w))
    return float(datafit + penalty)


def alpha_max(X, y, l1_ratio_effective, fit_intercept, sample_weight=None):
    """Smallest alpha for which w = 0 is optimal (L1 / elastic-net).

    alpha_max = max_j |X_c[:, j]^T s (y - ybar)| / (n * r), with X_c and ybar
    the weighted column / target means when fitting an intercept (X_c = X,
    ybar = 0 otherwise).  Computed without densifying the centred matrix.
    """
    X = as_float64(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    n = X.shape[0]
    s = rescaled_weights(sample_weight, n)
    if fit_intercept:
        yc = y - weighted_mean(y, s)
    else:
        yc = y
    # sum_i s_i (x_ij - xbar_j) yc_i = X^T (s*yc) - xbar_j * sum(s*yc); with
    # an intercept sum(s*yc) = 0 so the centring of X drops out exactly.
    sy = s * yc
    corr = np.asarray(X.T @ sy).ravel()
    if fit_intercept:
        corr = corr - _column_means(X, s) * sy.sum()
    return float(np.max(np.abs(corr)) / (n * l1_ratio_effective))


def centred_target_scale(y, fit_intercept, sample_weight=None):
    """Weighted (centred if fit_intercept) ||y||^2 / n, the scale of ``tol``."""
    y = np.asarray(y, dtype=np.float64).ravel()
    n = y.shape[0]
    s = rescaled_weights(sample_weight, n)
    yc = y - weighted_mean(y, s) if fit_intercept else y
    return float(np.sum(s * yc**2) / n)


# --------------------------------------------------------------------------
# reference solvers (dense float64, scikit-learn / scipy)
# --------------------------------------------------------------------------
def reference_solve(
    X,
    y,
    alpha,
    l1_ratio_effective,
    fit_intercept=True,
    sample_weight=None,
    positive=False,
):
    """Solve the sklreg problem with scikit-learn / scipy at tight tolerance.

    Returns ``(coef, intercept)`` (float64; intercept 0.0 without intercept).

    * r > 0: Lasso (r == 1) or ElasticNet, tol=1e-12, sample_weight passed
      (scikit-learn rescales it to sum to n: the same objective).
    * r == 0, positive=False: Ridge with alpha * sum(s) (= alpha * n) and
      sample_weight = s (the rescaled weights); checked against an exact
      least-squares solve in test_correctness.py.
    * r == 0, positive=True: exact non-negative least squares (scipy nnls)
      on the centred, weight-scaled system augmented with sqrt(n*alpha)*I.
    """
    X = as_float64_dense(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    n = X.shape[0]
    r = float(l1_ratio_effective)
    s = rescaled_weights(sample_weight, n)

    if r > 0:
        kwargs = dict(
            alpha=alpha,
            fit_intercept=fit_intercept,
            tol=REF_TOL,
            max_iter=REF_MAX_ITER,
            positive=positive,
            selection="cyclic",
        )
        if r == 1.0:
            est = Lasso(**kwargs)
        else:
            est = ElasticNet(l1_ratio=r, **kwargs)
        with warnings.catch_warnings():
            # a 1e-12 relative gap is sometimes below float64 resolution
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y, sample_weight=s)
        return np.asarray(est.coef_, dtype=np.float64).ravel(), float(
            est.intercept_ if fit_intercept else 0.0
        )

    if not positive:
        est = Ridge(alpha=alpha * s.sum(), fit_intercept=fit_intercept, solver="svd")
        est.fit(X, y, sample_weight=s)
        return np.asarray(est.coef_, dtype=np.float64).ravel(), float(
            est.intercept_ if fit_intercept else 0.0
        )

    return _positive_ridge_nnls(X, y, alpha, fit_intercept, s)


def _positive_ridge_nnls(X, y, alpha, fit_intercept, s):
    n, p = X.shape
    if fit_intercept:
        # b is unconstrained: profiling it out centres X and y (weighted).
        xm = X.T @ s / s.sum()
        ym = float(y @ s / s.sum())
        Xc, yc = X - xm, y - ym
    else:
        xm, ym = np.zeros(p), 0.0
        Xc, yc = X, y
    sq = np.sqrt(s)
    A = np.vstack([sq[:, None] * Xc, np.sqrt(n * alpha) * np.eye(p)])
    t = np.concatenate([sq * yc, np.zeros(p)])
    w, _ = nnls(A, t, maxiter=50 * p)
    b = ym - xm @ w if fit_intercept else 0.0
    return w, float(b)


def exact_ridge(X, y, alpha, fit_intercept=True, sample_weight=None):
    """Exact ridge solution by least squares on an augmented system.

    Independent of scikit-learn; used to verify the Ridge alpha mapping.
    """
    X = as_float64_dense(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    n, p = X.shape
    s = rescaled_weights(sample_weight, n)
    sq = np.sqrt(s)
    if fit_intercept:
        # unpenalised intercept column
        A = np.hstack([sq[:, None] * X, sq[:, None]])
        reg = np.hstack([np.sqrt(n * alpha) * np.eye(p), np.zeros((p, 1))])
    else:
        A = sq[:, None] * X
        reg = np.sqrt(n * alpha) * np.eye(p)
    A = np.vstack([A, reg])
    t = np.concatenate([sq * y, np.zeros(p)])
    sol = np.linalg.lstsq(A, t, rcond=None)[0]
    if fit_intercept:
        return sol[:p], float(sol[p])
    return sol, 0.0


def objective_gradient(X, y, coef, intercept, alpha, l1_ratio_effective, sample_weight=None):
    """Gradient of the smooth part (datafit + L2 term) w.r.t. (w, b)."""
    X = as_float64(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    w = np.asarray(coef, dtype=np.float64).ravel()
    n = X.shape[0]
    r = float(l1_ratio_effective)
    s = rescaled_weights(sample_weight, n)
    R = s * (y - np.asarray(X @ w).ravel() - intercept)
    gw = -np.asarray(X.T @ R).ravel() / n + alpha * (1 - r) * w
    gb = -R.sum() / n
    return gw, gb


# --------------------------------------------------------------------------
# KKT conditions (L1 / elastic-net)
# --------------------------------------------------------------------------
def kkt_violations(
    X,
    y,
    coef,
    intercept,
    alpha,
    l1_ratio_effective,
    sample_weight=None,
    fit_intercept=True,
    positive=False,
):
    """Return (per-feature violation array, intercept violation).

    With R = s * (y - Xw - b) and g = X^T R / n - alpha*(1-r)*w:

    * w_j != 0: violation |g_j - alpha*r*sign(w_j)|
    * w_j == 0: violation max(0, |g_j| - alpha*r)
      (positive=True: max(0, g_j - alpha*r))
    * intercept: |sum(R)| / n when fit_intercept, else 0.
    (positive=True with w_j < 0 is reported as an infinite violation.)
    """
    X = as_float64(X)
    y = np.asarray(y, dtype=np.float64).ravel()
    w = np.asarray(coef, dtype=np.float64).ravel()
    n = X.shape[0]
    r = float(l1_ratio_effective)
    s = rescaled_weights(sample_weight, n)
    R = s * (y - np.asarray(X @ w).ravel() - float(intercept))
    g = np.asarray(X.T @ R).ravel() / n - alpha * (1.0 - r) * w
    lam = alpha * r
    viol = np.empty_like(w)
    nz = w != 0
    viol[nz] = np.abs(g[nz] - lam * np.sign(w[nz]))
    if positive:
        viol[~nz] = np.maximum(0.0, g[~nz] - lam)
        viol[w < 0] = np.inf
    else:
        viol[~nz] = np.maximum(0.0, np.abs(g[~nz]) - lam)
    icpt = abs(R.sum()) / n if fit_intercept else 0.0
    return viol, float(icpt)


def assert_kkt(
    X,
    y,
    coef,
    intercept,
    alpha,
    l1_ratio_effective,
    sample_weight=None,
    fit_intercept=True,
    positive=False,
    atol=1e-7,
    intercept_atol=None,
):
    """Assert the KKT conditions of an L1 / elastic-net solution."""
    viol, icpt = kkt_violations(
        X,
        y,
        coef,
        intercept,
        alpha,
        l1_ratio_effective,
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
        positive=positive,
    )
    if intercept_atol is None:
        intercept_atol = atol
    # A NaN tolerance would make every comparison below pass.
    assert np.isfinite(atol) and np.isfinite(intercept_atol), (atol, intercept_atol)
    bad = np.flatnonzero(viol > atol)
    msg = []
    if bad.size:
        w = np.asarray(coef).ravel()
        msg.append(
            f"KKT violated for {bad.size} feature(s) (atol={atol:g}): "
            + ", ".join(f"j={j} w={w[j]:.3g} viol={viol[j]:.3g}" for j in bad[:10])
        )
    if icpt > intercept_atol:
        msg.append(f"intercept condition |sum(R)|/n = {icpt:.3g} > {intercept_atol:g}")
    if msg:
        raise AssertionError("; ".join(msg))


# --------------------------------------------------------------------------
# test data
# --------------------------------------------------------------------------
def make_regression_data(n_samples, n_features, seed=0, zero_fraction=0.4):
    """Correlated design with non-zero column means, noisy y with an offset.

    About ``zero_fraction`` of the entries of X are exact zeros (so that the
    sparse versions of X are genuinely sparse) while the non-zero entries
    carry a per-column offset, so every column has a non-zero mean and the
    intercept handling matters.  Returns (X, y, sample_weight), float64.
    """
    rng = np.random.RandomState(seed)
    p = n_features
    mixing = 0.5 * rng.randn(p, p) + np.eye(p)  # correlated columns
    offsets = rng.uniform(-3.0, 3.0, size=p)
    offsets[np.abs(offsets) < 0.5] += 1.0
    X = rng.randn(n_samples, p) @ mixing + offsets
    X[rng.rand(n_samples, p) < zero_fraction] = 0.0
    w_true = rng.randn(p) * (rng.rand(p) < 0.3)
    w_true[0] = 2.0  # at least one informative feature
    y = X @ w_true + 0.5 * rng.randn(n_samples) + 5.0
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return X, y, sample_weight


# --------------------------------------------------------------------------
# helpers shared by the test modules
# --------------------------------------------------------------------------
def fit_quiet(est, X, y, sample_weight=None):
    """Fit with ConvergenceWarnings silenced (where stopping on max_iter is legitimate)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sample_weight)


def assert_objective_close(obj, ref_obj, rtol, what=""):
    """obj is at most rtol above ref_obj, and within rtol of it either way."""
    rel = (obj - ref_obj) / abs(ref_obj)
    assert obj <= ref_obj * (1 + rtol), (
        f"{what}: sklreg objective {obj!r} above reference {ref_obj!r} (rel {rel:.3g})"
    )
    assert abs(rel) <= rtol, (
        f"{what}: sklreg objective {obj!r} vs reference {ref_obj!r} (rel {rel:.3g})"
    )


def to_format(X, fmt):
    """X as "dense", "csr" or "csc"."""
    if fmt == "dense":
        return np.asarray(X)
    if fmt == "csr":
        return sp.csr_matrix(X)
    if fmt == "csc":
        return sp.csc_matrix(X)
    raise ValueError(fmt)
