"""Numerical correctness of sklreg.RegularizedRegressor.

Every solution is judged through the same float64 objective
(``_reference.regression_objective``) against a scikit-learn / scipy
reference solved at tight tolerance on the same (possibly float32-cast) data.
"""

import functools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from _reference import (
    assert_objective_close,
    fit_quiet,
    to_format,
    alpha_max,
    as_float64_dense,
    assert_kkt,
    centred_target_scale,
    exact_ridge,
    kkt_violations,
    make_regression_data,
    objective_gradient,
    reference_solve,
    regression_objective,
    rescaled_weights,
    weighted_mean,
)
from sklreg import RegularizedRegressor

# effective l1 ratio r of each penalty (elasticnet is tested with l1_ratio=0.5)
R_OF = {"l1": 1.0, "l2": 0.0, "elasticnet": 0.5}
PENALTIES = ["l1", "l2", "elasticnet"]
SHAPES = {"tall": (80, 15), "wide": (25, 60)}
# fraction of alpha_max used for each shape (wide problems: smaller alpha)
ALPHA_FRACTION = {"tall": 0.1, "wide": 0.01}
FORMATS = ["dense", "csr", "csc"]
DTYPES = {"float64": np.float64, "float32": np.float32}
RTOL_OBJ = {"float64": 1e-6, "float32": 1e-4}

FIT_TOL = 1e-10
FIT_MAX_ITER = 100_000

# valid (penalty, solver) pairs
SOLVER_CASES = [
    ("l1", "cd"),
    ("l1", "cd_gram"),
    ("elasticnet", "cd"),
    ("elasticnet", "cd_gram"),
    ("l2", "cd"),
    ("l2", "cd_gram"),
    ("l2", "cg"),
    ("l2", "cholesky"),
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _data(shape, seed=0):
    n, p = SHAPES[shape]
    X, y, sw = make_regression_data(n, p, seed=seed)
    for a in (X, y, sw):
        a.setflags(write=False)  # cached: guard against accidental mutation
    return X, y, sw


def choose_alpha(X, y, penalty, shape, fit_intercept, sw):
    """alpha at a fraction of alpha_max; L2 uses the L1 alpha_max as scale."""
    r = R_OF[penalty]
    amax = alpha_max(X, y, r if r > 0 else 1.0, fit_intercept, sw)
    return ALPHA_FRACTION[shape] * amax


@functools.lru_cache(maxsize=None)
def reference_case(penalty, shape, dtype_name, weighted, fit_intercept, positive=False):
    """Data cast to ``dtype`` plus the reference solution on that data.

    Returns (X_cast, y_cast, sw or None, alpha, ref_coef, ref_intercept, ref_obj)
    where X_cast / y_cast are what sklreg is given (dtype ``dtype_name``).
    """
    X, y, sw = _data(shape)
    dtype = DTYPES[dtype_name]
    Xc = X.astype(dtype)
    yc = y.astype(dtype)
    sw = sw if weighted else None
    r = R_OF[penalty]
    alpha = choose_alpha(Xc, yc, penalty, shape, fit_intercept, sw)
    coef, b = reference_solve(
        Xc, yc, alpha, r, fit_intercept=fit_intercept, sample_weight=sw,
        positive=positive,
    )
    obj = regression_objective(Xc, yc, coef, b, alpha, r, sw)
    for a in (Xc, yc, coef):
        a.setflags(write=False)
    return Xc, yc, sw, alpha, coef, b, obj


def sk_objective(est, X, y, alpha, r, sw, target=None):
    coef = np.asarray(est.coef_)
    icpt = np.asarray(est.intercept_, dtype=np.float64)
    if target is not None:
        coef = coef[target]
        icpt = icpt[target]
    return regression_objective(X, y, coef, float(icpt), alpha, r, sw)


def make_est(penalty, alpha, **kw):
    params = dict(
        penalty=penalty, alpha=alpha, l1_ratio=0.5, tol=FIT_TOL, max_iter=FIT_MAX_ITER
    )
    params.update(kw)
    return RegularizedRegressor(**params)


# --------------------------------------------------------------------------
# sanity of the reference itself
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_reference_ridge_mapping(shape, weighted, fit_intercept):
    """Ridge(alpha * sum(s), sample_weight=s) minimises our r=0 objective."""
    X, y, sw = _data(shape)
    sw = sw if weighted else None
    alpha = 0.3
    c_ref, b_ref = reference_solve(X, y, alpha, 0.0, fit_intercept, sw)
    c_ex, b_ex = exact_ridge(X, y, alpha, fit_intercept, sw)
    o_ref = regression_objective(X, y, c_ref, b_ref, alpha, 0.0, sw)
    o_ex = regression_objective(X, y, c_ex, b_ex, alpha, 0.0, sw)
    assert abs(o_ref - o_ex) <= 1e-12 * o_ex
    assert_allclose(c_ref, c_ex, rtol=1e-8, atol=1e-10)
    gw, gb = objective_gradient(X, y, c_ref, b_ref, alpha, 0.0, sw)
    assert np.max(np.abs(gw)) <= 1e-9
    if fit_intercept:
        assert abs(gb) <= 1e-9
    # and a perturbation increases the objective (it is a minimum)
    rng = np.random.RandomState(0)
    o_pert = regression_objective(
        X, y, c_ref + 1e-3 * rng.randn(c_ref.size), b_ref, alpha, 0.0, sw
    )
    assert o_pert > o_ref


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_reference_l1_satisfies_kkt(penalty, shape):
    X, y, sw, alpha, coef, b, _ = reference_case(penalty, shape, "float64", True, True)
    r = R_OF[penalty]
    assert np.any(coef != 0) and np.any(coef == 0), "non-trivial solution expected"
    assert_kkt(X, y, coef, b, alpha, r, sw, fit_intercept=True, atol=1e-8 * alpha * r)


# --------------------------------------------------------------------------
# main objective comparison
# --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_objective_matches_reference(penalty, fmt, dtype_name, weighted, fit_intercept, shape):
    X, y, sw, alpha, ref_coef, ref_b, ref_obj = reference_case(
        penalty, shape, dtype_name, weighted, fit_intercept
    )
    r = R_OF[penalty]
    est = make_est(penalty, alpha, fit_intercept=fit_intercept)
    Xf = to_format(X, fmt)
    if dtype_name == "float64":
        est.fit(Xf, y, sample_weight=sw)
    else:
        # a 1e-10 relative duality gap is below float32 resolution: the
        # solver may legitimately stop on max_iter.
        fit_quiet(est, Xf, y, sample_weight=sw)

    assert est.coef_.shape == (X.shape[1],)
    assert est.coef_.dtype == DTYPES[dtype_name]
    assert np.all(np.isfinite(est.coef_))
    assert np.isfinite(est.intercept_)
    if not fit_intercept:
        assert est.intercept_ == 0.0
    obj = sk_objective(est, X, y, alpha, r, sw)
    assert_objective_close(obj, ref_obj, RTOL_OBJ[dtype_name], what=est.solver_)
    if r > 0:
        # non-trivial solution: some coefficients active
        assert np.any(est.coef_ != 0)


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_explicit_solvers_reach_reference(penalty, solver, fmt, shape):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only (sparse input is a ValueError, tested elsewhere)")
    X, y, sw, alpha, _, _, ref_obj = reference_case(penalty, shape, "float64", True, True)
    r = R_OF[penalty]
    est = make_est(penalty, alpha, solver=solver).fit(to_format(X, fmt), y, sample_weight=sw)
    assert est.solver_ == solver
    obj = sk_objective(est, X, y, alpha, r, sw)
    assert_objective_close(obj, ref_obj, 1e-6, what=f"{penalty}/{solver}/{fmt}")


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["auto", "cd", "cd_gram", "cg", "cholesky"])
def test_elasticnet_l1_ratio_zero_is_ridge(solver, fmt):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only")
    X, y, sw, alpha, _, _, ref_obj = reference_case("l2", "tall", "float64", True, True)
    est = make_est("elasticnet", alpha, l1_ratio=0.0, solver=solver)
    est.fit(to_format(X, fmt), y, sample_weight=sw)
    obj = sk_objective(est, X, y, alpha, 0.0, sw)
    assert_objective_close(obj, ref_obj, 1e-6, what=f"elasticnet(l1_ratio=0)/{solver}")


@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_float64_tight_tol_converges_without_warning(penalty, solver):
    """A small well-posed float64 problem converges at tol=1e-10 silently."""
    X, y, sw, alpha, _, _, _ = reference_case(penalty, "tall", "float64", True, True)
    est = make_est(penalty, alpha, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    assert isinstance(est.n_iter_, (int, np.integer))
    assert 0 <= est.n_iter_ <= FIT_MAX_ITER


@pytest.mark.parametrize(
    "penalty, solver",
    SOLVER_CASES + [("l1", "auto"), ("l2", "auto")],
    ids=[f"{p}-{s}" for p, s in SOLVER_CASES + [("l1", "auto"), ("l2", "auto")]],
)
def test_alpha_zero_is_least_squares(penalty, solver):
    """alpha=0 is allowed (alpha >= 0): the solution is ordinary least squares."""
    X, y, _ = _data("tall")
    est = make_est(penalty, 0.0, solver=solver, max_iter=20_000)
    fit_quiet(est, X, y)  # CD duality gaps may be degenerate at alpha=0
    ols = LinearRegression().fit(X, y)
    assert np.all(np.isfinite(est.coef_))
    obj = regression_objective(X, y, est.coef_, est.intercept_, 0.0, R_OF[penalty])
    ref = regression_objective(X, y, ols.coef_, ols.intercept_, 0.0, R_OF[penalty])
    assert_objective_close(obj, ref, 1e-6, what=f"alpha=0 {penalty}/{solver}")


# --------------------------------------------------------------------------
# solver choice
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "penalty, fmt, shape, positive, expected",
    [
        ("l1", "dense", "tall", False, "cd_gram"),
        ("l1", "csc", "tall", False, "cd_gram"),
        ("l1", "dense", "wide", False, "cd"),
        ("elasticnet", "dense", "tall", False, "cd_gram"),
        ("elasticnet", "csr", "wide", False, "cd"),
        ("l2", "dense", "tall", False, "cholesky"),
        ("l2", "dense", "wide", False, "cholesky"),
        ("l2", "csr", "tall", False, "cg"),
        ("l2", "csc", "wide", False, "cg"),
        # positive=True rules out cg / cholesky; the CD variant follows the shape rule.
        ("l1", "dense", "tall", True, "cd_gram"),
        ("l2", "dense", "tall", True, "cd_gram"),
        ("l1", "dense", "wide", True, "cd"),
        ("elasticnet", "csr", "wide", True, "cd"),
    ],
)
def test_auto_solver_choice(penalty, fmt, shape, positive, expected):
    X, y, _ = _data(shape)
    est = RegularizedRegressor(penalty=penalty, alpha=0.1, positive=positive)
    fit_quiet(est, to_format(X, fmt), y)
    assert est.solver_ == expected
    assert est.solver == "auto"  # the parameter itself is not modified


# --------------------------------------------------------------------------
# KKT conditions
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("solver", ["cd", "cd_gram"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_kkt_conditions(penalty, solver, fmt, shape, fit_intercept):
    X, y, sw, alpha, _, _, _ = reference_case(penalty, shape, "float64", True, fit_intercept)
    r = R_OF[penalty]
    est = make_est(penalty, alpha, solver=solver, tol=1e-12, fit_intercept=fit_intercept)
    fit_quiet(est, to_format(X, fmt), y, sample_weight=sw)
    assert np.any(est.coef_ != 0) and np.any(est.coef_ == 0), "expected a sparse, non-zero solution"
    y_scale = centred_target_scale(y, fit_intercept, sw)
    atol = 1e-6 * alpha * r
    if shape == "wide" and r < 1:
        # Wide elastic net is badly conditioned: the only strong convexity is
        # mu = alpha*(1-r) while the smooth part's curvature reaches ~80, so a
        # certified duality gap G only bounds ||w - w*|| <= sqrt(2 G / mu) and
        # each gradient entry to within ||H_j|| * sqrt(2 G / mu) (H_j: j-th
        # row of the Hessian).  G is capped at tol * scale, the stopping rule.
        # (A reported gap can dip below zero by rounding: a true gap is >= 0.)
        gap = max(min(float(est.dual_gap_), 1e-12 * y_scale), 0.0)
        atol += _max_hessian_row_norm(X, sw, fit_intercept, alpha * (1 - r)) * np.sqrt(
            2 * gap / (alpha * (1 - r))
        )
    assert_kkt(
        X, y, est.coef_, est.intercept_, alpha, r, sw,
        fit_intercept=fit_intercept,
        atol=atol,
        intercept_atol=1e-8 * np.sqrt(y_scale),
    )


def _max_hessian_row_norm(X, sw, fit_intercept, l2):
    """max_j ||H[j, :]||_2 for H = Xc^T S Xc / n + l2 * I (dense, float64)."""
    X = as_float64_dense(X)
    n = X.shape[0]
    s = rescaled_weights(sw, n)
    Xc = X - X.T @ s / n if fit_intercept else X
    H = (Xc * s[:, None]).T @ Xc / n + l2 * np.eye(X.shape[1])
    return float(np.max(np.linalg.norm(H, axis=1)))


# --------------------------------------------------------------------------
# alpha >= alpha_max
# --------------------------------------------------------------------------
@pytest.mark.parametrize("factor", [1.0 + 1e-7, 2.0], ids=["at_alpha_max", "twice_alpha_max"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_alpha_max_gives_zero_solution(penalty, fmt, weighted, fit_intercept, factor):
    X, y, sw = _data("tall")
    sw = sw if weighted else None
    r = R_OF[penalty]
    amax = alpha_max(X, y, r, fit_intercept, sw)
    est = RegularizedRegressor(
        penalty=penalty, alpha=amax * factor, l1_ratio=0.5, fit_intercept=fit_intercept
    )
    est.fit(to_format(X, fmt), y, sample_weight=sw)
    assert_array_equal(est.coef_, np.zeros(X.shape[1]))
    if fit_intercept:
        ymean = weighted_mean(y, rescaled_weights(sw, len(y)))
        assert_allclose(est.intercept_, ymean, rtol=1e-10)
    else:
        assert est.intercept_ == 0.0
    # just below alpha_max the solution is not all-zero
    est.set_params(alpha=amax * 0.9).fit(to_format(X, fmt), y, sample_weight=sw)
    assert np.any(est.coef_ != 0)


# --------------------------------------------------------------------------
# positive=True
# --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_positive(penalty, fmt, shape):
    X, y, sw, alpha, ref_coef, ref_b, ref_obj = reference_case(
        penalty, shape, "float64", True, True, positive=True
    )
    r = R_OF[penalty]
    est = make_est(penalty, alpha, positive=True)
    est.fit(to_format(X, fmt), y, sample_weight=sw)
    assert np.all(est.coef_ >= 0)
    assert np.all(ref_coef >= 0)
    # the constraint is active in this problem: unconstrained has negatives
    free = make_est(penalty, alpha).fit(X, y, sample_weight=sw)
    assert np.any(free.coef_ < 0)
    obj = sk_objective(est, X, y, alpha, r, sw)
    assert_objective_close(obj, ref_obj, 1e-6, what=f"positive {penalty}")
    if r > 0:
        assert_kkt(
            X, y, est.coef_, est.intercept_, alpha, r, sw, positive=True,
            atol=1e-4 * alpha * r,
            intercept_atol=1e-8 * np.sqrt(centred_target_scale(y, True, sw)),
        )


# --------------------------------------------------------------------------
# multi-target y
# --------------------------------------------------------------------------
def _multi_y(y, n_targets=3, seed=1):
    rng = np.random.RandomState(seed)
    cols = [y]
    for k in range(1, n_targets):
        cols.append(0.5 * y[::-1] + rng.randn(y.size) + 3.0 * k)
    return np.column_stack(cols)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize(
    "penalty, solver",
    SOLVER_CASES + [("l1", "auto"), ("l2", "auto")],
    ids=[f"{p}-{s}" for p, s in SOLVER_CASES + [("l1", "auto"), ("l2", "auto")]],
)
def test_multi_target_equals_separate_fits(penalty, solver, fmt):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only")
    X, y, sw, alpha, _, _, _ = reference_case(penalty, "tall", "float64", True, True)
    Y = _multi_y(np.asarray(y))
    Xf = to_format(X, fmt)
    r = R_OF[penalty]
    multi = make_est(penalty, alpha, solver=solver).fit(Xf, Y, sample_weight=sw)
    n_targets = Y.shape[1]
    assert multi.coef_.shape == (n_targets, X.shape[1])
    assert np.shape(multi.intercept_) == (n_targets,)
    assert isinstance(multi.n_iter_, (int, np.integer))
    singles = [
        make_est(penalty, alpha, solver=solver).fit(Xf, Y[:, k], sample_weight=sw)
        for k in range(n_targets)
    ]
    for k, single in enumerate(singles):
        o_multi = sk_objective(multi, X, Y[:, k], alpha, r, sw, target=k)
        o_single = sk_objective(single, X, Y[:, k], alpha, r, sw)
        assert_objective_close(o_multi, o_single, 1e-8, what=f"target {k}")
        assert_allclose(multi.coef_[k], single.coef_, rtol=1e-6, atol=1e-9)
        assert_allclose(multi.intercept_[k], single.intercept_, rtol=1e-6, atol=1e-9)
    if multi.solver_ in ("cd", "cd_gram"):
        assert multi.n_iter_ == max(s.n_iter_ for s in singles)
        gaps = np.asarray(multi.dual_gap_)
        assert gaps.shape == (n_targets,)
        # Each target's gap certifies its own tolerance.  (Not equal to the
        # single fits' gaps: centring Y as a matrix rounds differently, and
        # Anderson steps accepted or refused at rounding level then stop the
        # runs at different points below the tolerance.)
        for k in range(n_targets):
            scale = centred_target_scale(Y[:, k], True, sw)
            assert -1e-12 * scale <= gaps[k] <= multi.tol * scale
    # predictions are (n_samples, n_targets)
    pred = multi.predict(Xf)
    assert pred.shape == Y.shape
    assert_allclose(pred, X @ multi.coef_.T + multi.intercept_, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_y_column_vector_gives_2d_coef(penalty):
    X, y, _ = _data("tall")
    est = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(X, np.asarray(y).reshape(-1, 1))
    assert est.coef_.shape == (1, X.shape[1])
    assert np.shape(est.intercept_) == (1,)
    ref = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(X, y)
    assert_allclose(est.coef_[0], ref.coef_, rtol=1e-10, atol=1e-12)
    assert est.predict(X).shape in [(X.shape[0], 1), (X.shape[0],)]


# --------------------------------------------------------------------------
# duality gap
# --------------------------------------------------------------------------
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["cd", "cd_gram"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_dual_gap(penalty, solver, fmt, tol):
    X, y, sw, alpha, _, _, ref_obj = reference_case(penalty, "wide", "float64", True, True)
    r = R_OF[penalty]
    est = make_est(penalty, alpha, solver=solver, tol=tol).fit(
        to_format(X, fmt), y, sample_weight=sw
    )
    gap = est.dual_gap_
    assert np.ndim(gap) == 0
    gap = float(gap)
    scale = centred_target_scale(y, True, sw)
    assert gap <= tol * scale, f"dual_gap_={gap:.3g} > tol*scale={tol * scale:.3g}"
    assert gap >= -1e-12 * scale
    # weak duality: the reported gap bounds the sub-optimality of the primal
    subopt = sk_objective(est, X, y, alpha, r, sw) - ref_obj
    assert subopt <= gap + 1e-12 * scale, f"suboptimality {subopt:.3g} > dual_gap_ {gap:.3g}"
    assert est.n_iter_ >= 1


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_no_dual_gap_for_non_cd_solvers(solver):
    X, y, _ = _data("tall")
    est = RegularizedRegressor(penalty="l2", alpha=0.1, solver=solver).fit(X, y)
    assert getattr(est, "dual_gap_", None) is None


# --------------------------------------------------------------------------
# warm start and determinism
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_warm_start(penalty, solver, fmt):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only")
    X, y, sw, alpha, _, _, _ = reference_case(penalty, "wide", "float64", True, True)
    r = R_OF[penalty]
    Xf = to_format(X, fmt)
    est = make_est(penalty, alpha, solver=solver, tol=1e-12, warm_start=True)
    est.fit(Xf, y, sample_weight=sw)
    coef1, b1, it1 = est.coef_.copy(), est.intercept_, est.n_iter_
    est.fit(Xf, y, sample_weight=sw)
    assert est.n_iter_ <= it1
    o1 = regression_objective(X, y, coef1, b1, alpha, r, sw)
    o2 = sk_objective(est, X, y, alpha, r, sw)
    assert_objective_close(o2, o1, 1e-9, what="warm refit")
    # (wide elastic-net / ridge CD at tol=1e-12 certifies coefficients only to
    # ~3e-6 absolute: see test_kkt_conditions)
    assert_allclose(est.coef_, coef1, rtol=1e-4, atol=1e-5 * np.abs(coef1).max())

    # warm start from another alpha reaches the cold-start answer
    alpha2 = 0.5 * alpha
    est.set_params(alpha=alpha2, tol=FIT_TOL).fit(Xf, y, sample_weight=sw)
    cold = make_est(penalty, alpha2, solver=solver).fit(Xf, y, sample_weight=sw)
    assert_objective_close(
        sk_objective(est, X, y, alpha2, r, sw),
        sk_objective(cold, X, y, alpha2, r, sw),
        1e-6,
        what="warm vs cold",
    )


@pytest.mark.parametrize("penalty", PENALTIES)
def test_warm_start_false_ignores_previous_solution(penalty):
    X, y, sw = _data("tall")
    est = RegularizedRegressor(penalty=penalty, alpha=0.05, tol=1e-8)
    first = est.fit(X, y).coef_.copy()
    est.fit(X, -3 * y)  # something very different
    est.fit(X, y)
    assert_array_equal(est.coef_, first)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_deterministic(penalty, solver, fmt):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only")
    X, y, sw = _data("wide")
    Xf = to_format(X, fmt)
    a = RegularizedRegressor(penalty=penalty, alpha=0.3, solver=solver).fit(Xf, y, sample_weight=sw)
    b = RegularizedRegressor(penalty=penalty, alpha=0.3, solver=solver).fit(Xf, y, sample_weight=sw)
    assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_


# --------------------------------------------------------------------------
# memory layouts
# --------------------------------------------------------------------------
def _readonly(a):
    a = np.array(a, copy=True, order="K")
    a.setflags(write=False)
    return a


def _layout_variants(X, y, sw, tmp_path):
    np.save(tmp_path / "X.npy", np.ascontiguousarray(X))
    np.save(tmp_path / "Xf.npy", np.asfortranarray(X))
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "sw.npy", sw)
    X_mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    Xf_mm = np.load(tmp_path / "Xf.npy", mmap_mode="r")
    y_mm = np.load(tmp_path / "y.npy", mmap_mode="r")
    sw_mm = np.load(tmp_path / "sw.npy", mmap_mode="r")
    assert isinstance(X_mm, np.memmap) and not X_mm.flags.writeable
    assert Xf_mm.flags.f_contiguous and not Xf_mm.flags.c_contiguous
    return {
        "C": (np.ascontiguousarray(X), y, sw),
        "F": (np.asfortranarray(X), y, sw),
        "C-readonly": (_readonly(np.ascontiguousarray(X)), _readonly(y), _readonly(sw)),
        "F-readonly": (_readonly(np.asfortranarray(X)), _readonly(y), _readonly(sw)),
        "memmap-C": (X_mm, y_mm, sw_mm),
        "memmap-F": (Xf_mm, y_mm, sw_mm),
        "C-noncontiguous": (np.repeat(X, 2, axis=1)[:, ::2], y, sw),  # strided view equal to X
    }


def _fit_layouts(penalty, solver, dtype_name, tmp_path):
    X, y, sw = _data("tall")
    dtype = DTYPES[dtype_name]
    X = np.ascontiguousarray(X, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    sw = np.asarray(sw, dtype=np.float64)
    results = {}
    for name, (Xv, yv, swv) in _layout_variants(X, y, sw, tmp_path).items():
        est = RegularizedRegressor(penalty=penalty, alpha=0.05, solver=solver, tol=1e-8)
        fit_quiet(est, Xv, yv, sample_weight=swv)
        results[name] = (est.coef_.copy(), est.intercept_)
    return X, results


def _assert_same(results, name, base, rtol=0.0):
    """Same coef_ / intercept_: bit-identical by default, or within rtol.

    Different memory layouts take different BLAS summation orders, so C vs F
    agree to rounding (rtol ~1e-12), while the same layout behind a
    read-only or memory-mapped buffer must be bit-identical.
    """
    coef, b = results[name]
    base_coef, base_b = results[base]
    atol = rtol * float(np.max(np.abs(base_coef), initial=0.0))
    assert_allclose(coef, base_coef, rtol=rtol, atol=atol, err_msg=f"layout {name} differs from {base}")
    assert_allclose(b, base_b, rtol=rtol, atol=atol, err_msg=f"layout {name}: intercept differs")


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_readonly_and_memmap_inputs_give_identical_coef(penalty, solver, dtype_name, tmp_path):
    """Read-only and memmap-backed inputs: bit-identical to the writable array."""
    X, results = _fit_layouts(penalty, solver, dtype_name, tmp_path)
    for name in ("C-readonly", "memmap-C"):
        _assert_same(results, name, "C")
    for name in ("F-readonly", "memmap-F"):
        _assert_same(results, name, "F")
    np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), X)  # not modified


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_c_and_f_order_give_the_same_coef(penalty, solver, dtype_name, tmp_path):
    """C-ordered, F-ordered and non-contiguous X: the same coef_ up to rounding."""
    _, results = _fit_layouts(penalty, solver, dtype_name, tmp_path)
    rtol = 1e-12 if dtype_name == "float64" else 1e-5
    _assert_same(results, "F", "C", rtol)
    _assert_same(results, "C-noncontiguous", "C", rtol)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "penalty, solver",
    [c for c in SOLVER_CASES if c[1] != "cholesky"],
    ids=[f"{p}-{s}" for p, s in SOLVER_CASES if s != "cholesky"],
)
def test_readonly_sparse_input(penalty, solver, fmt):
    X, y, sw = _data("tall")
    Xs = to_format(X, fmt)
    ref = RegularizedRegressor(penalty=penalty, alpha=0.05, solver=solver).fit(Xs, y, sample_weight=sw)
    Xro = Xs.copy()
    for arr in (Xro.data, Xro.indices, Xro.indptr):
        arr.setflags(write=False)
    data_before = Xro.data.copy()
    est = RegularizedRegressor(penalty=penalty, alpha=0.05, solver=solver)
    est.fit(Xro, _readonly(y), sample_weight=_readonly(sw))
    assert_array_equal(est.coef_, ref.coef_)
    assert_array_equal(Xro.data, data_before)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_input_not_modified(penalty, fmt):
    X, y, sw = _data("tall")
    Xf = to_format(np.array(X), fmt)
    yv, swv = np.array(y), np.array(sw)
    X_before = as_float64_dense(Xf).copy()
    RegularizedRegressor(penalty=penalty, alpha=0.05).fit(Xf, yv, sample_weight=swv)
    assert_array_equal(as_float64_dense(Xf), X_before)
    assert_array_equal(yv, y)
    assert_array_equal(swv, sw)


# --------------------------------------------------------------------------
# sparse == dense, weights
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_sparse_equals_dense(penalty, fmt, weighted, fit_intercept):
    X, y, sw = _data("tall")
    sw = sw if weighted else None
    r = R_OF[penalty]
    alpha = choose_alpha(X, y, penalty, "tall", fit_intercept, sw)
    for solver in ["cd", "cd_gram"] + (["cg"] if penalty == "l2" else []):
        kw = dict(solver=solver, tol=1e-12, fit_intercept=fit_intercept)
        dense = fit_quiet(make_est(penalty, alpha, **kw), X, y, sw)
        sparse = fit_quiet(make_est(penalty, alpha, **kw), to_format(X, fmt), y, sw)
        assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-9, err_msg=solver)
        assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-6, atol=1e-9)
        o_d = sk_objective(dense, X, y, alpha, r, sw)
        o_s = sk_objective(sparse, X, y, alpha, r, sw)
        assert_objective_close(o_s, o_d, 1e-9, what=f"sparse vs dense {solver}")


def _weights_cases():
    return ["dense", "csr"]


@pytest.mark.parametrize("fmt", _weights_cases())
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_integer_weights_equal_repeated_rows(penalty, solver, fmt):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only")
    X, y, _ = _data("tall")
    rng = np.random.RandomState(3)
    counts = rng.randint(1, 4, size=X.shape[0])
    X_rep = np.repeat(X, counts, axis=0)
    y_rep = np.repeat(y, counts)
    r = R_OF[penalty]
    alpha = choose_alpha(X, y, penalty, "tall", True, counts)
    kw = dict(solver=solver, tol=1e-12)
    weighted = fit_quiet(make_est(penalty, alpha, **kw), to_format(X, fmt), y, counts)
    repeated = fit_quiet(make_est(penalty, alpha, **kw), to_format(X_rep, fmt), y_rep)
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-6, atol=1e-9)
    o_w = sk_objective(weighted, X_rep, y_rep, alpha, r, None)
    o_r = sk_objective(repeated, X_rep, y_rep, alpha, r, None)
    assert_objective_close(o_w, o_r, 1e-9, what="weights vs repeats")


@pytest.mark.parametrize("fmt", _weights_cases())
@pytest.mark.parametrize(
    "penalty, solver", SOLVER_CASES, ids=[f"{p}-{s}" for p, s in SOLVER_CASES]
)
def test_zero_weights_equal_dropped_rows(penalty, solver, fmt):
    if solver == "cholesky" and fmt != "dense":
        pytest.skip("cholesky is dense-only")
    X, y, sw = _data("tall")
    sw = np.array(sw)
    rng = np.random.RandomState(4)
    drop = rng.rand(X.shape[0]) < 0.3
    sw[drop] = 0.0
    # make the dropped rows outrageous: they must have no influence at all
    X_bad = np.array(X)
    y_bad = np.array(y)
    X_bad[drop] *= 1e3
    y_bad[drop] = -1e4
    keep = ~drop
    r = R_OF[penalty]
    alpha = choose_alpha(X[keep], y[keep], penalty, "tall", True, sw[keep])
    kw = dict(solver=solver, tol=1e-12)
    zeroed = fit_quiet(make_est(penalty, alpha, **kw), to_format(X_bad, fmt), y_bad, sw)
    dropped = fit_quiet(make_est(penalty, alpha, **kw), to_format(X[keep], fmt), y[keep], sw[keep])
    assert_allclose(zeroed.coef_, dropped.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(zeroed.intercept_, dropped.intercept_, rtol=1e-6, atol=1e-9)
    o_z = sk_objective(zeroed, X[keep], y[keep], alpha, r, sw[keep])
    o_d = sk_objective(dropped, X[keep], y[keep], alpha, r, sw[keep])
    assert_objective_close(o_z, o_d, 1e-9, what="zero weights vs dropped rows")


@pytest.mark.parametrize("penalty", PENALTIES)
def test_weights_are_scale_invariant(penalty):
    """Only the relative weights matter (they are rescaled to sum to n)."""
    X, y, sw = _data("tall")
    a = RegularizedRegressor(penalty=penalty, alpha=0.05, tol=1e-12).fit(X, y, sample_weight=sw)
    b = RegularizedRegressor(penalty=penalty, alpha=0.05, tol=1e-12).fit(X, y, sample_weight=1e3 * sw)
    assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    c = RegularizedRegressor(penalty=penalty, alpha=0.05, tol=1e-12).fit(
        X, y, sample_weight=np.full(len(y), 7.0)
    )
    d = RegularizedRegressor(penalty=penalty, alpha=0.05, tol=1e-12).fit(X, y)
    assert_allclose(c.coef_, d.coef_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_integer_input_converted_to_float64(penalty, fmt):
    X, y, _ = _data("tall")
    Xi = np.round(X * 10).astype(np.int64)
    yi = np.round(y * 10).astype(np.int64)
    a = RegularizedRegressor(penalty=penalty, alpha=0.5).fit(to_format(Xi, fmt), yi)
    b = RegularizedRegressor(penalty=penalty, alpha=0.5).fit(to_format(Xi.astype(np.float64), fmt), yi.astype(np.float64))
    assert a.coef_.dtype == np.float64
    assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)


def test_kkt_checker_detects_wrong_solution():
    """The KKT helper must reject a perturbed solution (the check can fail)."""
    X, y, sw, alpha, coef, b, _ = reference_case("l1", "tall", "float64", True, True)
    viol, _ = kkt_violations(X, y, coef, b, alpha, 1.0, sw)
    assert viol.max() <= 1e-8 * alpha
    bad = np.array(coef)
    bad[np.argmax(np.abs(bad))] *= 1.01
    with pytest.raises(AssertionError):
        assert_kkt(X, y, bad, b, alpha, 1.0, sw, atol=1e-6 * alpha)
    with pytest.raises(AssertionError):
        assert_kkt(X, y, coef, b + 0.1, alpha, 1.0, sw, atol=1e-6 * alpha)


# --------------------------------------------------------------------------
# "auto" for dense L2: CG within the cost of a direct solve, else Cholesky
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "alpha, collinear, expected",
    [(20.0, False, "cg"), (1e-9, True, "cholesky")],
    ids=["well-conditioned", "ill-conditioned"],
)
def test_auto_l2_tries_cg_then_falls_back_to_cholesky(alpha, collinear, expected):
    rng = np.random.RandomState(0)
    n, p = 1000, 400                       # CG budget: min(n, p) // 32 = 12 iterations
    X = rng.randn(n, p) + 2.0
    if collinear:
        X[:, 1:] = X[:, :1] + 1e-4 * X[:, 1:]   # condition number ~ 1e8 or worse
    y = X[:, :5] @ rng.randn(5) + rng.randn(n)
    auto = RegularizedRegressor(penalty="l2", alpha=alpha, tol=1e-8).fit(X, y)
    direct = RegularizedRegressor(penalty="l2", alpha=alpha, solver="cholesky").fit(X, y)
    assert auto.solver_ == expected
    o_auto = regression_objective(X, y, auto.coef_, auto.intercept_, alpha, 0.0)
    o_direct = regression_objective(X, y, direct.coef_, direct.intercept_, alpha, 0.0)
    assert o_auto <= o_direct * (1 + 1e-8)


# --------------------------------------------------------------------------
# strongly correlated features: the kernel's Newton step on the support
# --------------------------------------------------------------------------
def _equicorrelated(n, p, rho, seed):
    """glmnet's benchmark design: equal pairwise correlation rho, alternating
    decaying coefficients, signal-to-noise 3."""
    rng = np.random.default_rng(seed)
    X = np.sqrt(1 - rho) * rng.standard_normal((n, p)) + np.sqrt(rho) * rng.standard_normal((n, 1))
    signal = X @ ((-1.0) ** np.arange(p) * np.exp(-2 * np.arange(p) / 20))
    return X, signal + signal.std() / 3 * rng.standard_normal(n)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize(
    "solver, fmt, shape",
    [("cd", "dense", (60, 400)), ("cd", "csc", (60, 400)), ("cd_gram", "dense", (400, 60))],
    ids=["dense-wide", "sparse-wide", "gram-tall"],
)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
def test_correlated_design_small_alpha(penalty, solver, fmt, shape, weighted, positive):
    """rho = 0.9 at alpha_max / 100: coordinate descent alone needs tens of
    thousands of sweeps here; with the support Newton step a few hundred reach
    the reference objective, which the duality gap also certifies."""
    X, y = _equicorrelated(*shape, rho=0.9, seed=3)
    sw = np.random.default_rng(4).uniform(0.2, 2.0, shape[0]) if weighted else None
    r = R_OF[penalty]
    alpha = alpha_max(X, y, r, True, sw) / 100
    ref = reference_solve(X, y, alpha, r, True, sw, positive=positive)
    ref_obj = regression_objective(X, y, ref[0], ref[1], alpha, r, sw)
    est = make_est(penalty, alpha, solver=solver, tol=1e-10, positive=positive)
    est.fit(to_format(X, fmt), y, sample_weight=sw)
    obj = regression_objective(X, y, est.coef_, est.intercept_, alpha, r, sw)
    assert_objective_close(obj, ref_obj, 1e-8, f"{penalty} {solver} {fmt}")
    assert est.n_iter_ < 3000, est.n_iter_


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("fmt, order", [("dense", "F"), ("dense", "C"), ("csc", None)],
                         ids=["fortran", "c-order", "csc"])
@pytest.mark.parametrize("rho", [0.0, 0.9])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_supports_larger_than_the_sample(penalty, fmt, order, rho, weighted, dtype_name):
    """Far below alpha_max on wide X, coordinate descent's iterates carry
    more non-zeros than samples, which the support Newton step sheds several
    at a time (a lasso support beyond the rank makes its matrix singular):
    the result still reaches the reference objective and the KKT conditions."""
    X, y = _equicorrelated(30, 250, rho=rho, seed=5)
    sw = np.random.default_rng(6).uniform(0.2, 2.0, 30) if weighted else None
    r = R_OF[penalty]
    alpha = alpha_max(X, y, r, True, sw) / 300
    Xd = X.astype(DTYPES[dtype_name])
    Xf = to_format(np.asarray(Xd, order=order) if order else Xd, fmt)
    ref = reference_solve(Xd, y, alpha, r, True, sw)
    ref_obj = regression_objective(Xd, y, ref[0], ref[1], alpha, r, sw)
    est = make_est(penalty, alpha, solver="cd", tol=1e-10 if dtype_name == "float64" else 1e-6)
    fit_quiet(est, Xf, y, sample_weight=sw)
    obj = regression_objective(Xd, y, est.coef_, est.intercept_, alpha, r, sw)
    assert_objective_close(obj, ref_obj, 1e-8 if dtype_name == "float64" else 1e-5,
                           f"{penalty} {fmt} {order} rho={rho}")
    if penalty == "l1":
        assert 0 < np.count_nonzero(est.coef_) <= 30
    if dtype_name == "float64":
        assert_kkt(Xd, y, est.coef_, est.intercept_, alpha, r, sw, atol=1e-6 * np.abs(y).max())
