"""Regularization paths and the CV estimators (issue 6).

Paths are checked against independent references: scikit-learn's
lasso_path / enet_path, the exact alpha_max of each loss, and each point's
objective against a cold fit; the CV estimators against GridSearchCV over
the base estimator and against LassoCV / ElasticNetCV / LogisticRegressionCV
on the same folds and grid.
"""
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV, LassoCV, LogisticRegressionCV, enet_path
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

import _classifier_reference as cref
import _reference as rref
from sklreg import (RegularizedClassifier, RegularizedClassifierCV, RegularizedRegressor,
                    RegularizedRegressorCV, regularization_path)
from sklreg._cv import _RegularizedCV

TIGHT = dict(tol=1e-10, max_iter=100_000)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Far ends of paths at loose tolerances may stop on max_iter; the tests
    # use tight tolerances wherever they compare numbers.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def regression_data(n=120, p=30, seed=0):
    return rref.make_regression_data(n, p, seed=seed)


# --------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------
@pytest.mark.parametrize("penalty, r", [("l1", 1.0), ("elasticnet", 0.5)])
@pytest.mark.parametrize("shape", [(120, 30), (40, 90)], ids=["tall", "wide"])
def test_path_matches_sklearn_enet_path(penalty, r, shape):
    X, y, _ = regression_data(*shape)
    # tol 1e-13: the coefficients are compared too, and a gap of tol |yc|^2
    # bounds their error only by about its square root.
    path = regularization_path(X, y, penalty=penalty, l1_ratio=0.5, n_alphas=15, tol=1e-13,
                               max_iter=100_000)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    _, ref, _ = enet_path(Xc, yc, l1_ratio=r, alphas=path.alphas, tol=1e-13, max_iter=10**6)
    for alpha, coef, b, ref_coef, gap in zip(path.alphas, path.coefs, path.intercepts, ref.T,
                                             path.dual_gaps):
        ours = rref.regression_objective(X, y, coef, b, alpha, r)
        theirs = rref.regression_objective(X, y, ref_coef, y.mean() - X.mean(0) @ ref_coef,
                                           alpha, r)
        # Within 1e-9, or within the certified gap where tol allows more.
        rref.assert_objective_close(ours, theirs, max(1e-9, 1.001 * gap / theirs),
                                    f"alpha={alpha}")
    # Coefficients too, where the problem is well conditioned (not the far
    # end of a wide path, whose near-interpolating solutions are sensitive).
    top = path.alphas >= path.alpha_max / 100
    np.testing.assert_allclose(path.coefs[top], ref.T[top], atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(path.intercepts, y.mean() - path.coefs @ X.mean(axis=0),
                               rtol=1e-10)
    assert path.coefs.shape == (15, shape[1]) and path.n_iter.shape == (15,)


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("penalty, positive", [("l1", False), ("elasticnet", False),
                                               ("l2", False), ("l1", True)])
@pytest.mark.parametrize("shape", [(80, 25), (40, 150)], ids=["tall", "wide"])
def test_path_points_match_cold_fits(fmt, dtype, weighted, penalty, positive, shape):
    # Wide data run coordinate descent on X itself, where each alpha starts
    # from the previous one's residual and correlations (the reference).
    X, y, sw = regression_data(*shape, seed=1)
    sw = sw if weighted else None
    Xf = rref.to_format(X, fmt).astype(dtype)
    tol = 1e-8 if dtype == np.float64 else 1e-5
    path = regularization_path(Xf, y.astype(dtype), penalty=penalty, n_alphas=8, eps=1e-2,
                               sample_weight=sw, tol=tol, max_iter=100_000, positive=positive)
    assert path.coefs.dtype == dtype
    r = {"l1": 1.0, "elasticnet": 0.5, "l2": 0.0}[penalty]
    rtol = 1e-7 if dtype == np.float64 else 2e-4
    for alpha, coef, b, gap in zip(path.alphas, path.coefs, path.intercepts, path.dual_gaps):
        cold = RegularizedRegressor(penalty=penalty, alpha=alpha, tol=tol, max_iter=100_000,
                                    positive=positive)
        cold.fit(Xf, y.astype(dtype), sample_weight=sw)
        ours = rref.regression_objective(X, y, coef, b, alpha, r, sw)
        ref = rref.regression_objective(X, y, cold.coef_, cold.intercept_, alpha, r, sw)
        # Both are within their duality gap of the optimum (no gap for L2's solvers).
        certified = 0.0 if penalty == "l2" else max(gap, cold.dual_gap_) * (1 + 1e-9)
        assert abs(ours - ref) <= max(rtol * ref, certified), (alpha, ours, ref, gap)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_regressor_alpha_max_is_exact(weighted, fit_intercept, penalty):
    X, y, sw = regression_data(60, 20, seed=2)
    sw = sw if weighted else None
    r = 1.0 if penalty == "l1" else 0.5
    path = regularization_path(X, y, penalty=penalty, n_alphas=3, sample_weight=sw,
                               fit_intercept=fit_intercept, **TIGHT)
    assert path.alpha_max == pytest.approx(
        rref.alpha_max(X, y, r, fit_intercept, sw), rel=1e-12)
    assert not np.any(path.coefs[0])
    below = RegularizedRegressor(penalty=penalty, alpha=path.alpha_max * (1 - 1e-6),
                                 fit_intercept=fit_intercept, **TIGHT)
    assert np.any(below.fit(X, y, sample_weight=sw).coef_)


def test_positive_alpha_max_counts_positive_correlations_only():
    X, y, _ = regression_data(60, 20, seed=3)
    path = regularization_path(X, y, n_alphas=2, positive=True, **TIGHT)
    corr = (X - X.mean(axis=0)).T @ (y - y.mean())
    assert path.alpha_max == pytest.approx(corr.max() / len(y), rel=1e-12)
    assert not np.any(path.coefs[0])
    assert np.all(path.coefs >= 0)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_alpha_max_and_path(n_classes, weighted):
    X, y, sw = cref.make_classification_data(150, 12, n_classes=n_classes, seed=4)
    sw = sw if weighted else None
    path = regularization_path(X, y, estimator="classifier", penalty="l1", n_alphas=6,
                               eps=0.05, sample_weight=sw, tol=1e-8)
    assert path.alpha_max == pytest.approx(cref.alpha_max(X, y, 1.0, sample_weight=sw),
                                           rel=1e-10)
    assert not np.any(path.coefs[0])
    shape = (6, 12) if n_classes == 2 else (6, n_classes, 12)
    assert path.coefs.shape == shape
    classes = np.unique(y)
    for alpha, coef, b in zip(path.alphas, path.coefs, path.intercepts):
        cold = RegularizedClassifier(penalty="l1", alpha=alpha, tol=1e-8).fit(
            X, y, sample_weight=sw)
        ours = cref.classification_objective(X, y, coef, b, classes, alpha, 1.0, sw)
        ref = cref.classification_objective(X, y, cold.coef_, cold.intercept_, classes,
                                            alpha, 1.0, sw)
        assert abs(ours - ref) <= 1e-7 * ref


def test_path_two_dimensional_y():
    X, y, _ = regression_data(80, 15, seed=5)
    Y = np.column_stack([y, -2 * y + 1])
    path = regularization_path(X, Y, n_alphas=5, **TIGHT)
    assert path.coefs.shape == (5, 2, 15) and path.intercepts.shape == (5, 2)
    single = regularization_path(X, Y[:, 1], alphas=path.alphas, **TIGHT)
    np.testing.assert_allclose(path.coefs[:, 1], single.coefs, atol=1e-8)


def test_l2_path_matches_closed_form():
    X, y, _ = regression_data(70, 20, seed=6)
    path = regularization_path(X, y, penalty="l2", n_alphas=5, tol=1e-12)
    assert path.alpha_max == pytest.approx(rref.alpha_max(X, y, 1e-3, True), rel=1e-12)
    for alpha, coef in zip(path.alphas, path.coefs):
        w, _ = rref.exact_ridge(X, y, alpha)
        np.testing.assert_allclose(coef, w, rtol=1e-6, atol=1e-9)


def test_warm_starts_make_the_path_cheaper_than_cold_fits():
    X, y, _ = regression_data(100, 200, seed=7)
    path = regularization_path(X, y, penalty="l1", n_alphas=30, solver="cd")
    cold = sum(RegularizedRegressor(penalty="l1", alpha=a, solver="cd").fit(X, y).n_iter_
               for a in path.alphas)
    assert path.n_iter.sum() < 0.7 * cold


def test_path_guess_is_exact_while_the_signs_hold():
    # Between two kinks of an L1 path the solution is affine in alpha: the
    # guess from two points of such a segment is the solution at a third.
    from sklreg._solvers import path_guess
    X, y, _ = regression_data(60, 20, seed=4)
    path = regularization_path(X, y, penalty="l1", n_alphas=60, tol=1e-14, max_iter=100_000,
                               solver="cd")
    signs = np.sign(path.coefs)
    segments = [k for k in range(len(path.alphas) - 2)
                if (signs[k] == signs[k + 1]).all() and (signs[k + 1] == signs[k + 2]).all()
                and signs[k].any()]
    assert len(segments) >= 5
    for k in segments:
        a = path.alphas[k:k + 3]
        guess = path_guess(a[0], path.coefs[k], a[1], path.coefs[k + 1], a[2])
        np.testing.assert_allclose(guess, path.coefs[k + 2], rtol=1e-7, atol=1e-9)
    # A coefficient that the line would carry across zero stops there.
    guess = path_guess(1.0, np.array([1.0, 2.0]), 0.5, np.array([0.5, 3.0]), 0.0)
    np.testing.assert_array_equal(guess, [0.0, 4.0])


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_a_bad_guess_does_not_change_the_solution(fmt):
    # Whatever the guess, the solver ends at the same solution (the kernel
    # takes it only where it lowers the objective).
    X, y, _ = regression_data(40, 150, seed=5)
    Xf = rref.to_format(X, fmt)
    model = RegularizedRegressor(penalty="l1", tol=1e-12, max_iter=100_000, solver="cd")
    prepared = model._prepare(Xf, y, None)
    alpha = prepared.alpha_max(0.0) / 20
    zero = np.zeros((1, X.shape[1]))
    plain = prepared.solve(alpha, zero.copy())
    bad = 100 * np.random.RandomState(0).randn(1, X.shape[1])
    guessed = prepared.solve(alpha, zero.copy(), guess=bad)
    objectives = [rref.regression_objective(X, y, c[0], b[0], alpha, 1.0)
                  for c, b, *_ in (plain, guessed)]
    assert abs(objectives[0] - objectives[1]) <= 1e-10 * objectives[0]


def test_given_alphas_are_sorted_decreasing():
    X, y, _ = regression_data(50, 10)
    path = regularization_path(X, y, alphas=[0.01, 1.0, 0.1], **TIGHT)
    np.testing.assert_array_equal(path.alphas, [1.0, 0.1, 0.01])


def test_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    X, y, _ = regression_data(50, 4)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    assert list(regularization_path(df, y, n_alphas=3).feature_names) == ["a", "b", "c", "d"]
    assert regularization_path(X, y, n_alphas=3).feature_names is None


@pytest.mark.parametrize("kwargs, error", [
    (dict(alphas=[-1.0]), ValueError),
    (dict(alphas=[np.nan]), ValueError),
    (dict(alphas=[[1.0]]), ValueError),
    (dict(alphas=[]), ValueError),
    (dict(n_alphas=0), ValueError),
    (dict(eps=0.0), ValueError),
    (dict(estimator="tree"), ValueError),
    (dict(alpha=1.0), TypeError),
    (dict(unknown=1.0), TypeError),
    (dict(max_iter=0), ValueError),
])
def test_path_rejects_bad_arguments(kwargs, error):
    X, y, _ = regression_data(30, 5)
    with pytest.raises(error):
        regularization_path(X, y, **kwargs)


def test_path_rejects_nan_input():
    X, y, _ = regression_data(30, 5)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        regularization_path(X, y)


# --------------------------------------------------------------------------
# CV estimators against GridSearchCV and scikit-learn's CV estimators
# --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_regressor_cv_matches_grid_search(fmt, penalty):
    X, y, _ = regression_data(100, 20, seed=8)
    X = rref.to_format(X, fmt)
    folds = KFold(4, shuffle=True, random_state=0)
    tight = dict(tol=1e-13, max_iter=10**6)
    cv_model = RegularizedRegressorCV(penalty=penalty, alphas=12, cv=folds, **tight).fit(X, y)
    grid = GridSearchCV(RegularizedRegressor(penalty=penalty, **tight),
                        {"alpha": list(cv_model.alphas_)}, cv=folds).fit(X, y)
    # A duality gap of tol gives coefficients to about sqrt(tol), held-out
    # scores to the same order: equal "to solver tolerance" is atol 1e-8 here.
    for key in ["mean_test_score", "std_test_score"] + [f"split{k}_test_score" for k in range(4)]:
        np.testing.assert_allclose(cv_model.cv_results_[key], grid.cv_results_[key], atol=1e-8)
    np.testing.assert_array_equal(cv_model.cv_results_["rank_test_score"],
                                  grid.cv_results_["rank_test_score"])
    assert cv_model.alpha_ == grid.best_params_["alpha"]
    np.testing.assert_allclose(cv_model.coef_, grid.best_estimator_.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(cv_model.predict(X), grid.predict(X), rtol=1e-7)


def test_classifier_cv_matches_grid_search():
    X, y, _ = cref.make_classification_data(160, 10, n_classes=3, seed=9)
    folds = StratifiedKFold(4, shuffle=True, random_state=0)
    cv_model = RegularizedClassifierCV(penalty="elasticnet", l1_ratio=[0.3, 0.9], alphas=6,
                                       cv=folds, scoring="neg_log_loss", tol=1e-9).fit(X, y)
    grid = GridSearchCV(
        RegularizedClassifier(penalty="elasticnet", tol=1e-9),
        [{"l1_ratio": [r], "alpha": list(alphas)}
         for r, alphas in zip(cv_model.l1_ratios_, cv_model.alphas_)],
        cv=folds, scoring="neg_log_loss").fit(X, y)
    np.testing.assert_allclose(cv_model.cv_results_["mean_test_score"],
                               grid.cv_results_["mean_test_score"], rtol=1e-6)
    assert (cv_model.alpha_, cv_model.l1_ratio_) == (grid.best_params_["alpha"],
                                                     grid.best_params_["l1_ratio"])
    np.testing.assert_allclose(cv_model.predict_proba(X), grid.predict_proba(X), rtol=1e-5)


@pytest.mark.parametrize("l1_ratio", [1.0, [0.2, 0.7]])
def test_regressor_cv_matches_sklearn_lasso_and_enet_cv(l1_ratio):
    X, y, _ = regression_data(120, 25, seed=10)
    folds = KFold(5, shuffle=True, random_state=1)
    ours = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=l1_ratio, alphas=15, cv=folds,
                                  scoring="neg_mean_squared_error", tol=1e-14,
                                  max_iter=10**6).fit(X, y)
    if l1_ratio == 1.0:
        ref = LassoCV(alphas=ours.alphas_, cv=folds, tol=1e-12, max_iter=10**6).fit(X, y)
        mse = ref.mse_path_
    else:
        ref = ElasticNetCV(l1_ratio=l1_ratio, alphas=ours.alphas_[0], cv=folds, tol=1e-12,
                           max_iter=10**6).fit(X, y)
        # ElasticNetCV shares one grid across l1_ratios: redo ours on it.
        ours = clone(ours).set_params(alphas=ours.alphas_[0]).fit(X, y)
        mse = ref.mse_path_
    np.testing.assert_allclose(-ours.scores_path_, mse, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert ours.l1_ratio_ == pytest.approx(getattr(ref, "l1_ratio_", 1.0))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


def test_classifier_cv_matches_logistic_regression_cv():
    # Equal training-fold sizes make C = 1 / (n_train * alpha) one grid for every fold.
    X, y, _ = cref.make_classification_data(200, 8, seed=11)
    folds = StratifiedKFold(5, shuffle=True, random_state=2)
    ours = RegularizedClassifierCV(alphas=8, cv=folds, scoring="neg_log_loss",
                                   tol=1e-10).fit(X, y)
    n_train = 160
    Cs = 1.0 / (n_train * ours.alphas_)
    ref = LogisticRegressionCV(Cs=Cs, cv=folds, scoring="neg_log_loss", tol=1e-12,
                               max_iter=10**5, l1_ratios=(0.0,), use_legacy_attributes=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    ref_scores = np.asarray(ref.scores_).reshape(5, -1)  # (folds, Cs)
    np.testing.assert_allclose(ours.scores_path_.T, ref_scores, rtol=1e-5)
    assert 1.0 / (n_train * ours.alpha_) == pytest.approx(np.ravel(ref.C_)[0], rel=1e-10)


def test_one_standard_error_rule():
    X, y, _ = regression_data(90, 30, seed=12)
    folds = KFold(5, shuffle=True, random_state=3)
    best = RegularizedRegressorCV(penalty="l1", alphas=25, cv=folds, **TIGHT).fit(X, y)
    one_se = clone(best).set_params(refit="1se").fit(X, y)
    mean = best.cv_results_["mean_test_score"]
    i = int(np.argmax(mean))
    stderr = best.scores_path_[i].std(ddof=1) / np.sqrt(5)
    eligible = np.flatnonzero(mean >= mean[i] - stderr)
    assert best.alpha_ == best.alpha_best_ == best.alphas_[i]
    assert one_se.alpha_ == one_se.alpha_1se_ == best.alphas_[eligible[0]] == best.alpha_1se_
    assert one_se.alpha_ >= best.alpha_
    refit = RegularizedRegressor(penalty="l1", alpha=one_se.alpha_, **TIGHT).fit(X, y)
    np.testing.assert_allclose(one_se.coef_, refit.coef_, rtol=1e-8, atol=1e-10)


def test_threads_give_the_same_result():
    X, y, _ = regression_data(100, 40, seed=13)
    one = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.3, 0.8], alphas=10,
                                 n_jobs=1).fit(X, y)
    two = clone(one).set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.scores_path_, two.scores_path_)
    np.testing.assert_array_equal(one.coef_, two.coef_)


def test_cv_default_is_stratified_for_classifier():
    X, y, _ = cref.make_classification_data(100, 5, seed=14)
    model = RegularizedClassifierCV(alphas=3).fit(X, y)
    assert model.n_splits_ == 5
    ref = GridSearchCV(RegularizedClassifier(), {"alpha": list(model.alphas_)},
                       cv=StratifiedKFold(5)).fit(X, y)
    np.testing.assert_allclose(model.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"])


def test_cv_bad_l1_ratio():
    X, y, _ = regression_data(40, 5)
    with pytest.raises(ValueError, match="l1_ratio"):
        RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.5, 1.5]).fit(X, y)


def test_cv_feature_names_checked_on_predict():
    pd = pytest.importorskip("pandas")
    X, y, _ = regression_data(60, 3)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    model = RegularizedRegressorCV(alphas=4, cv=3).fit(df, y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.predict(df)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(df[["c", "b", "a"]])


# --------------------------------------------------------------------------
# read-only memory maps: what joblib hands its workers for large arrays
# --------------------------------------------------------------------------
def _readonly_memmap(tmp_path, X, order):
    path = tmp_path / f"X_{order}.npy"
    np.save(path, np.asarray(X, order=order))
    X_map = np.load(path, mmap_mode="r")
    assert not X_map.flags.writeable
    return X_map


@pytest.mark.parametrize("order, model", [
    ("F", RegularizedRegressor(penalty="l1", alpha=0.05, solver="cd")),
    ("C", RegularizedRegressor(penalty="l1", alpha=0.05, solver="cd_gram")),
    ("C", RegularizedRegressor(penalty="l2", alpha=0.05, solver="cg")),
    ("F", RegularizedRegressor(penalty="l2", alpha=0.05, solver="cg")),
    ("C", RegularizedClassifier(penalty="l2", alpha=0.01)),
    ("F", RegularizedClassifier(penalty="l2", alpha=0.01)),
])
def test_readonly_memmap_fits_without_copying_x(tmp_path, order, model):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 300))  # 9.6 MB
    y = X[:, :5].sum(axis=1) + rng.standard_normal(4000)
    if isinstance(model, RegularizedClassifier):
        y = (y > 0).astype(int)
    X_map = _readonly_memmap(tmp_path, X, order)
    ref = clone(model).fit(X, y)
    tracemalloc.start()
    fitted = clone(model).fit(X_map, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A copy of X alone would be 9.6 MB; the Gram path's block buffer is at
    # most 8 MB and the p x p matrices are under 1 MB.
    assert peak < X.nbytes, peak
    np.testing.assert_allclose(fitted.coef_, ref.coef_, rtol=1e-10, atol=1e-12)


def test_readonly_memmap_in_path_and_cv(tmp_path):
    X, y, _ = regression_data(80, 10)
    X_map = _readonly_memmap(tmp_path, X, "C")
    np.testing.assert_allclose(regularization_path(X_map, y, n_alphas=5, **TIGHT).coefs,
                               regularization_path(X, y, n_alphas=5, **TIGHT).coefs)
    model = RegularizedRegressorCV(penalty="l1", alphas=5, cv=3, **TIGHT)
    np.testing.assert_allclose(clone(model).fit(X_map, y).coef_, clone(model).fit(X, y).coef_)


# --------------------------------------------------------------------------
# scikit-learn conventions
# --------------------------------------------------------------------------
def _expected_failures(estimator):
    if isinstance(estimator, _RegularizedCV):
        # Repeating a row changes which fold it lands in, so a weighted CV
        # search is not a repeated-row one (as for LassoCV); the refit alone is.
        reason = "CV folds split rows: weights are not repetitions for the search"
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}
    return {}


@parametrize_with_checks([
    RegularizedRegressorCV(alphas=5, cv=3),
    RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.3, 0.9], alphas=4, cv=3,
                           refit="1se"),
    RegularizedClassifierCV(alphas=5, cv=3),
    RegularizedClassifierCV(penalty="l1", alphas=4, cv=3),
], expected_failed_checks=_expected_failures)
def test_sklearn_compatible_cv_estimator(estimator, check):
    check(estimator)


def test_sparse_input_stays_sparse_in_folds():
    X, y, _ = regression_data(60, 8)
    Xs = sp.csr_matrix(X)
    dense = RegularizedRegressorCV(penalty="l1", alphas=5, cv=3, **TIGHT).fit(X, y)
    sparse = RegularizedRegressorCV(penalty="l1", alphas=5, cv=3, **TIGHT).fit(Xs, y)
    np.testing.assert_allclose(sparse.scores_path_, dense.scores_path_, rtol=1e-8)


# The usual scorers are computed for every alpha at once; each must equal
# scikit-learn's scorer (forced here through make_scorer, which takes the
# general per-alpha path).
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("targets", [1, 2])
@pytest.mark.parametrize("scoring, metric, greater", [
    (None, "r2", True), ("r2", "r2", True),
    ("neg_mean_squared_error", "mean_squared_error", False)])
def test_batched_regression_scores_equal_sklearn_scorers(fmt, dtype, targets, scoring,
                                                         metric, greater):
    from sklearn import metrics
    X, y, _ = regression_data(90, 12, seed=15)
    Y = y if targets == 1 else np.column_stack([y, np.sin(y)])
    Xf = rref.to_format(X, fmt).astype(dtype)
    general = metrics.make_scorer(getattr(metrics, f"{metric}_score" if metric == "r2"
                                          else metric), greater_is_better=greater)
    common = dict(penalty="elasticnet", alphas=8, cv=3)
    fast = RegularizedRegressorCV(scoring=scoring, **common).fit(Xf, Y.astype(dtype))
    slow = RegularizedRegressorCV(scoring=general, **common).fit(Xf, Y.astype(dtype))
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(fast.scores_path_, slow.scores_path_, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("scoring", [None, "accuracy"])
def test_batched_accuracy_equals_sklearn_scorer(n_classes, scoring):
    from sklearn.metrics import accuracy_score, make_scorer
    X, codes, _ = cref.make_classification_data(120, 6, n_classes=n_classes, seed=16)
    labels = np.array(["ant", "bee", "cat"])[codes]
    common = dict(penalty="l1", alphas=8, cv=3)
    fast = RegularizedClassifierCV(scoring=scoring, **common).fit(X, labels)
    slow = RegularizedClassifierCV(scoring=make_scorer(accuracy_score), **common).fit(X, labels)
    np.testing.assert_array_equal(fast.scores_path_, slow.scores_path_)
    assert len(np.unique(fast.scores_path_)) > 2


def test_r2_of_constant_test_target_follows_sklearn():
    from sklearn.metrics import make_scorer, r2_score
    X, y, _ = regression_data(40, 5, seed=17)
    y = np.where(np.arange(40) < 20, 1.0, y)  # the first fold's target is constant
    folds = [(np.arange(20, 40), np.arange(20)), (np.arange(20), np.arange(20, 40))]
    fast = RegularizedRegressorCV(penalty="l1", alphas=5, cv=folds).fit(X, y)
    slow = RegularizedRegressorCV(penalty="l1", alphas=5, cv=folds,
                                  scoring=make_scorer(r2_score)).fit(X, y)
    np.testing.assert_allclose(fast.scores_path_, slow.scores_path_, rtol=1e-12)


@pytest.mark.parametrize("solver, builder", [("cd_gram", "_gram_and_rhs"),
                                             ("cholesky", "_gram_matrix")])
def test_path_builds_the_gram_matrix_once(monkeypatch, solver, builder):
    from sklreg import _solvers
    calls = []
    original = getattr(_solvers, builder)

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_solvers, builder, counting)
    X, y, _ = regression_data(80, 10)
    penalty = "l1" if solver == "cd_gram" else "l2"
    path = regularization_path(X, y, penalty=penalty, solver=solver, n_alphas=6, **TIGHT)
    assert len(calls) == 1
    # ... and the solutions are those of separate fits (which build their own).
    for alpha, coef in zip(path.alphas, path.coefs):
        single = RegularizedRegressor(penalty=penalty, solver=solver, alpha=alpha, **TIGHT)
        np.testing.assert_allclose(coef, single.fit(X, y).coef_, rtol=1e-8, atol=1e-10)
    assert len(calls) == 1 + len(path.alphas)


def test_cv_grids_are_the_paths_grids_for_every_l1_ratio():
    X, y, _ = regression_data(80, 15, seed=18)
    model = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.2, 0.9], alphas=6,
                                   eps=1e-2, cv=3).fit(X, y)
    for r, grid in zip(model.l1_ratios_, model.alphas_):
        path = regularization_path(X, y, penalty="elasticnet", l1_ratio=r, n_alphas=6, eps=1e-2)
        np.testing.assert_allclose(grid, path.alphas, rtol=1e-12)
    Xc, yc, _ = cref.make_classification_data(90, 6, n_classes=3, seed=19)
    clf = RegularizedClassifierCV(penalty="elasticnet", l1_ratio=[0.3, 1.0], alphas=4,
                                  cv=3).fit(Xc, yc)
    for r, grid in zip(clf.l1_ratios_, clf.alphas_):
        path = regularization_path(Xc, yc, estimator="classifier", penalty="elasticnet",
                                   l1_ratio=r, n_alphas=4)
        np.testing.assert_allclose(grid, path.alphas, rtol=1e-12)
