"""Input validation, degenerate data, crash-safety fuzzing."""

import json
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from _reference import alpha_max, make_regression_data, regression_objective
from sklreg import RegularizedClassifier, RegularizedRegressor

PENALTIES = ["l1", "l2", "elasticnet"]
SOLVERS_FOR = {
    "l1": ["auto", "cd", "cd_gram"],
    "elasticnet": ["auto", "cd", "cd_gram"],
    "l2": ["auto", "cd", "cd_gram", "cg", "cholesky"],
}
PENALTY_SOLVER = [(p, s) for p in PENALTIES for s in SOLVERS_FOR[p]]
PS_IDS = [f"{p}-{s}" for p, s in PENALTY_SOLVER]


def _data(n=30, p=5, seed=0):
    X, y, sw = make_regression_data(n, p, seed=seed)
    return X, y, sw


def _fmt(X, fmt):
    return {"dense": lambda a: a, "csr": sp.csr_matrix, "csc": sp.csc_matrix}[fmt](X)


# --------------------------------------------------------------------------
# invalid data -> ValueError
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "fortran", "float32", "csr", "csc"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("weight_of_bad_row", [None, 0.0])
def test_non_finite_X_raises(penalty, bad, fmt, weight_of_bad_row):
    # Plain arrays are checked through their column sums (one read of X for
    # the means and the check); a zero sample weight must not hide the value.
    X, y, _ = _data()
    X = X.copy()
    X[3, 2] = bad
    X = {"fortran": np.asfortranarray, "float32": lambda a: a.astype(np.float32)}.get(
        fmt, lambda a: _fmt(a, fmt))(X)
    sw = None
    if weight_of_bad_row is not None:
        sw = np.ones(X.shape[0])
        sw[3] = weight_of_bad_row
    message = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=message):
        RegularizedRegressor(penalty=penalty).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_non_finite_y_raises(penalty, bad):
    X, y, _ = _data()
    y = y.copy()
    y[5] = bad
    with pytest.raises(ValueError):
        RegularizedRegressor(penalty=penalty).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_X_at_predict_raises(bad):
    X, y, _ = _data()
    est = RegularizedRegressor(penalty="l1", alpha=0.1).fit(X, y)
    X = X.copy()
    X[0, 0] = bad
    with pytest.raises(ValueError):
        est.predict(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0], ids=["nan", "inf", "negative"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_bad_sample_weight_raises(penalty, bad):
    X, y, sw = _data()
    sw = sw.copy()
    sw[4] = bad
    with pytest.raises(ValueError):
        RegularizedRegressor(penalty=penalty).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize(
    "shape", [(0, 5), (0, 0), (5, 0)], ids=["0_samples", "0x0", "0_features"]
)
def test_empty_X_raises(penalty, shape):
    X = np.empty(shape)
    y = np.empty(shape[0])
    with pytest.raises(ValueError):
        RegularizedRegressor(penalty=penalty).fit(X, y)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_mismatched_lengths_raise(penalty):
    X, y, sw = _data()
    est = RegularizedRegressor(penalty=penalty)
    with pytest.raises(ValueError):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError):
        est.fit(X[:-1], y)
    with pytest.raises(ValueError):
        est.fit(X, y, sample_weight=sw[:-1])
    with pytest.raises(ValueError):
        est.fit(X, y, sample_weight=np.ones((len(y), 2)))


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_complex_data_raises(penalty, where):
    X, y, _ = _data()
    if where == "X":
        X = X + 1j * X
    else:
        y = y + 1j
    with pytest.raises(ValueError):
        RegularizedRegressor(penalty=penalty).fit(X, y)


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_object_strings_raise(penalty, where):
    X, y, _ = _data()
    if where == "X":
        X = X.astype(object)
        X[0, 0] = "foo"
    else:
        y = np.array(["a", "b"] * (len(y) // 2), dtype=object)
    with pytest.raises(ValueError):
        RegularizedRegressor(penalty=penalty).fit(X, y)


def test_plain_arrays_skip_validate_data_with_the_same_result(monkeypatch):
    # Valid float ndarrays take validate_regression_data's shortcut; the
    # fitted model and bookkeeping equal those of the full checks.
    import sklreg._base as base

    X, y, _ = _data()
    reference = RegularizedRegressor(penalty="l1", alpha=0.05).fit(X, y)
    pd = pytest.importorskip("pandas")
    est = RegularizedRegressor(penalty="l1", alpha=0.05).fit(
        pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]), y)
    assert hasattr(est, "feature_names_in_")

    def refuse(*args, **kwargs):
        raise AssertionError("validate_data called for plain valid arrays")

    monkeypatch.setattr(base, "validate_data", refuse)
    for X_, y_ in [(X, y), (X.astype(np.float32), y), (np.asfortranarray(X), y[:, None])]:
        est.fit(X_, y_)
        assert est.n_features_in_ == X.shape[1]
        assert not hasattr(est, "feature_names_in_")
    est.fit(X, y)
    assert_allclose(est.coef_, reference.coef_)
    # Anything else still goes through scikit-learn's checks.
    for X_, y_ in [(X.tolist(), y), (X, y.astype(int)), (X[:, :0], y),
                   (np.where(X > 1, np.nan, X), y), (X, y[:-1])]:
        with pytest.raises(AssertionError, match="validate_data called"):
            est.fit(X_, y_)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_messages_are_scikit_learns(bad):
    from sklearn.linear_model import Lasso

    X, y, _ = _data()
    for where in ["X", "y"]:
        X_, y_ = X.copy(), y.copy()
        (X_ if where == "X" else y_).flat[3] = bad
        with pytest.raises(ValueError) as ours:
            RegularizedRegressor(penalty="l1").fit(X_, y_)
        with pytest.raises(ValueError) as theirs:
            Lasso().fit(X_, y_)
        assert str(ours.value).split(".")[0] == str(theirs.value).split(".")[0]


def test_3d_X_raises():
    with pytest.raises(ValueError):
        RegularizedRegressor().fit(np.ones((4, 3, 2)), np.ones(4))


# --------------------------------------------------------------------------
# invalid parameters -> InvalidParameterError
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        dict(alpha=-1),
        dict(alpha=-1e-12),
        dict(l1_ratio=1.5),
        dict(l1_ratio=-0.1),
        dict(penalty="bogus"),
        dict(penalty=None),
        dict(solver="bogus"),
        dict(max_iter=0),
        dict(max_iter=-5),
        dict(tol=-1),
    ],
    ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()),
)
def test_invalid_params_raise_invalid_parameter_error(params):
    X, y, _ = _data()
    est = RegularizedRegressor(**params)  # constructor does not validate
    for k, v in params.items():
        assert getattr(est, k) == v or (v is None and getattr(est, k) is None)
    with pytest.raises(InvalidParameterError):
        est.fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty="l1", solver="cg"),
        dict(penalty="l1", solver="cholesky"),
        dict(penalty="elasticnet", l1_ratio=0.5, solver="cg"),
        dict(penalty="elasticnet", l1_ratio=0.5, solver="cholesky"),
        dict(penalty="l2", positive=True, solver="cg"),
        dict(penalty="l2", positive=True, solver="cholesky"),
    ],
    ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()),
)
def test_incompatible_solver_raises_value_error(params):
    X, y, _ = _data()
    with pytest.raises(ValueError):
        RegularizedRegressor(**params).fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "params",
    [dict(penalty="l2"), dict(penalty="elasticnet", l1_ratio=0.0)],
    ids=["l2", "elasticnet-l1_ratio=0"],
)
def test_cholesky_with_sparse_raises(params, fmt):
    X, y, _ = _data()
    with pytest.raises(ValueError):
        RegularizedRegressor(solver="cholesky", **params).fit(_fmt(X, fmt), y)


# --------------------------------------------------------------------------
# convergence warning
# --------------------------------------------------------------------------
def _hard_problem():
    X, y, sw = make_regression_data(25, 60, seed=7)
    return X, y, sw


# cholesky is direct (no iterations); "auto" for l2 may resolve to it.
ITERATIVE = [(p, s) for p, s in PENALTY_SOLVER if s != "cholesky" and (p, s) != ("l2", "auto")]


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize(
    "penalty, solver", ITERATIVE, ids=[f"{p}-{s}" for p, s in ITERATIVE]
)
def test_max_iter_1_warns_and_is_finite(penalty, solver, fmt):
    X, y, sw = _hard_problem()
    r = {"l1": 1.0, "l2": 1.0, "elasticnet": 0.5}[penalty]
    alpha = 1e-3 * alpha_max(X, y, r, True, sw)
    est = RegularizedRegressor(
        penalty=penalty, alpha=alpha, solver=solver, max_iter=1, tol=1e-12
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(_fmt(X, fmt), y, sample_weight=sw)
    assert np.all(np.isfinite(est.coef_))
    assert np.isfinite(est.intercept_)
    assert est.n_iter_ == 1
    assert np.all(np.isfinite(est.predict(_fmt(X, fmt))))


# --------------------------------------------------------------------------
# degenerate but valid data
# --------------------------------------------------------------------------
def _fit_all_formats(penalty, solver, X, y, sw=None, fit_intercept=True, alpha=0.1, tol=1e-10):
    fmts = ["dense"] if solver == "cholesky" else ["dense", "csr", "csc"]
    out = {}
    for fmt in fmts:
        est = RegularizedRegressor(
            penalty=penalty, solver=solver, alpha=alpha, fit_intercept=fit_intercept,
            tol=tol, max_iter=10_000,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(_fmt(X, fmt), y, sample_weight=sw)
        assert np.all(np.isfinite(est.coef_)), (fmt, est.coef_)
        assert np.all(np.isfinite(est.intercept_)), (fmt, est.intercept_)
        assert np.all(np.isfinite(est.predict(_fmt(X, fmt))))
        out[fmt] = est
    return out


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("penalty, solver", PENALTY_SOLVER, ids=PS_IDS)
def test_constant_and_zero_columns(penalty, solver, fit_intercept):
    X, y, sw = _data(p=6)
    X = X.copy()
    X[:, 1] = 3.0  # constant
    X[:, 4] = 0.0  # all zero
    for est in _fit_all_formats(penalty, solver, X, y, sw, fit_intercept).values():
        assert_allclose(est.coef_[4], 0.0, atol=1e-12)
        if fit_intercept:
            # a constant column is absorbed by the intercept
            assert_allclose(est.coef_[1], 0.0, atol=1e-8)
        assert np.any(est.coef_ != 0)


@pytest.mark.parametrize("penalty, solver", PENALTY_SOLVER, ids=PS_IDS)
def test_all_zero_X(penalty, solver):
    X = np.zeros((10, 3))
    y = np.arange(10.0)
    for est in _fit_all_formats(penalty, solver, X, y).values():
        assert_array_equal(est.coef_, 0.0)
        assert_allclose(est.intercept_, y.mean(), rtol=1e-12)


@pytest.mark.parametrize("penalty, solver", PENALTY_SOLVER, ids=PS_IDS)
def test_constant_y(penalty, solver):
    X, _, sw = _data()
    y = np.full(X.shape[0], 4.0)
    for est in _fit_all_formats(penalty, solver, X, y, sw).values():
        assert_allclose(est.coef_, 0.0, atol=1e-10)
        assert_allclose(est.intercept_, 4.0, rtol=1e-10)


@pytest.mark.parametrize("penalty, solver", PENALTY_SOLVER, ids=PS_IDS)
def test_duplicated_columns(penalty, solver):
    X, y, sw = _data(p=5)
    X = np.hstack([X, X[:, [2]]])  # column 5 duplicates column 2
    alpha, tol = 0.1, 1e-12
    r = {"l1": 1.0, "l2": 0.0, "elasticnet": 0.5}[penalty]
    fits = _fit_all_formats(penalty, solver, X, y, sw, alpha=alpha, tol=tol)
    X_scaled = X[:, :5].copy()
    X_scaled[:, 2] *= np.sqrt(2)
    if penalty == "l2":
        scaled = RegularizedRegressor(penalty="l2", solver="cholesky", alpha=alpha).fit(
            X_scaled, y, sample_weight=sw
        )
    for est in fits.values():
        pair = est.coef_[2] + est.coef_[5]
        assert np.isfinite(pair)
        if r < 1:
            # Strictly convex and symmetric in the two columns: the unique
            # solution has equal coefficients.  Direct / CG solvers keep the
            # symmetry to rounding; CD reaches it only to the accuracy its
            # stopping rule certifies: the data term is flat along e2 - e5,
            # whose curvature is mu = alpha*(1-r), so with a duality gap
            # G <= tol * scale, |w2 - w5| <= 2 * sqrt(G / mu).
            if est.solver_ in ("cd", "cd_gram"):
                G = tol * np.average((y - np.average(y, weights=sw)) ** 2, weights=sw)
                atol = 2 * np.sqrt(G / (alpha * (1 - r)))
            else:
                atol = 1e-10
            assert_allclose(est.coef_[2], est.coef_[5], rtol=1e-6, atol=atol)
        if penalty == "l2":
            # Ridge with column 2 duplicated is ridge with column 2 scaled by
            # sqrt(2) (u = sqrt(2) * w2 = sqrt(2) * w5): same optimal value.
            obj_dup = regression_objective(X, y, est.coef_, est.intercept_, alpha, 0.0, sw)
            obj_scaled = regression_objective(
                X_scaled, y, scaled.coef_, scaled.intercept_, alpha, 0.0, sw
            )
            assert abs(obj_dup - obj_scaled) <= 1e-8 * obj_scaled, (obj_dup, obj_scaled)
            assert_allclose(pair, np.sqrt(2) * scaled.coef_[2], rtol=1e-3)


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("penalty, solver", PENALTY_SOLVER, ids=PS_IDS)
def test_single_sample(penalty, solver, fit_intercept):
    X = np.array([[1.0, -2.0, 3.0]])
    y = np.array([2.5])
    for est in _fit_all_formats(penalty, solver, X, y, fit_intercept=fit_intercept).values():
        if fit_intercept:
            # centred data is all zero: w = 0, b = y
            assert_allclose(est.coef_, 0.0, atol=1e-12)
            assert_allclose(est.intercept_, 2.5, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("penalty, solver", PENALTY_SOLVER, ids=PS_IDS)
def test_single_feature(penalty, solver, fit_intercept):
    rng = np.random.RandomState(0)
    x = rng.randn(20, 1) + 2.0
    y = 3.0 * x[:, 0] + 1.0 + 0.1 * rng.randn(20)
    fits = _fit_all_formats(penalty, solver, x, y, fit_intercept=fit_intercept, alpha=0.01)
    for est in fits.values():
        assert est.coef_.shape == (1,)
        assert est.coef_[0] > 0
    # closed form for one feature (no intercept case keeps it simple)
    if not fit_intercept:
        r = {"l1": 1.0, "l2": 0.0, "elasticnet": 0.5}[penalty]
        n = len(y)
        xy, xx = x[:, 0] @ y / n, x[:, 0] @ x[:, 0] / n
        w = max(xy - 0.01 * r, 0.0) / (xx + 0.01 * (1 - r))
        for est in fits.values():
            assert_allclose(est.coef_[0], w, rtol=1e-6)


# --------------------------------------------------------------------------
# sparse-specific inputs
# --------------------------------------------------------------------------
def _non_canonical(X, fmt):
    """Same matrix with duplicated entries and unsorted indices."""
    M = sp.coo_matrix(X)
    # split every stored value in two halves -> duplicate (i, j) entries
    rows = np.concatenate([M.row, M.row])
    cols = np.concatenate([M.col, M.col])
    vals = np.concatenate([0.5 * M.data, 0.5 * M.data])
    perm = np.random.RandomState(0).permutation(rows.size)
    # (tocsr/tocsc would sum the duplicates: build the raw arrays instead)
    if fmt == "csr":
        order = np.argsort(rows[perm], kind="stable")
        major, minor = rows[perm][order], cols[perm][order]
        n_major = X.shape[0]
        ctor = sp.csr_matrix
    else:
        order = np.argsort(cols[perm], kind="stable")
        major, minor = cols[perm][order], rows[perm][order]
        n_major = X.shape[1]
        ctor = sp.csc_matrix
    indptr = np.concatenate([[0], np.cumsum(np.bincount(major, minlength=n_major))])
    out = ctor((vals[perm][order], minor, indptr), shape=X.shape)
    assert not out.has_canonical_format
    assert_allclose(out.toarray(), X)
    return out


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "penalty, solver",
    [(p, s) for p, s in PENALTY_SOLVER if s != "cholesky"],
    ids=[i for i in PS_IDS if not i.endswith("cholesky")],
)
def test_non_canonical_sparse_equals_canonical(penalty, solver, fmt):
    X, y, sw = _data()
    ref = RegularizedRegressor(penalty=penalty, solver=solver, alpha=0.1, tol=1e-10).fit(
        X, y, sample_weight=sw
    )
    Xnc = _non_canonical(X, fmt)
    est = RegularizedRegressor(penalty=penalty, solver=solver, alpha=0.1, tol=1e-10).fit(
        Xnc, y, sample_weight=sw
    )
    assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "penalty, solver",
    [(p, s) for p, s in PENALTY_SOLVER if s != "cholesky"],
    ids=[i for i in PS_IDS if not i.endswith("cholesky")],
)
def test_sparse_int64_indices(penalty, solver, fmt):
    X, y, _ = _data()
    Xs = _fmt(X, fmt)
    X64 = Xs.copy()
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    ref = RegularizedRegressor(penalty=penalty, solver=solver, alpha=0.1).fit(Xs, y)
    est = RegularizedRegressor(penalty=penalty, solver=solver, alpha=0.1)
    try:
        est.fit(X64, y)
    except ValueError:
        # the contract does not promise 64-bit sparse indices; a clean
        # ValueError (as scikit-learn's CD gives) is acceptable, a crash or
        # a wrong answer is not.
        return
    assert_allclose(est.coef_, ref.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(est.predict(X64), ref.predict(Xs), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("penalty, solver", [(p, s) for p, s in PENALTY_SOLVER if s != "cholesky"],
                         ids=[i for i in PS_IDS if not i.endswith("cholesky")])
def test_sparse_without_stored_entries(penalty, solver):
    X = sp.csr_matrix((12, 4))
    y = np.linspace(-1, 1, 12) + 2.0
    est = RegularizedRegressor(penalty=penalty, solver=solver, alpha=0.1).fit(X, y)
    assert_array_equal(est.coef_, 0.0)
    assert_allclose(est.intercept_, y.mean(), rtol=1e-12)


# --------------------------------------------------------------------------
# crash safety: nasty inputs in a subprocess (a segfault fails the test
# instead of killing pytest).  Must run before the in-process fuzz test.
# --------------------------------------------------------------------------
_SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import json, pickle, sys, warnings
    import numpy as np
    import scipy.sparse as sp
    from sklreg import RegularizedRegressor

    with open(sys.argv[1], "rb") as f:
        case = pickle.load(f)
    X, y, sw, alpha = case["X"], case["y"], case["sw"], case["alpha"]
    solvers = {
        "l1": ["auto", "cd", "cd_gram"],
        "elasticnet": ["auto", "cd", "cd_gram"],
        "l2": ["auto", "cd", "cd_gram", "cg", "cholesky"],
    }
    report = []
    for penalty, slist in solvers.items():
        for solver in slist:
            if solver == "cholesky" and sp.issparse(X):
                continue
            for fit_intercept in (True, False):
                est = RegularizedRegressor(penalty=penalty, solver=solver, alpha=alpha,
                                           fit_intercept=fit_intercept, max_iter=200)
                tag = f"{penalty}/{solver}/intercept={fit_intercept}"
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        est.fit(X, y, sample_weight=sw)
                except ValueError as exc:
                    report.append([tag, "ValueError", str(exc)[:200]])
                    continue
                finite = bool(np.all(np.isfinite(est.coef_))
                              and np.all(np.isfinite(est.intercept_)))
                report.append([tag, "ok" if finite else "NON-FINITE", repr(est.coef_)[:200]])
    print(json.dumps(report))
    """
)


def _nasty_cases():
    rng = np.random.RandomState(0)
    cases = {}
    cases["all_zero"] = dict(X=np.zeros((6, 3)), y=np.zeros(6), sw=None, alpha=1.0)
    big = rng.randn(8, 4)
    big[:, 0] *= 1e30
    big[:, 1] *= 1e-30
    cases["extreme_scales"] = dict(X=big, y=rng.randn(8) * 1e30, sw=None, alpha=1e-3)
    cases["subnormal"] = dict(X=rng.randn(7, 3) * 1e-310, y=rng.randn(7) * 1e-310,
                              sw=None, alpha=1e-3)
    cases["one_by_one"] = dict(X=np.array([[2.0]]), y=np.array([1.0]), sw=None, alpha=0.5)
    wide = rng.randn(2, 40)
    wide[:, 20:] = wide[:, :20]
    cases["wide_duplicates_alpha0"] = dict(X=wide, y=np.array([1.0, -1.0]), sw=None, alpha=0.0)
    cases["all_zero_weights"] = dict(X=rng.randn(6, 3), y=rng.randn(6), sw=np.zeros(6), alpha=0.1)
    cases["extreme_weights"] = dict(X=rng.randn(6, 3), y=rng.randn(6),
                                    sw=np.array([1e-300, 1e300, 1.0, 0.0, 1e-30, 1e30]),
                                    alpha=0.1)
    cases["float32_large"] = dict(X=(rng.randn(9, 3) * 1e18).astype(np.float32),
                                  y=(rng.randn(9) * 1e18).astype(np.float32), sw=None, alpha=1.0)
    cases["sparse_empty_csc"] = dict(X=sp.csc_matrix((5, 3)), y=np.ones(5), sw=None, alpha=0.1)
    sp_big = sp.random(10, 6, density=0.3, random_state=1, format="csr") * 1e30
    cases["sparse_extreme"] = dict(X=sp_big, y=rng.randn(10) * 1e-30, sw=None, alpha=1e-3)
    return cases


NASTY = _nasty_cases()


@pytest.mark.parametrize("name", list(NASTY))
def test_nasty_inputs_do_not_crash_subprocess(name, tmp_path):
    path = tmp_path / "case.pkl"
    with open(path, "wb") as f:
        pickle.dump(NASTY[name], f)
    proc = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode >= 0, (
        f"interpreter killed by signal {-proc.returncode} on case {name!r}\n"
        f"stderr:\n{proc.stderr[-3000:]}"
    )
    assert proc.returncode == 0, (
        f"non-ValueError exception on case {name!r}:\n{proc.stderr[-3000:]}"
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    bad = [r for r in report if r[1] not in ("ok", "ValueError")]
    assert not bad, f"case {name!r}: non-finite results: {bad}"
    assert report, "the subprocess fitted nothing"


# --------------------------------------------------------------------------
# in-process fuzz (hypothesis)
# --------------------------------------------------------------------------
SPECIAL_VALUES = [0.0, -0.0, 1.0, -1.0, 1e-30, -1e-30, 1e30, -1e30, 0.5, 7.0]


@st.composite
def fuzz_problem(draw):
    n = draw(st.integers(1, 8))
    p = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    if dtype == np.float64:
        elems = st.one_of(
            st.sampled_from(SPECIAL_VALUES),
            st.floats(-1e30, 1e30, allow_nan=False, allow_infinity=False),
        )
    else:
        elems = st.one_of(
            st.sampled_from([0.0, 1.0, -1.0, 1e-10, -1e-10, 1e10, -1e10, 3.5]),
            st.floats(-1e10, 1e10, allow_nan=False, allow_infinity=False, width=32),
        )
    X = np.array(draw(st.lists(elems, min_size=n * p, max_size=n * p)), dtype=dtype)
    X = X.reshape(n, p)
    y = np.array(draw(st.lists(elems, min_size=n, max_size=n)), dtype=dtype)
    weighted = draw(st.booleans())
    sw = None
    if weighted:
        sw = np.array(
            draw(st.lists(st.sampled_from([0.0, 1e-30, 0.5, 1.0, 3.0, 1e30]),
                          min_size=n, max_size=n))
        )
    penalty = draw(st.sampled_from(PENALTIES))
    fmt = draw(st.sampled_from(["dense", "csr", "csc"]))
    solvers = [s for s in SOLVERS_FOR[penalty] if not (s == "cholesky" and fmt != "dense")]
    solver = draw(st.sampled_from(solvers))
    alpha = draw(st.sampled_from([0.0, 1e-30, 1e-3, 1.0, 1e30]))
    l1_ratio = draw(st.sampled_from([0.0, 0.3, 1.0]))
    fit_intercept = draw(st.booleans())
    positive = draw(st.booleans()) and solver not in ("cg", "cholesky")
    return dict(X=X, y=y, sw=sw, penalty=penalty, fmt=fmt, solver=solver, alpha=alpha,
                l1_ratio=l1_ratio, fit_intercept=fit_intercept, positive=positive)


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(fuzz_problem())
def test_fuzz_fit_raises_value_error_or_is_finite(problem):
    X = _fmt(problem["X"], problem["fmt"])
    if problem["penalty"] == "elasticnet" and problem["solver"] in ("cg", "cholesky"):
        problem["l1_ratio"] = 0.0  # only L2-only elasticnet may use cg/cholesky
    est = RegularizedRegressor(
        penalty=problem["penalty"],
        solver=problem["solver"],
        alpha=problem["alpha"],
        l1_ratio=problem["l1_ratio"],
        fit_intercept=problem["fit_intercept"],
        positive=problem["positive"],
        max_iter=100,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, problem["y"], sample_weight=problem["sw"])
    except ValueError:
        return
    assert np.all(np.isfinite(est.coef_)), est.coef_
    assert np.all(np.isfinite(est.intercept_)), est.intercept_
    if problem["positive"]:
        assert np.all(est.coef_ >= 0)


def test_parameter_validation_is_memoized_only_for_values_that_passed(monkeypatch):
    # MemoizedParamValidation: scikit-learn's validator runs once per class
    # and set of scalar values; invalid values, values that differ only in
    # type, and non-scalar values are checked on every fit.
    import sklreg._base as base

    calls = []
    real = base.validate_parameter_constraints

    def counting(constraints, params, caller_name):
        calls.append(dict(params))
        return real(constraints, params, caller_name=caller_name)

    monkeypatch.setattr(base, "validate_parameter_constraints", counting)
    monkeypatch.setattr(base, "_VALID_PARAMS", set())
    X, y, _ = _data()
    alpha = np.float64(0.0123456)
    RegularizedRegressor(penalty="l1", alpha=alpha).fit(X, y)
    RegularizedRegressor(penalty="l1", alpha=alpha).fit(X, y)
    assert len(calls) == 1
    # The same value as a Python float, and another class: checked again.
    RegularizedRegressor(penalty="l1", alpha=float(alpha)).fit(X, y)
    RegularizedClassifier(penalty="l1", alpha=float(alpha)).fit(X, y > np.median(y))
    assert len(calls) == 3
    # fit_intercept=1 is not the boolean True: rejected, every time, even
    # after the defaults (fit_intercept=True) passed.
    RegularizedRegressor().fit(X, y)
    for _ in range(2):
        with pytest.raises(ValueError, match="fit_intercept"):
            RegularizedRegressor(fit_intercept=1).fit(X, y)
    for _ in range(2):
        with pytest.raises(ValueError, match="alpha"):
            RegularizedRegressor(alpha=-1.0).fit(X, y)
    assert len(calls) == 8
    # A non-scalar parameter value is never memoized.
    est = RegularizedRegressor(alpha=0.5)
    est.alpha = [0.5]
    for _ in range(2):
        with pytest.raises(ValueError, match="alpha"):
            est.fit(X, y)
    assert len(calls) == 10
