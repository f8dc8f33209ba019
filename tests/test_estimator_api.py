"""scikit-learn estimator API conformance of sklreg.RegularizedRegressor."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_regressor
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from _reference import make_regression_data
from sklreg import RegularizedRegressor

ESTIMATORS = [
    RegularizedRegressor(penalty="l1"),
    RegularizedRegressor(penalty="l2"),
    RegularizedRegressor(penalty="elasticnet"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def _data(n=60, p=8, seed=0):
    X, y, sw = make_regression_data(n, p, seed=seed)
    return X, y, sw


PENALTIES = ["l1", "l2", "elasticnet"]


def test_is_regressor_and_defaults():
    est = RegularizedRegressor()
    assert is_regressor(est)
    assert est.get_params() == dict(
        penalty="l2",
        alpha=1.0,
        l1_ratio=0.5,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        solver="auto",
    )


@pytest.mark.parametrize("penalty", PENALTIES)
def test_fit_returns_self_and_fitted_attributes(penalty):
    X, y, _ = _data()
    est = RegularizedRegressor(penalty=penalty, alpha=0.1)
    assert est.fit(X, y) is est
    assert est.n_features_in_ == X.shape[1]
    assert est.coef_.shape == (X.shape[1],)
    assert np.ndim(est.intercept_) == 0
    assert isinstance(est.n_iter_, (int, np.integer))
    assert est.solver_ in {"cd", "cd_gram", "cg", "cholesky"}
    assert not hasattr(est, "feature_names_in_")  # numpy input: no names


@pytest.mark.parametrize("penalty", PENALTIES)
def test_clone(penalty):
    X, y, _ = _data()
    est = RegularizedRegressor(penalty=penalty, alpha=0.3, l1_ratio=0.3, tol=1e-6,
                               max_iter=500, positive=True, solver="cd")
    est.fit(X, y)
    cl = clone(est)
    assert cl.get_params() == est.get_params()
    assert not hasattr(cl, "coef_")
    cl.fit(X, y)
    assert_array_equal(cl.coef_, est.coef_)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_pickle_round_trip(penalty, fmt):
    X, y, _ = _data()
    Xf = sp.csr_matrix(X) if fmt == "csr" else X
    est = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(Xf, y)
    est2 = pickle.loads(pickle.dumps(est))
    assert_array_equal(est2.predict(Xf), est.predict(Xf))
    assert_array_equal(est2.coef_, est.coef_)
    assert est2.solver_ == est.solver_
    assert est2.get_params() == est.get_params()
    # the unpickled estimator can be refitted
    est2.fit(Xf, y)
    assert_array_equal(est2.coef_, est.coef_)


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_predict_and_score(penalty, fmt):
    X, y, sw = _data()
    Xf = {"dense": X, "csr": sp.csr_matrix(X), "csc": sp.csc_matrix(X)}[fmt]
    est = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(Xf, y)
    pred = est.predict(Xf)
    assert pred.shape == (X.shape[0],)
    assert_allclose(pred, X @ est.coef_ + est.intercept_, rtol=1e-10, atol=1e-10)
    assert_allclose(est.score(Xf, y), r2_score(y, pred), rtol=1e-10)
    assert_allclose(
        est.score(Xf, y, sample_weight=sw), r2_score(y, pred, sample_weight=sw), rtol=1e-10
    )
    assert est.score(Xf, y) > 0.5  # y is (noisily) linear in X


@pytest.mark.parametrize("penalty", PENALTIES)
def test_pipeline_with_scaler(penalty):
    X, y, _ = _data()
    pipe = Pipeline(
        [("scale", StandardScaler()), ("reg", RegularizedRegressor(penalty=penalty, alpha=0.05))]
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.5
    # equals scaling by hand
    Xs = StandardScaler().fit_transform(X)
    est = RegularizedRegressor(penalty=penalty, alpha=0.05).fit(Xs, y)
    assert_allclose(pipe.predict(X), est.predict(Xs), rtol=1e-10, atol=1e-10)
    # parameters reachable through the pipeline
    pipe.set_params(reg__alpha=0.2)
    assert pipe.named_steps["reg"].alpha == 0.2


def test_grid_search():
    rng = np.random.RandomState(0)
    n, p = 120, 30
    X = rng.randn(n, p)
    w = np.zeros(p)
    w[:3] = [3.0, -2.0, 1.5]  # truly sparse signal
    y = X @ w + 0.3 * rng.randn(n) + 1.0
    grid = GridSearchCV(
        RegularizedRegressor(),
        param_grid={
            "alpha": [1e-3, 1e-2, 1e-1, 1.0, 10.0],
            "penalty": ["l1", "l2", "elasticnet"],
            "l1_ratio": [0.2, 0.8],
        },
        cv=KFold(3, shuffle=True, random_state=0),
    )
    grid.fit(X, y)
    assert set(grid.best_params_) == {"alpha", "penalty", "l1_ratio"}
    # a huge alpha (everything shrunk to ~0) is never the best choice
    assert grid.best_params_["alpha"] < 10.0
    assert grid.best_score_ > 0.9
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert len(scores) == 5 * 3 * 2
    best = grid.best_estimator_
    assert best.score(X, y) > 0.9
    # the informative features dominate the fitted coefficients
    assert set(np.argsort(-np.abs(best.coef_))[:3]) == {0, 1, 2}


@pytest.mark.parametrize("penalty", PENALTIES)
def test_cross_val_score(penalty):
    X, y, _ = _data(n=90)
    scores = cross_val_score(
        RegularizedRegressor(penalty=penalty, alpha=0.05), X, y, cv=3
    )
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert scores.mean() > 0.5


@pytest.mark.parametrize("penalty", PENALTIES)
def test_pandas_feature_names(penalty):
    pd = pytest.importorskip("pandas")
    X, y, _ = _data()
    cols = [f"f{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    est = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(df, pd.Series(y))
    assert_array_equal(est.feature_names_in_, np.array(cols, dtype=object))
    assert est.n_features_in_ == X.shape[1]
    ref = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(est.predict(df), ref.predict(X), rtol=1e-12, atol=1e-12)
    # reordered columns are a mismatch scikit-learn reports
    with pytest.raises(ValueError):
        est.predict(df[cols[::-1]])


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_predict_wrong_number_of_features(penalty, fmt):
    X, y, _ = _data()
    est = RegularizedRegressor(penalty=penalty, alpha=0.1).fit(X, y)
    assert est.n_features_in_ == X.shape[1]
    for bad in (X[:, :-1], np.hstack([X, X[:, :1]])):
        bad = sp.csr_matrix(bad) if fmt == "csr" else bad
        with pytest.raises(ValueError):
            est.predict(bad)


def test_predict_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    X, _, _ = _data()
    with pytest.raises(NotFittedError):
        RegularizedRegressor().predict(X)


def test_set_params_then_refit():
    X, y, _ = _data()
    est = RegularizedRegressor(penalty="l1", alpha=1e6).fit(X, y)
    assert_array_equal(est.coef_, 0.0)
    est.set_params(alpha=1e-3, penalty="l2")
    est.fit(X, y)
    assert np.all(est.coef_ != 0)
    assert est.solver_ == "cholesky"


def test_refit_with_different_n_features():
    X, y, _ = _data()
    est = RegularizedRegressor(penalty="l1", alpha=0.1).fit(X, y)
    est.fit(X[:, :3], y)
    assert est.n_features_in_ == 3
    assert est.coef_.shape == (3,)
    est.fit(X, y)
    assert est.coef_.shape == (X.shape[1],)
