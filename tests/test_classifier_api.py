"""scikit-learn estimator API conformance of sklreg.RegularizedClassifier."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from _classifier_reference import make_classification_data
from sklreg import RegularizedClassifier

# The default alpha=1.0 is strong regularization for a classifier (it is
# LogisticRegression's C = 1/n): with an L1 part it zeroes every coefficient
# on the checks' standardized blob data, so check_classifiers_train's accuracy
# thresholds could not be met by any correct solver.  The L1 / elastic-net
# instances therefore use a moderate alpha; the default-constructed (L2)
# estimator is checked as well.  No expected_failed_checks.
ESTIMATORS = [
    RegularizedClassifier(),
    RegularizedClassifier(penalty="l1", alpha=0.01),
    RegularizedClassifier(penalty="l2", alpha=0.01),
    RegularizedClassifier(penalty="elasticnet", alpha=0.01),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def _data(n=90, p=8, n_classes=2, seed=0):
    return make_classification_data(n, p, n_classes, seed=seed)


PENALTIES = ["l1", "l2", "elasticnet"]
TASKS = {"binary": 2, "multiclass": 3}


def test_is_classifier_and_defaults():
    est = RegularizedClassifier()
    assert is_classifier(est)
    assert est.get_params() == dict(
        penalty="l2",
        alpha=1.0,
        l1_ratio=0.5,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        class_weight=None,
        warm_start=False,
        solver="auto",
    )


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_fit_returns_self_and_fitted_attributes(penalty, task):
    K = TASKS[task]
    X, y, _ = _data(n_classes=K)
    est = RegularizedClassifier(penalty=penalty, alpha=0.02)
    assert est.fit(X, y) is est
    k = 1 if K == 2 else K
    assert est.n_features_in_ == X.shape[1]
    assert est.coef_.shape == (k, X.shape[1])
    assert np.shape(est.intercept_) == (k,)
    assert_array_equal(est.classes_, np.arange(K))
    assert isinstance(est.n_iter_, (int, np.integer))
    assert est.solver_ in {"lbfgs", "newton-cd"}
    assert not hasattr(est, "feature_names_in_")  # numpy input: no names


@pytest.mark.parametrize("penalty", PENALTIES)
def test_clone(penalty):
    X, y, _ = _data(n_classes=3)
    est = RegularizedClassifier(
        penalty=penalty, alpha=0.03, l1_ratio=0.3, tol=1e-6, max_iter=500,
        class_weight={0: 2.0}, solver="newton-cd",
    )
    est.fit(X, y)
    cl = clone(est)
    assert cl.get_params() == est.get_params()
    assert not hasattr(cl, "coef_")
    cl.fit(X, y)
    assert_array_equal(cl.coef_, est.coef_)
    assert_array_equal(cl.intercept_, est.intercept_)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_pickle_round_trip(penalty, task, fmt):
    X, y, _ = _data(n_classes=TASKS[task])
    Xf = sp.csr_matrix(X) if fmt == "csr" else X
    labels = np.array(["a", "b", "c"])[: TASKS[task]][y]  # non-numeric classes_
    est = RegularizedClassifier(penalty=penalty, alpha=0.02).fit(Xf, labels)
    est2 = pickle.loads(pickle.dumps(est))
    assert_array_equal(est2.predict_proba(Xf), est.predict_proba(Xf))
    assert_array_equal(est2.predict(Xf), est.predict(Xf))
    assert_array_equal(est2.classes_, est.classes_)
    assert_array_equal(est2.coef_, est.coef_)
    assert est2.solver_ == est.solver_
    assert est2.get_params() == est.get_params()
    # the unpickled estimator can be refitted
    est2.fit(Xf, labels)
    assert_array_equal(est2.coef_, est.coef_)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_pipeline_with_scaler(penalty, task):
    X, y, _ = _data(n_classes=TASKS[task])
    X = 10.0 * X + 3.0
    pipe = Pipeline(
        [("scale", StandardScaler()), ("clf", RegularizedClassifier(penalty=penalty, alpha=0.02))]
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.6
    Xs = StandardScaler().fit_transform(X)
    est = RegularizedClassifier(penalty=penalty, alpha=0.02).fit(Xs, y)
    assert_allclose(pipe.predict_proba(X), est.predict_proba(Xs), rtol=1e-10, atol=1e-12)
    assert_array_equal(pipe.predict(X), est.predict(Xs))
    assert_array_equal(pipe.classes_, est.classes_)
    pipe.set_params(clf__alpha=0.2)
    assert pipe.named_steps["clf"].alpha == 0.2


def _sparse_signal_data(n_classes, n=150, p=20, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    W = np.zeros((n_classes, p))
    W[:, :3] = {  # truly sparse signal: features 0, 1, 2
        2: [[1.5, -1.5, 1.0], [-1.5, 1.5, -1.0]],
        3: [[2.0, 0.0, -2.0], [-2.0, 2.0, 0.0], [0.0, -2.0, 2.0]],
    }[n_classes]
    logits = X @ W.T
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    return X, y


@pytest.mark.parametrize(
    "task, scoring", [("binary", "roc_auc"), ("multiclass", "neg_log_loss")]
)
def test_grid_search(task, scoring):
    X, y = _sparse_signal_data(TASKS[task])
    grid = GridSearchCV(
        RegularizedClassifier(),
        param_grid={
            "alpha": [1e-3, 1e-2, 1e-1, 10.0],
            "penalty": ["l1", "l2", "elasticnet"],
            "l1_ratio": [0.2, 0.8],
        },
        scoring=scoring,
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    grid.fit(X, y)
    assert set(grid.best_params_) == {"alpha", "penalty", "l1_ratio"}
    # a huge alpha (everything shrunk to 0: constant predictions) never wins
    assert grid.best_params_["alpha"] < 10.0
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert len(scores) == 4 * 3 * 2
    if scoring == "roc_auc":
        assert grid.best_score_ > 0.8
        # alpha=10 >= alpha_max for L1: constant scores, AUC 0.5
        l1_big = [
            s for s, prm in zip(scores, grid.cv_results_["params"])
            if prm["alpha"] == 10.0 and prm["penalty"] == "l1"
        ]
        assert_allclose(l1_big, 0.5)
    else:
        assert grid.best_score_ > -0.8  # better than the constant model's log(3)=1.1
    best = grid.best_estimator_
    assert best.score(X, y) > 0.7
    # the informative features dominate the fitted coefficients
    assert set(np.argsort(-np.abs(best.coef_).max(axis=0))[:3]) == {0, 1, 2}


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_cross_val_score(penalty, task):
    X, y, _ = _data(n=120, n_classes=TASKS[task])
    scores = cross_val_score(RegularizedClassifier(penalty=penalty, alpha=0.02), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    assert scores.mean() > 0.55


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("penalty", PENALTIES)
def test_pandas_feature_names(penalty, task):
    pd = pytest.importorskip("pandas")
    X, y, _ = _data(n_classes=TASKS[task])
    cols = [f"f{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    est = RegularizedClassifier(penalty=penalty, alpha=0.02).fit(df, pd.Series(y))
    assert_array_equal(est.feature_names_in_, np.array(cols, dtype=object))
    assert est.n_features_in_ == X.shape[1]
    ref = RegularizedClassifier(penalty=penalty, alpha=0.02).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(est.predict_proba(df), ref.predict_proba(X), rtol=1e-12, atol=1e-14)
    # reordered columns are a mismatch scikit-learn reports
    with pytest.raises(ValueError):
        est.predict(df[cols[::-1]])
    # pandas categorical / string labels
    ys = pd.Series(np.array(["x", "y", "z"])[: TASKS[task]][y])
    est_s = RegularizedClassifier(penalty=penalty, alpha=0.02).fit(df, ys)
    assert list(est_s.classes_) == ["x", "y", "z"][: TASKS[task]]


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_single_class_raises(penalty, fmt):
    X, _, _ = _data()
    Xf = sp.csr_matrix(X) if fmt == "csr" else X
    for y in (np.zeros(X.shape[0], dtype=int), np.array(["only"] * X.shape[0])):
        with pytest.raises(ValueError):
            RegularizedClassifier(penalty=penalty).fit(Xf, y)


@pytest.mark.parametrize("where", ["fit", "predict"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_X_raises(bad, fmt, where):
    X, y, _ = _data()
    Xbad = X.copy()
    Xbad[3, 2] = bad
    Xbad = sp.csr_matrix(Xbad) if fmt == "csr" else Xbad
    est = RegularizedClassifier(alpha=0.02)
    with pytest.raises(ValueError):
        if where == "fit":
            est.fit(Xbad, y)
        else:
            est.fit(X, y).predict_proba(Xbad)


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_non_finite_y_raises(bad):
    X, y, _ = _data()
    y = y.astype(float)
    y[5] = bad
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0], ids=["nan", "inf", "negative"])
def test_bad_sample_weight_raises(bad):
    X, y, sw = _data()
    sw = sw.copy()
    sw[4] = bad
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X, y, sample_weight=sw)


def test_empty_and_mismatched_input_raise():
    X, y, sw = _data()
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X[:0], y[:0])
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X[:, :0], y)
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X, y, sample_weight=sw[:-1])


def test_continuous_target_raises():
    X, _, _ = _data()
    y = np.linspace(0.0, 1.0, X.shape[0])
    with pytest.raises(ValueError):
        RegularizedClassifier().fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        dict(alpha=-1.0),
        dict(alpha="1"),
        dict(l1_ratio=2.0),
        dict(l1_ratio=-0.1),
        dict(penalty="x"),
        dict(penalty=None),
        dict(solver="x"),
        dict(solver="saga"),
        dict(class_weight="bogus"),
        dict(class_weight=[1.0, 2.0]),
        dict(max_iter=0),
        dict(tol=-1.0),
        dict(fit_intercept="yes"),
        dict(warm_start="no"),
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
def test_invalid_params_raise_invalid_parameter_error(params):
    X, y, _ = _data()
    with pytest.raises(InvalidParameterError):
        RegularizedClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "params", [dict(penalty="l1"), dict(penalty="elasticnet", l1_ratio=0.5),
               dict(penalty="elasticnet", l1_ratio=1.0)],
    ids=["l1", "elasticnet-0.5", "elasticnet-1.0"],
)
def test_lbfgs_with_l1_part_raises_value_error(params):
    X, y, _ = _data()
    est = RegularizedClassifier(solver="lbfgs", **params)
    with pytest.raises(ValueError):
        est.fit(X, y)
    # but elasticnet with l1_ratio=0 is L2-only: lbfgs is fine
    RegularizedClassifier(solver="lbfgs", penalty="elasticnet", l1_ratio=0.0).fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba", "decision_function", "score"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("task", list(TASKS))
def test_predict_wrong_number_of_features(task, fmt, method):
    X, y, _ = _data(n_classes=TASKS[task])
    est = RegularizedClassifier(alpha=0.02).fit(X, y)
    for bad in (X[:, :-1], np.hstack([X, X[:, :1]])):
        bad = sp.csr_matrix(bad) if fmt == "csr" else bad
        with pytest.raises(ValueError):
            if method == "score":
                est.score(bad, y)
            else:
                getattr(est, method)(bad)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba", "decision_function"])
def test_predict_before_fit_raises(method):
    X, _, _ = _data()
    with pytest.raises(NotFittedError):
        getattr(RegularizedClassifier(), method)(X)


def test_set_params_then_refit():
    X, y, _ = _data(n_classes=3)
    est = RegularizedClassifier(penalty="l1", alpha=1e3).fit(X, y)
    assert_array_equal(est.coef_, 0.0)
    assert est.solver_ == "newton-cd"
    est.set_params(alpha=1e-3, penalty="l2")
    est.fit(X, y)
    assert np.all(est.coef_ != 0)
    assert est.solver_ == "lbfgs"


def test_refit_with_different_n_features_and_classes():
    X, y, _ = _data(n_classes=3)
    est = RegularizedClassifier(penalty="l1", alpha=0.02).fit(X, y)
    est.fit(X[:, :3], (y == 1).astype(int))
    assert est.n_features_in_ == 3
    assert est.coef_.shape == (1, 3)
    assert_array_equal(est.classes_, [0, 1])
    est.fit(X, y)
    assert est.coef_.shape == (3, X.shape[1])
    assert_array_equal(est.classes_, [0, 1, 2])
