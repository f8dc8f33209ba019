"""Numerical correctness of sklreg.RegularizedClassifier.

Every solution is judged through the same float64 objective
(``_classifier_reference.classification_objective``) against a scikit-learn
LogisticRegression reference solved at tight tolerance on the same (possibly
float32-cast) data.  Multinomial intercepts are only determined up to a common
shift, so solutions are compared through objectives and probabilities.
"""

import functools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.utils.class_weight import compute_class_weight

from _reference import assert_objective_close, fit_quiet, to_format
from _classifier_reference import (
    alpha_max,
    as_float64_dense,
    assert_kkt,
    balanced_class_weight,
    classification_objective,
    data_gradient,
    data_term,
    kkt_violations,
    make_classification_data,
    probabilities,
    raw_weights,
    reference_fit,
    rescaled_weights,
    scipy_fit,
    sklearn_C,
    weighted_class_frequencies,
)
from sklreg import RegularizedClassifier

# effective l1 ratio r of each penalty (elasticnet is tested with l1_ratio=0.5)
R_OF = {"l1": 1.0, "l2": 0.0, "elasticnet": 0.5}
PENALTIES = ["l1", "l2", "elasticnet"]
TASKS = {"binary": 2, "multiclass": 3}
N_SAMPLES, N_FEATURES = 90, 10
# (n_samples, n_features) of the reference matrix's data.  "wide" has more
# features than twice the L1 support, so newton-cd works on working sets.
SHAPES = {"tall": (N_SAMPLES, N_FEATURES), "wide": (40, 120)}
# alpha = ALPHA_FRACTION * (L1 alpha_max): L1 / elastic-net solutions keep
# some coefficients at zero and others not (checked in the reference tests).
ALPHA_FRACTION = 0.15
FORMATS = ["dense", "csr", "csc"]
DTYPES = {"float64": np.float64, "float32": np.float32}
WEIGHTINGS = ["none", "sample_weight", "balanced"]
RTOL_OBJ = {"float64": 1e-6, "float32": 1e-4}
# predicted probabilities vs the reference (see test_objective_matches_reference)
ATOL_PROBA = {"float64": 1e-5, "float32": 1e-3}

# tol is relative to the optimality violation at W = 0.  Fits compared with
# the reference (cold starts) use 1e-10; fits compared with each other use
# PAIR_TOL: near 1e-10 an objective-based line search (newton-cd's Armijo
# rule, lbfgs's ftol) can no longer certify progress in float64 (the
# objective decrease ~ violation^2 / curvature is below eps * objective), so
# whether 1e-10 is reached depends on where the last Newton step lands.
# 1e-10 is below float32 resolution altogether; 1e-5 is about its floor.
FIT_TOL = 1e-10
PAIR_TOL = 1e-8
FIT_TOL_OF = {"float64": FIT_TOL, "float32": 1e-5}
FIT_MAX_ITER = 1000

# valid (penalty, solver) pairs
SOLVER_CASES = [
    ("l2", "lbfgs"),
    ("l2", "newton-cd"),
    ("l1", "newton-cd"),
    ("elasticnet", "newton-cd"),
]
SOLVER_IDS = [f"{p}-{s}" for p, s in SOLVER_CASES]
def auto_solver(penalty, task):
    """The documented "auto" rule: L-BFGS for multinomial L2, else proximal Newton."""
    return "lbfgs" if penalty == "l2" and task != "binary" else "newton-cd"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _data(task, seed=0, shape="tall"):
    X, y, sw = make_classification_data(*SHAPES[shape], TASKS[task], seed=seed)
    for a in (X, y, sw):
        a.setflags(write=False)  # cached: guard against accidental mutation
    return X, y, sw


def _weights(weighting, sw):
    """(sample_weight, class_weight) of a weighting case."""
    if weighting == "none":
        return None, None
    if weighting == "sample_weight":
        return sw, None
    if weighting == "balanced":
        return None, "balanced"
    raise ValueError(weighting)


def choose_alpha(X, y, sw=None, cw=None, fit_intercept=True):
    """A fraction of the L1 alpha_max (the same alpha for every penalty)."""
    return ALPHA_FRACTION * alpha_max(X, y, 1.0, None, sw, cw, fit_intercept)


@functools.lru_cache(maxsize=None)
def reference_case(penalty, task, dtype_name, weighting, fit_intercept=True, shape="tall"):
    """Data of ``shape`` cast to ``dtype`` plus the reference solution on it.

    Returns (X_cast, y, sw, cw, alpha, ref_coef, ref_intercept, ref_obj) where
    X_cast is what sklreg is given (dtype ``dtype_name``).
    """
    X, y, sw_all = _data(task, shape=shape)
    Xc = X.astype(DTYPES[dtype_name])
    sw, cw = _weights(weighting, sw_all)
    r = R_OF[penalty]
    alpha = choose_alpha(Xc, y, sw, cw, fit_intercept)
    coef, b = reference_fit(Xc, y, alpha, r, None, sw, cw, fit_intercept)
    obj = classification_objective(Xc, y, coef, b, None, alpha, r, sw, cw)
    for a in (Xc, coef, b):
        a.setflags(write=False)
    return Xc, y, sw, cw, alpha, coef, b, obj


def est_objective(est, X, y, alpha, r, sw=None, cw=None):
    return classification_objective(
        X, y, est.coef_, est.intercept_, est.classes_, alpha, r, sw, cw
    )


def make_est(penalty, alpha, **kw):
    params = dict(
        penalty=penalty, alpha=alpha, l1_ratio=0.5, tol=FIT_TOL, max_iter=FIT_MAX_ITER
    )
    params.update(kw)
    return RegularizedClassifier(**params)


def same_proba_atol(*solvers):
    """Probability agreement expected of two fits of the same problem.

    At tol=PAIR_TOL the optimality violation is <= 1e-8 * ~0.2 = 2e-9, so the
    coefficients are within ~2e-9 / (alpha ~ 0.03) ~ 1e-7 of the optimum.
    lbfgs stops when the objective stops decreasing in float64 (ftol ~ 64
    eps), which leaves gradients of ~1e-9..1e-8 whatever tol says: the same
    order.  Hence 1e-6 on probabilities for both solvers.
    """
    return 1e-6


def assert_same_proba(a, b, X, what=""):
    assert_allclose(
        a.predict_proba(X), b.predict_proba(X), rtol=0,
        atol=same_proba_atol(a.solver_, b.solver_), err_msg=what,
    )


def n_rows(task):
    return 1 if TASKS[task] == 2 else TASKS[task]


# --------------------------------------------------------------------------
# sanity of the reference itself
# --------------------------------------------------------------------------
@pytest.mark.parametrize("weighting", WEIGHTINGS + ["both"])
@pytest.mark.parametrize("task", list(TASKS))
def test_reference_data_term_is_weighted_log_loss(task, weighting):
    """The objective's data term is scikit-learn's weighted mean log loss."""
    X, y, sw_all = _data(task)
    if weighting == "both":
        sw, cw = sw_all, {0: 2.0, 1: 0.5}
    else:
        sw, cw = _weights(weighting, sw_all)
    rng = np.random.RandomState(1)
    K = TASKS[task]
    coef = rng.randn(n_rows(task), X.shape[1])
    b = rng.randn(n_rows(task))
    s = rescaled_weights(y, None, sw, cw)
    assert_allclose(s.sum(), len(y), rtol=1e-12)
    P = probabilities(X, coef, b, K)
    expected = log_loss(y, P, sample_weight=s, labels=np.arange(K))
    assert_allclose(data_term(X, y, coef, b, None, sw, cw), expected, rtol=1e-12)
    # sparse X gives the same value
    assert_allclose(data_term(sp.csr_matrix(X), y, coef, b, None, sw, cw), expected, rtol=1e-12)
    # the gradient is the derivative of the data term (central differences)
    G, gb = data_gradient(X, y, coef, b, None, sw, cw)
    h = 1e-6
    for k, j in [(0, 0), (n_rows(task) - 1, X.shape[1] - 1)]:
        E = np.zeros_like(coef)
        E[k, j] = h
        fd = (data_term(X, y, coef + E, b, None, sw, cw) - data_term(X, y, coef - E, b, None, sw, cw)) / (2 * h)
        assert_allclose(G[k, j], fd, rtol=1e-6, atol=1e-9)
    e = np.zeros_like(b)
    e[-1] = h
    fd = (data_term(X, y, coef, b + e, None, sw, cw) - data_term(X, y, coef, b - e, None, sw, cw)) / (2 * h)
    assert_allclose(gb[-1], fd, rtol=1e-6, atol=1e-9)


def test_reference_binary_logloss_is_stable():
    """Huge margins: log(1 + exp(-t z)) without overflow / cancellation."""
    X = np.array([[1.0], [1.0], [-1.0]])
    y = np.array([0, 1, 1])
    coef = np.array([[800.0]])
    b = np.array([0.0])
    # losses: log1p(exp(800)) = 800 (+ tiny), log1p(exp(-800)) ~ 0, 800
    val = data_term(X, y, coef, b, None)
    assert np.isfinite(val)
    assert_allclose(val, 1600.0 / 3, rtol=1e-12)


@pytest.mark.parametrize("task", list(TASKS))
def test_reference_balanced_weights_match_sklearn(task):
    _, y, _ = _data(task)
    classes = np.unique(y)
    assert len(np.unique(np.bincount(y))) > 1, "classes should be imbalanced"
    assert_allclose(
        balanced_class_weight(y),
        compute_class_weight("balanced", classes=classes, y=y),
        rtol=1e-14,
    )
    # balanced raw weights already sum to n: C = 1/(n alpha)
    assert_allclose(raw_weights(y, None, None, "balanced").sum(), len(y), rtol=1e-12)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_reference_mapping_against_scipy(penalty, task, weighting):
    """C = 1/(alpha sum(s')): sklearn's solution minimises OUR objective.

    Checked against an independent scipy L-BFGS-B solution of the same
    objective (L1 part through W = P - M, P, M >= 0).
    """
    X, y, sw, cw, alpha, coef, b, ref_obj = reference_case(penalty, task, "float64", weighting)
    r = R_OF[penalty]
    W2, b2 = scipy_fit(X, y, alpha, r, None, sw, cw)
    obj2 = classification_objective(X, y, W2, b2, None, alpha, r, sw, cw)
    # sklearn's solution is at least as good as scipy's, to rounding
    assert ref_obj <= obj2 * (1 + 1e-10), (ref_obj, obj2)
    assert abs(ref_obj - obj2) <= 1e-9 * obj2
    K = TASKS[task]
    assert_allclose(probabilities(X, coef, b, K), probabilities(X, W2, b2, K), atol=1e-5)
    # C = 1 / (alpha * sum(s')) with the UNrescaled weights
    assert sklearn_C(alpha, y, None, sw, cw) == pytest.approx(
        1.0 / (alpha * raw_weights(y, None, sw, cw).sum()), rel=1e-15
    )
    # a wrong mapping (C off by 10 %) is detectably worse under our objective
    bad_coef, bad_b = reference_fit(X, y, 1.1 * alpha, r, None, sw, cw)
    bad_obj = classification_objective(X, y, bad_coef, bad_b, None, alpha, r, sw, cw)
    assert bad_obj > ref_obj * (1 + 1e-6)


@pytest.mark.parametrize("task", list(TASKS))
def test_reference_uses_the_non_deprecated_sklearn_api(task):
    """No FutureWarning / DeprecationWarning from LogisticRegression (1.9 API)."""
    X, y, sw = _data(task)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        for r in (0.0, 0.5, 1.0):
            coef, b = reference_fit(X, y, 0.05, r, None, sw, "balanced")
            assert coef.shape == (n_rows(task), X.shape[1]) and b.shape == (n_rows(task),)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_reference_satisfies_kkt(penalty, task, weighting):
    X, y, sw, cw, alpha, coef, b, _ = reference_case(penalty, task, "float64", weighting)
    r = R_OF[penalty]
    if r > 0:
        assert np.any(coef != 0) and np.any(coef == 0), "non-trivial sparse solution expected"
        assert_kkt(X, y, coef, b, None, alpha, r, sw, cw, atol=1e-7 * alpha, intercept_atol=1e-8)
    else:
        # lbfgs stops on float64 resolution of the objective (~1e-16 relative),
        # which leaves gradients of order sqrt(1e-16 * L) ~ 1e-7.
        assert_kkt(X, y, coef, b, None, alpha, r, sw, cw, atol=1e-5 * alpha, intercept_atol=1e-7)


def test_kkt_checker_detects_wrong_solution():
    X, y, sw, cw, alpha, coef, b, _ = reference_case("l1", "multiclass", "float64", "sample_weight")
    viol, _ = kkt_violations(X, y, coef, b, None, alpha, 1.0, sw, cw)
    assert viol.max() <= 1e-7 * alpha
    bad = np.array(coef)
    k, j = np.unravel_index(np.argmax(np.abs(bad)), bad.shape)
    bad[k, j] *= 1.01
    with pytest.raises(AssertionError):
        assert_kkt(X, y, bad, b, None, alpha, 1.0, sw, cw, atol=1e-6 * alpha)
    bad = np.array(coef)
    zk, zj = np.argwhere(coef == 0)[0]
    bad[zk, zj] = 1e-3
    with pytest.raises(AssertionError):
        assert_kkt(X, y, bad, b, None, alpha, 1.0, sw, cw, atol=1e-6 * alpha)
    with pytest.raises(AssertionError):
        assert_kkt(X, y, coef, b + np.array([0.1, 0.0, 0.0]), None, alpha, 1.0, sw, cw, atol=1e-6 * alpha)


@pytest.mark.parametrize("task", list(TASKS))
def test_reference_alpha_max(task):
    X, y, sw = _data(task)
    for r in (1.0, 0.5):
        amax = alpha_max(X, y, r, None, sw)
        c, _ = reference_fit(X, y, 1.01 * amax, r, None, sw)
        assert np.max(np.abs(c)) <= 1e-8
        c, _ = reference_fit(X, y, 0.9 * amax, r, None, sw)
        assert np.any(np.abs(c) > 1e-6)


# --------------------------------------------------------------------------
# main objective comparison
# --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_objective_matches_reference(penalty, task, fmt, dtype_name, weighting, shape):
    X, y, sw, cw, alpha, ref_coef, ref_b, ref_obj = reference_case(
        penalty, task, dtype_name, weighting, shape=shape
    )
    r = R_OF[penalty]
    K = TASKS[task]
    est = make_est(penalty, alpha, class_weight=cw, tol=FIT_TOL_OF[dtype_name])
    Xf = to_format(X, fmt)
    if dtype_name == "float64":
        est.fit(Xf, y, sample_weight=sw)
    else:
        # float32 rounding may still keep the violation above tol: stopping
        # on max_iter is legitimate there.
        fit_quiet(est, Xf, y, sample_weight=sw)

    assert_array_equal(est.classes_, np.arange(K))
    assert est.solver_ == auto_solver(penalty, task)
    assert est.coef_.shape == (n_rows(task), X.shape[1])
    assert np.shape(est.intercept_) == (n_rows(task),)
    assert est.coef_.dtype == DTYPES[dtype_name]
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    assert isinstance(est.n_iter_, (int, np.integer))
    obj = est_objective(est, X, y, alpha, r, sw, cw)
    assert_objective_close(obj, ref_obj, RTOL_OBJ[dtype_name], what=f"{est.solver_}")
    if r > 0:
        assert np.any(est.coef_ != 0)
    # The predictor (hence predict_proba) is unique at the optimum.  A tol=1e-10
    # fit pins it far more tightly than the objective rtol does; float32
    # arithmetic limits it to ~1e-4.
    assert_allclose(
        est.predict_proba(Xf), probabilities(X, ref_coef, ref_b, K),
        atol=ATOL_PROBA[dtype_name], rtol=0,
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_explicit_solvers_reach_reference(penalty, solver, task, fmt):
    X, y, sw, cw, alpha, _, _, ref_obj = reference_case(penalty, task, "float64", "sample_weight")
    r = R_OF[penalty]
    est = make_est(penalty, alpha, solver=solver).fit(to_format(X, fmt), y, sample_weight=sw)
    assert est.solver_ == solver
    assert est.solver == solver
    obj = est_objective(est, X, y, alpha, r, sw, cw)
    assert_objective_close(obj, ref_obj, 1e-6, what=f"{penalty}/{solver}/{fmt}")


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("solver", ["auto", "lbfgs", "newton-cd"])
def test_elasticnet_l1_ratio_zero_is_l2(solver, task):
    X, y, sw, cw, alpha, _, _, ref_obj = reference_case("l2", task, "float64", "sample_weight")
    est = make_est("elasticnet", alpha, l1_ratio=0.0, solver=solver).fit(X, y, sample_weight=sw)
    if solver == "auto":
        assert est.solver_ == auto_solver("l2", task)  # an L2-only penalty
    obj = est_objective(est, X, y, alpha, 0.0, sw, cw)
    assert_objective_close(obj, ref_obj, 1e-6, what=f"elasticnet(l1_ratio=0)/{solver}")


@pytest.mark.parametrize("task", list(TASKS))
def test_elasticnet_l1_ratio_one_is_l1(task):
    X, y, sw, cw, alpha, _, _, ref_obj = reference_case("l1", task, "float64", "sample_weight")
    est = make_est("elasticnet", alpha, l1_ratio=1.0).fit(X, y, sample_weight=sw)
    assert est.solver_ == "newton-cd"
    obj = est_objective(est, X, y, alpha, 1.0, sw, cw)
    assert_objective_close(obj, ref_obj, 1e-6, what="elasticnet(l1_ratio=1)")


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_no_intercept_matches_reference(penalty, fmt, task):
    X, y, sw, cw, alpha, _, _, ref_obj = reference_case(
        penalty, task, "float64", "sample_weight", fit_intercept=False
    )
    r = R_OF[penalty]
    est = make_est(penalty, alpha, fit_intercept=False).fit(to_format(X, fmt), y, sample_weight=sw)
    assert_array_equal(est.intercept_, np.zeros(n_rows(task)))
    obj = est_objective(est, X, y, alpha, r, sw, cw)
    assert_objective_close(obj, ref_obj, 1e-6, what=f"no intercept {penalty}")


@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
@pytest.mark.parametrize("task", list(TASKS))
def test_float64_tight_tol_converges_without_warning(task, penalty, solver):
    """A small well-posed float64 problem converges at tol=1e-8 silently."""
    X, y, sw, cw, alpha, _, _, _ = reference_case(penalty, task, "float64", "sample_weight")
    est = make_est(penalty, alpha, solver=solver, tol=1e-8, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    assert isinstance(est.n_iter_, (int, np.integer))
    assert 1 <= est.n_iter_ <= 1000


# L-BFGS cannot go much below a 1e-8 relative violation in float64 on these
# problems (scipy's L-BFGS-B itself, with ftol=1e-15 and gtol=1e-12, stops at
# 2e-9..8e-9: its line search no longer sees the objective decrease), so its
# tightest case here is 1e-6; proximal Newton reaches 1e-12.
TOL_CASES = [
    (p, s, t)
    for p, s in SOLVER_CASES
    for t in ([1e-4, 1e-6] if s == "lbfgs" else [1e-4, 1e-6, 1e-8])
]


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize(
    "penalty, solver, tol", TOL_CASES, ids=[f"{p}-{s}-{t:g}" for p, s, t in TOL_CASES]
)
def test_returned_solution_meets_tol(penalty, solver, tol, task):
    """tol bounds the optimality violation relative to its value at W = 0
    with the best intercept (max |G(0)|, the docstring's definition)."""
    X, y, sw, cw, alpha, _, _, _ = reference_case(penalty, task, "float64", "sample_weight")
    est = make_est(penalty, alpha, solver=solver, tol=tol)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    r = R_OF[penalty]
    viol, icpt = kkt_violations(X, y, est.coef_, est.intercept_, est.classes_, alpha, r, sw, cw)
    scale = alpha_max(X, y, 1.0, None, sw, cw)  # = max |G(0)| at the intercept-only optimum
    # 50 % slack for the rounding of two different gradient computations
    assert max(viol.max(), icpt) <= 1.5 * tol * scale, (viol.max() / scale, icpt / scale)


# --------------------------------------------------------------------------
# KKT conditions
# --------------------------------------------------------------------------
@pytest.mark.parametrize("weighting", ["sample_weight", "balanced"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_kkt_conditions(penalty, task, fmt, weighting):
    X, y, sw, cw, alpha, ref_coef, _, _ = reference_case(penalty, task, "float64", weighting)
    r = R_OF[penalty]
    est = make_est(penalty, alpha, class_weight=cw, tol=FIT_TOL)
    fit_quiet(est, to_format(X, fmt), y, sample_weight=sw)
    assert np.any(est.coef_ != 0) and np.any(est.coef_ == 0), "expected a sparse, non-zero solution"
    # the zero pattern is the reference's (no coefficient is near the threshold)
    assert_array_equal(est.coef_ == 0, ref_coef == 0)
    assert_kkt(
        X, y, est.coef_, est.intercept_, est.classes_, alpha, r, sw, cw,
        atol=1e-6 * alpha, intercept_atol=1e-7,
    )


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cd"])
def test_l2_gradient_vanishes(solver, task):
    X, y, sw, cw, alpha, _, _, _ = reference_case("l2", task, "float64", "sample_weight")
    est = make_est("l2", alpha, solver=solver, tol=FIT_TOL)
    fit_quiet(est, X, y, sample_weight=sw)
    # (see test_reference_satisfies_kkt for the float64 floor of a line search)
    assert_kkt(
        X, y, est.coef_, est.intercept_, est.classes_, alpha, 0.0, sw, cw,
        atol=1e-5 * alpha, intercept_atol=1e-7,
    )


# --------------------------------------------------------------------------
# alpha >= alpha_max
# --------------------------------------------------------------------------
@pytest.mark.parametrize("factor", [1.01, 2.0], ids=["just_above_alpha_max", "twice_alpha_max"])
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_alpha_max_gives_zero_solution(penalty, task, fmt, weighting, factor):
    X, y, sw_all = _data(task)
    sw, cw = _weights(weighting, sw_all)
    r = R_OF[penalty]
    amax = alpha_max(X, y, r, None, sw, cw)
    Xf = to_format(X, fmt)
    est = RegularizedClassifier(
        penalty=penalty, alpha=amax * factor, l1_ratio=0.5, class_weight=cw, tol=1e-8
    )
    est.fit(Xf, y, sample_weight=sw)
    assert_array_equal(est.coef_, np.zeros((n_rows(task), X.shape[1])))
    freq = weighted_class_frequencies(y, None, sw, cw)
    proba = est.predict_proba(Xf)
    assert_allclose(proba, np.tile(freq, (X.shape[0], 1)), rtol=1e-6, atol=1e-8)
    # just below alpha_max the solution is not all-zero
    est.set_params(alpha=amax * 0.9).fit(Xf, y, sample_weight=sw)
    assert np.any(est.coef_ != 0)


# --------------------------------------------------------------------------
# predict / predict_proba / decision_function consistency
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_prediction_methods_consistent(penalty, task, fmt):
    X, y, sw = _data(task)
    Xf = to_format(X, fmt)
    est = RegularizedClassifier(penalty=penalty, alpha=0.02).fit(Xf, y)
    n, K = X.shape[0], TASKS[task]
    dec = est.decision_function(Xf)
    proba = est.predict_proba(Xf)
    assert proba.shape == (n, K)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    lin = X @ est.coef_.T + est.intercept_
    if K == 2:
        assert dec.shape == (n,)
        assert_allclose(dec, X @ est.coef_[0] + est.intercept_[0], rtol=1e-10, atol=1e-10)
        assert_allclose(proba[:, 1], expit(dec), rtol=1e-10, atol=1e-12)
    else:
        assert dec.shape == (n, K)
        assert_allclose(dec, lin, rtol=1e-10, atol=1e-10)
        assert_allclose(proba, softmax(dec, axis=1), rtol=1e-10, atol=1e-12)
    assert_allclose(est.predict_log_proba(Xf), np.log(proba), rtol=1e-10, atol=1e-12)
    pred = est.predict(Xf)
    assert_array_equal(pred, est.classes_[np.argmax(proba, axis=1)])
    assert est.score(Xf, y) == pytest.approx(accuracy_score(y, pred), abs=1e-15)
    assert est.score(Xf, y, sample_weight=sw) == pytest.approx(
        accuracy_score(y, pred, sample_weight=sw), abs=1e-15
    )
    assert est.score(Xf, y) > 0.6  # y is (noisily) predictable from X


def test_predict_proba_no_overflow_for_extreme_scores():
    """Huge decision values give probabilities 0/1 without NaN."""
    for task in TASKS:
        X, y, _ = _data(task)
        est = RegularizedClassifier(penalty="l2", alpha=0.01).fit(X, y)
        Xbig = 1e4 * X
        proba = est.predict_proba(Xbig)
        assert np.all(np.isfinite(proba))
        assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
        lp = est.predict_log_proba(Xbig)
        assert not np.any(np.isnan(lp))
        assert_array_equal(est.predict(Xbig), est.classes_[np.argmax(proba, axis=1)])


# --------------------------------------------------------------------------
# label types
# --------------------------------------------------------------------------
def _label_cases():
    return {
        "strings3": ["cat", "dog", "emu"],
        "int_gaps3": [3, 7, 10],
        "negative_int3": [-5, 0, 2],
        "strings2": ["no", "yes"],
        "bool2": [False, True],
        "int_gaps2": [-1, 4],
        "float2": [1.0, 3.0],  # integral floats (non-integral floats are "continuous" in sklearn)
    }


@pytest.mark.parametrize("penalty", ["l1", "l2"])
@pytest.mark.parametrize("labels", list(_label_cases()))
def test_label_types(labels, penalty):
    values = np.array(_label_cases()[labels])
    task = "binary" if values.size == 2 else "multiclass"
    X, codes, _ = _data(task)
    # encode in reverse order so that classes_ must be sorted by the estimator
    order = np.argsort(values)[::-1]
    y = values[order][codes]
    est = RegularizedClassifier(penalty=penalty, alpha=0.02, tol=PAIR_TOL).fit(X, y)
    assert_array_equal(est.classes_, np.unique(y))
    assert est.classes_.dtype == np.unique(y).dtype
    pred = est.predict(X)
    assert pred.dtype == y.dtype or (pred.dtype.kind == y.dtype.kind == "U")
    assert set(np.unique(pred)) <= set(values.tolist())
    # same model as with the codes of the sorted labels
    sorted_codes = np.searchsorted(np.unique(y), y)
    ref = RegularizedClassifier(penalty=penalty, alpha=0.02, tol=PAIR_TOL).fit(X, sorted_codes)
    assert_allclose(est.predict_proba(X), ref.predict_proba(X), rtol=1e-9, atol=1e-12)
    assert_array_equal(pred, est.classes_[ref.predict(X)])
    # the binary positive class is classes_[1]
    if task == "binary":
        assert_array_equal(est.decision_function(X) > 0, pred == est.classes_[1])
    # class_weight keyed by the original labels
    cw = {values[0].item(): 3.0}
    est_cw = RegularizedClassifier(penalty=penalty, alpha=0.02, tol=PAIR_TOL, class_weight=cw).fit(X, y)
    sw = np.where(y == values[0], 3.0, 1.0)
    est_sw = RegularizedClassifier(penalty=penalty, alpha=0.02, tol=PAIR_TOL).fit(X, y, sample_weight=sw)
    assert_same_proba(est_cw, est_sw, X)


def test_object_dtype_string_labels():
    X, codes, _ = _data("multiclass")
    y = np.array(["a", "bb", "ccc"], dtype=object)[codes]
    est = RegularizedClassifier(alpha=0.02).fit(X, y)
    assert list(est.classes_) == ["a", "bb", "ccc"]
    assert set(est.predict(X)) <= {"a", "bb", "ccc"}


def test_list_labels():
    X, codes, _ = _data("binary")
    y = ["neg" if c == 0 else "pos" for c in codes]
    est = RegularizedClassifier(alpha=0.02).fit(X.tolist(), y)
    assert list(est.classes_) == ["neg", "pos"]


# --------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_class_weight_dict_equals_sample_weight(penalty, task):
    X, y, sw = _data(task)
    K = TASKS[task]
    cw = {k: w for k, w in zip(range(K), [2.0, 0.5, 1.5][:K])}
    per_sample = np.array([cw[k] for k in y])
    alpha = choose_alpha(X, y, None, cw)
    r = R_OF[penalty]
    a = make_est(penalty, alpha, class_weight=cw, tol=PAIR_TOL).fit(X, y)
    b = make_est(penalty, alpha, tol=PAIR_TOL).fit(X, y, sample_weight=per_sample)
    assert_same_proba(a, b, X)
    assert_objective_close(
        est_objective(a, X, y, alpha, r, None, cw), est_objective(b, X, y, alpha, r, per_sample),
        1e-9, what="class_weight dict vs sample_weight",
    )
    # combined with sample_weight: the product of the two
    c = make_est(penalty, alpha, class_weight=cw, tol=PAIR_TOL).fit(X, y, sample_weight=sw)
    d = make_est(penalty, alpha, tol=PAIR_TOL).fit(X, y, sample_weight=sw * per_sample)
    assert_same_proba(c, d, X)
    # a dict with a missing class: weight 1 for that class
    partial = {0: 2.0}
    e = make_est(penalty, alpha, class_weight=partial, tol=PAIR_TOL).fit(X, y)
    f = make_est(penalty, alpha, tol=PAIR_TOL).fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    assert_same_proba(e, f, X)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_balanced_class_weight_equals_sample_weight(penalty, task):
    X, y, _ = _data(task)
    alpha = choose_alpha(X, y, None, "balanced")
    a = make_est(penalty, alpha, class_weight="balanced", tol=PAIR_TOL).fit(X, y)
    b = make_est(penalty, alpha, tol=PAIR_TOL).fit(X, y, sample_weight=balanced_class_weight(y)[y])
    assert_same_proba(a, b, X)
    # and it differs from the unweighted fit (the classes are imbalanced)
    c = make_est(penalty, alpha, tol=PAIR_TOL).fit(X, y)
    assert np.max(np.abs(a.predict_proba(X) - c.predict_proba(X))) > 1e-3


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_integer_weights_equal_repeated_rows(penalty, solver, task, fmt):
    X, y, _ = _data(task)
    rng = np.random.RandomState(3)
    counts = rng.randint(1, 4, size=X.shape[0])
    X_rep = np.repeat(X, counts, axis=0)
    y_rep = np.repeat(y, counts)
    r = R_OF[penalty]
    alpha = choose_alpha(X, y, counts)
    kw = dict(solver=solver, tol=PAIR_TOL)
    weighted = fit_quiet(make_est(penalty, alpha, **kw), to_format(X, fmt), y, counts)
    repeated = fit_quiet(make_est(penalty, alpha, **kw), to_format(X_rep, fmt), y_rep)
    assert_same_proba(weighted, repeated, X)
    o_w = est_objective(weighted, X_rep, y_rep, alpha, r)
    o_r = est_objective(repeated, X_rep, y_rep, alpha, r)
    assert_objective_close(o_w, o_r, 1e-9, what="weights vs repeats")


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_zero_weights_equal_dropped_rows(penalty, solver, task):
    X, y, sw = _data(task)
    sw = np.array(sw)
    rng = np.random.RandomState(4)
    drop = rng.rand(X.shape[0]) < 0.3
    sw[drop] = 0.0
    X_bad = np.array(X)
    X_bad[drop] *= 1e3  # outrageous rows: they must have no influence at all
    keep = ~drop
    r = R_OF[penalty]
    alpha = choose_alpha(X[keep], y[keep], sw[keep])
    kw = dict(solver=solver, tol=PAIR_TOL)
    zeroed = fit_quiet(make_est(penalty, alpha, **kw), X_bad, y, sw)
    dropped = fit_quiet(make_est(penalty, alpha, **kw), X[keep], y[keep], sw[keep])
    assert_same_proba(zeroed, dropped, X)
    o_z = est_objective(zeroed, X[keep], y[keep], alpha, r, sw[keep])
    o_d = est_objective(dropped, X[keep], y[keep], alpha, r, sw[keep])
    assert_objective_close(o_z, o_d, 1e-9, what="zero weights vs dropped rows")


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_weights_are_scale_invariant(penalty, task):
    """Only the relative weights matter (they are rescaled to sum to n)."""
    X, y, sw = _data(task)
    kw = dict(penalty=penalty, alpha=0.02, tol=PAIR_TOL)
    a = RegularizedClassifier(**kw).fit(X, y, sample_weight=sw)
    b = RegularizedClassifier(**kw).fit(X, y, sample_weight=1e3 * sw)
    assert_same_proba(a, b, X)
    c = RegularizedClassifier(**kw).fit(X, y, sample_weight=np.full(len(y), 7.0))
    d = RegularizedClassifier(**kw).fit(X, y)
    assert_same_proba(c, d, X)
    # class_weight: a constant multiple of the dict is the same problem
    K = TASKS[task]
    e = RegularizedClassifier(class_weight={k: 1.0 + k for k in range(K)}, **kw).fit(X, y)
    f = RegularizedClassifier(class_weight={k: 10.0 * (1.0 + k) for k in range(K)}, **kw).fit(X, y)
    assert_same_proba(e, f, X)


# --------------------------------------------------------------------------
# sparse == dense, dtypes, layouts
# --------------------------------------------------------------------------
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_sparse_equals_dense(penalty, solver, task, fmt, weighting):
    X, y, sw_all = _data(task)
    sw, cw = _weights(weighting, sw_all)
    r = R_OF[penalty]
    alpha = choose_alpha(X, y, sw, cw)
    kw = dict(solver=solver, tol=PAIR_TOL, class_weight=cw)
    dense = fit_quiet(make_est(penalty, alpha, **kw), X, y, sw)
    sparse = fit_quiet(make_est(penalty, alpha, **kw), to_format(X, fmt), y, sw)
    assert_same_proba(sparse, dense, X)
    # (coefficients: see same_proba_atol for lbfgs's float64 floor)
    assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=10 * same_proba_atol(solver))
    if r > 0:
        assert_array_equal(sparse.coef_ == 0, dense.coef_ == 0)
    o_d = est_objective(dense, X, y, alpha, r, sw, cw)
    o_s = est_objective(sparse, X, y, alpha, r, sw, cw)
    assert_objective_close(o_s, o_d, 1e-9, what=f"sparse vs dense {solver}")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_float32_input_gives_float32_coef(penalty, solver, task, fmt):
    X, y, _ = _data(task)
    X32 = to_format(X.astype(np.float32), fmt)
    est = RegularizedClassifier(penalty=penalty, alpha=0.02, solver=solver).fit(X32, y)
    assert est.coef_.dtype == np.float32
    assert np.asarray(est.intercept_).dtype == np.float32
    assert np.all(np.isfinite(est.coef_))
    # close to the float64 fit on the same (rounded) data
    est64 = RegularizedClassifier(penalty=penalty, alpha=0.02, solver=solver).fit(
        to_format(X.astype(np.float32).astype(np.float64), fmt), y
    )
    assert est64.coef_.dtype == np.float64
    assert_allclose(est.predict_proba(X32), est64.predict_proba(X32), atol=1e-3)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_integer_X_is_converted_to_float64(penalty, task):
    X, y, _ = _data(task)
    Xi = np.round(X * 10).astype(np.int64)
    a = RegularizedClassifier(penalty=penalty, alpha=0.5).fit(Xi, y)
    b = RegularizedClassifier(penalty=penalty, alpha=0.5).fit(Xi.astype(np.float64), y)
    assert a.coef_.dtype == np.float64
    assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_c_and_f_order_give_the_same_coef(penalty, solver, task, dtype_name):
    X, y, sw = _data(task)
    X = X.astype(DTYPES[dtype_name])
    kw = dict(penalty=penalty, alpha=0.02, solver=solver, tol=1e-8 if dtype_name == "float64" else 1e-5)
    c = RegularizedClassifier(**kw).fit(np.ascontiguousarray(X), y, sample_weight=sw)
    f = RegularizedClassifier(**kw).fit(np.asfortranarray(X), y, sample_weight=sw)
    rtol = 1e-10 if dtype_name == "float64" else 1e-4
    atol = rtol * float(np.max(np.abs(c.coef_)))
    assert_allclose(f.coef_, c.coef_, rtol=rtol, atol=atol)
    assert_allclose(f.intercept_, c.intercept_, rtol=rtol, atol=atol)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_input_not_modified(penalty, fmt):
    X, y, sw = _data("multiclass")
    Xf = to_format(np.array(X), fmt)
    yv, swv = np.array(y), np.array(sw)
    X_before = as_float64_dense(Xf).copy()
    RegularizedClassifier(penalty=penalty, alpha=0.02, class_weight="balanced").fit(
        Xf, yv, sample_weight=swv
    )
    assert_array_equal(as_float64_dense(Xf), X_before)
    assert_array_equal(yv, y)
    assert_array_equal(swv, sw)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_deterministic(penalty, solver, fmt):
    X, y, sw = _data("multiclass")
    Xf = to_format(X, fmt)
    kw = dict(penalty=penalty, alpha=0.02, solver=solver)
    a = RegularizedClassifier(**kw).fit(Xf, y, sample_weight=sw)
    b = RegularizedClassifier(**kw).fit(Xf, y, sample_weight=sw)
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.intercept_, b.intercept_)


# --------------------------------------------------------------------------
# separable data, convergence warnings, warm start
# --------------------------------------------------------------------------
def _separable(task, seed=0):
    rng = np.random.RandomState(seed)
    K = TASKS[task]
    n, p = 60, 5
    codes = np.arange(n) % K
    centers = 6.0 * rng.randn(K, p)
    X = centers[codes] + 0.3 * rng.randn(n, p)
    return X, codes


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_separable_data_small_alpha_is_finite(penalty, solver, task, fmt):
    """Nearly unregularized separable data: finite coef_ (a ConvergenceWarning is fine)."""
    X, y = _separable(task)
    est = RegularizedClassifier(penalty=penalty, alpha=1e-8, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(to_format(X, fmt), y)
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    proba = est.predict_proba(to_format(X, fmt))
    assert np.all(np.isfinite(proba))
    assert est.score(to_format(X, fmt), y) == 1.0  # the classes are far apart
    assert isinstance(est.n_iter_, (int, np.integer))


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_max_iter_1_warns_and_is_finite(penalty, solver, task, fmt):
    X, y, sw = _data(task)
    est = RegularizedClassifier(penalty=penalty, alpha=0.01, solver=solver, max_iter=1, tol=1e-14)
    with pytest.warns(ConvergenceWarning):
        est.fit(to_format(X, fmt), y, sample_weight=sw)
    assert est.n_iter_ == 1
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    assert np.all(np.isfinite(est.predict_proba(to_format(X, fmt))))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty, solver", SOLVER_CASES, ids=SOLVER_IDS)
def test_warm_start(penalty, solver, task, fmt):
    X, y, sw, cw, alpha, _, _, _ = reference_case(penalty, task, "float64", "sample_weight")
    r = R_OF[penalty]
    Xf = to_format(X, fmt)
    est = make_est(penalty, alpha, solver=solver, tol=PAIR_TOL, warm_start=True)
    est.fit(Xf, y, sample_weight=sw)
    coef1, b1, it1 = est.coef_.copy(), est.intercept_.copy(), est.n_iter_
    P1 = est.predict_proba(Xf)
    est.fit(Xf, y, sample_weight=sw)
    # restarting from the solution: (almost) nothing left to do
    assert est.n_iter_ <= max(2, it1 // 2), (est.n_iter_, it1)
    o1 = classification_objective(X, y, coef1, b1, None, alpha, r, sw)
    o2 = est_objective(est, X, y, alpha, r, sw)
    assert_objective_close(o2, o1, 1e-9, what="warm refit")
    assert_allclose(est.predict_proba(Xf), P1, rtol=0, atol=same_proba_atol(est.solver_))

    # warm start from another alpha reaches the cold-start answer
    alpha2 = 0.5 * alpha
    est.set_params(alpha=alpha2).fit(Xf, y, sample_weight=sw)
    cold = make_est(penalty, alpha2, solver=solver, tol=PAIR_TOL).fit(Xf, y, sample_weight=sw)
    assert_objective_close(
        est_objective(est, X, y, alpha2, r, sw), est_objective(cold, X, y, alpha2, r, sw),
        1e-8, what="warm vs cold",
    )


@pytest.mark.parametrize("penalty", PENALTIES)
def test_warm_start_false_ignores_previous_solution(penalty):
    X, y, _ = _data("multiclass")
    est = RegularizedClassifier(penalty=penalty, alpha=0.02, tol=1e-8)
    first = est.fit(X, y).coef_.copy()
    est.fit(X, (y + 1) % 3)  # something very different
    est.fit(X, y)
    assert_array_equal(est.coef_, first)


def test_warm_start_with_different_classes_does_not_crash():
    """Refitting a warm-started estimator on other classes starts afresh."""
    X, y, _ = _data("multiclass")
    est = RegularizedClassifier(alpha=0.02, warm_start=True).fit(X, y)
    yb = (y == 0).astype(int)
    est.fit(X, yb)
    assert est.coef_.shape == (1, X.shape[1])
    cold = RegularizedClassifier(alpha=0.02).fit(X, yb)
    assert_allclose(est.predict_proba(X), cold.predict_proba(X), atol=1e-4)


# --------------------------------------------------------------------------
# solver choice
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "penalty, l1_ratio, expected",
    [("l2", 0.5, "newton-cd"), ("l1", 0.5, "newton-cd"), ("elasticnet", 0.5, "newton-cd"),
     ("elasticnet", 0.0, "newton-cd"), ("elasticnet", 1.0, "newton-cd")],
)
def test_auto_solver_choice(penalty, l1_ratio, expected, fmt):
    X, y, _ = _data("binary")
    est = RegularizedClassifier(penalty=penalty, l1_ratio=l1_ratio, alpha=0.05)
    est.fit(to_format(X, fmt), y)
    assert est.solver_ == expected
    assert est.solver == "auto"  # the parameter itself is not modified


# --------------------------------------------------------------------------
# sparse input is never densified
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize(
    "penalty, solver", [("l2", "lbfgs"), ("elasticnet", "newton-cd")],
    ids=["l2-lbfgs", "elasticnet-newton-cd"],
)
def test_sparse_input_is_not_densified(penalty, solver, task, fmt):
    """Peak memory of fit + predict_proba stays far below one dense copy of X."""
    import tracemalloc

    rng = np.random.RandomState(0)
    # dense float64 copy: 240 MB; nnz = 30 000.  n is large against the
    # legitimate O(K p) memory (L-BFGS keeps 2 * maxcor vectors of K p: ~19 MB).
    n, p = 1500, 20_000
    rows = np.repeat(np.arange(n), 20)
    X = sp.coo_matrix((rng.randn(rows.size), (rows, rng.randint(p, size=rows.size))), shape=(n, p))
    X = X.asformat(fmt)
    K = TASKS[task]
    y = np.asarray(X @ rng.randn(p)).ravel()
    y = np.digitize(y, np.quantile(y, np.linspace(0, 1, K + 1)[1:-1]))
    dense_bytes = n * p * 8
    est = RegularizedClassifier(penalty=penalty, alpha=1e-3, solver=solver, max_iter=10, tol=1e-4)
    tracemalloc.start()
    try:
        fit_quiet(est, X, y)
        proba = est.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert proba.shape == (n, K)
    assert peak < dense_bytes / 5, f"peak {peak / 1e6:.1f} MB vs dense X {dense_bytes / 1e6:.0f} MB"


def test_working_set_keeps_support_and_worst_violators():
    from sklreg._logistic_solvers import WORKING_SET_MIN, working_set

    p = 60
    W = np.zeros((2, p))
    W[0, [3, 7]] = 1.0
    W[1, 11] = -2.0  # support: features 3, 7, 11 (any class)
    grad = np.zeros((2, p))
    grad[1, 20:40] = np.linspace(1.1, 3.0, 20)  # violators for l1 = 1: worst is 39
    grad[0, 50] = 0.5  # below l1: not a violator
    # 20 violators, fewer than 7 |support| = 21: all of them join
    ws = working_set(W, grad, 1.0)
    assert_array_equal(ws, [3, 7, 11, *range(20, 40)])
    # 40 violators: the 8 |support| = 24 features are the support and the
    # 21 worst violators
    many = np.zeros((2, p))
    many[1, 12:52] = np.linspace(1.1, 3.0, 40)
    ws = working_set(W, many, 1.0)
    assert len(ws) == 24 and np.all(np.diff(ws) > 0)
    assert {3, 7, 11} <= set(ws)
    assert set(ws) - {3, 7, 11} == set(range(52 - 21, 52))
    # a small support still gets WORKING_SET_MIN features: the worst ones
    one = np.zeros((1, p))
    one[0, 3] = 1.0
    ws = working_set(one, many[1:], 1.0)
    assert len(ws) == WORKING_SET_MIN
    assert set(ws) == {3} | set(range(52 - (WORKING_SET_MIN - 1), 52))
    size = max(WORKING_SET_MIN, 2 * 3)
    # a set that would cover every feature is "all of them"
    assert working_set(W[:, :size], grad[:, :size], 1.0) is None
    # without violators the set is the support alone
    assert_array_equal(working_set(W[:, :size + 2], grad[:, :size + 2], 1.0), [3, 7, 11])
    # no violator and an empty support: only the intercept can move
    assert working_set(np.zeros((1, p)), np.zeros((1, p)), 1.0) is None
    # from W = 0, a share of the violators: 320 of them, the 20 worst
    wide = np.zeros((1, 400))
    wide[0, 50:370] = np.linspace(1.1, 3.0, 320)
    ws = working_set(np.zeros((1, 400)), wide, 1.0)
    assert_array_equal(ws, np.arange(370 - 20, 370))


def test_inner_tolerance_is_coarse_only_for_one_last_step():
    from sklreg._logistic_solvers import INNER_TOL_MIN, inner_tolerance

    # far from tol: 1e-2 violation^2 (capped at 1e-2), never coarse
    assert inner_tolerance(0.5, 1e-4, True) == (pytest.approx(2.5e-3), False)
    assert inner_tolerance(3.0, 1e-4, True) == (1e-2, False)
    # close to tol: the accuracy that reaching tol needs, (0.1 tol / v)^2
    tol_, coarse = inner_tolerance(3e-3, 1e-4, True)
    assert coarse and tol_ == pytest.approx((0.1 * 1e-4 / 3e-3) ** 2)
    assert tol_ > 1e-2 * 3e-3 ** 2
    # once spent, or when tol is too fine for the accurate rule to recover
    assert inner_tolerance(3e-3, 1e-4, False) == (pytest.approx(9e-8), False)
    assert inner_tolerance(3e-9, 1e-10, True) == (INNER_TOL_MIN, False)


@pytest.mark.parametrize("tol", [1e-4, 1e-6])
def test_newton_takes_at_most_one_coarse_step_and_meets_tol(monkeypatch, tol):
    """The coarse last step is tried once per fit (wide sparse L1 data, where
    it is taken); the solution still meets tol, judged independently."""
    import sklreg._logistic_solvers as solvers

    calls = []
    rule = solvers.inner_tolerance

    def recorded(violation, tol_, allowed):
        out = rule(violation, tol_, allowed)
        calls.append(out[1])
        return out

    monkeypatch.setattr(solvers, "inner_tolerance", recorded)
    X, y, sw, cw, alpha, _, _, _ = reference_case("l1", "binary", "float64", "none",
                                                  shape="wide")
    est = make_est("l1", alpha, tol=tol)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(sp.csr_matrix(X), y)
    assert calls.count(True) == 1
    viol, icpt = kkt_violations(X, y, est.coef_, est.intercept_, est.classes_, alpha, 1.0,
                                sw, cw)
    scale = alpha_max(X, y, 1.0, None, sw, cw)
    assert max(viol.max(), icpt) <= 1.5 * tol * scale


@pytest.mark.parametrize("task", list(TASKS))
def test_violation_scale_from_the_first_newton_gradient(task):
    """A fit from the null model takes tol's scale from its first gradient;
    it equals the scale computed on its own."""
    from sklreg._logistic_solvers import (LogisticProblem, newton_cd, null_model,
                                          violation_scale)

    X, y, sw, cw, alpha, _, _, _ = reference_case("l1", task, "float64", "sample_weight")
    K = TASKS[task]
    weights = (sw * X.shape[0] / sw.sum()).astype(np.float64)

    def problem():
        return LogisticProblem(sp.csr_matrix(X), y, K, weights, True)

    seeded = problem()
    newton_cd(seeded, *null_model(seeded), alpha, 1.0, 100, 1e-6)
    assert seeded.null_violation == pytest.approx(violation_scale(problem()), rel=1e-12)
