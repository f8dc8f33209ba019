"""Cross-validated choice of alpha (and l1_ratio) on warm-started paths."""
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import (BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context,
                          is_classifier)
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._base import MemoizedParamValidation, effective_l1_ratio
from ._classifier import RegularizedClassifier
from ._path import L2_GRID_L1_RATIO, alpha_grid
from ._regressor import RegularizedRegressor


class _RegularizedCV(MemoizedParamValidation, BaseEstimator):
    """Shared machinery of RegularizedRegressorCV and RegularizedClassifierCV.

    For every l1_ratio and every fold, the base estimator's problem is solved
    along the alpha grid (largest first, each alpha warm-started from the
    previous one) and each solution is scored on the held-out fold.  The
    grid point with the best mean score is ``alpha_best_``; ``alpha_1se_`` is
    the largest alpha (same l1_ratio) whose mean score is within one
    standard error of that best (glmnet's one-standard-error rule).  The
    base estimator is then refitted on all the data at ``alpha_``.
    """

    _base_class = None  # set by the subclasses
    _base_params = ()  # the base estimator's parameters the CV estimator forwards

    _parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="right")],
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "refit": [StrOptions({"best", "1se"})],
        "verbose": ["verbose"],
    }

    @staticmethod
    def _with_base_constraints(base_class, names):
        """The CV parameters' constraints plus the forwarded base parameters'."""
        return {**_RegularizedCV._parameter_constraints,
                **{name: base_class._parameter_constraints[name] for name in names}}

    def __init__(self, *, alphas, eps, penalty, l1_ratio, cv, scoring, n_jobs, refit,
                 verbose, fit_intercept, max_iter, tol, solver):
        self.alphas = alphas
        self.eps = eps
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.verbose = verbose
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _base_estimator(self, **params):
        own = {name: getattr(self, name) for name in self._base_params}
        return self._base_class(penalty=self.penalty, **own, **params)

    def _l1_ratios(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        if ratios.ndim != 1 or ratios.size == 0:
            raise ValueError("l1_ratio must be a float or a non-empty 1-D list of floats.")
        if np.any(~np.isfinite(ratios)) or np.any((ratios < 0) | (ratios > 1)):
            raise ValueError(f"l1_ratio values must lie in [0, 1]; got {ratios}.")
        if self.penalty != "elasticnet":
            # l1 and l2 fix r: one grid, whatever l1_ratio holds.
            return np.array([effective_l1_ratio(self.penalty, 0.5)])
        return ratios

    def _grids(self, X, y, sample_weight, l1_ratios):
        """One alpha grid per l1_ratio, from the full data (shared by all folds)."""
        if not isinstance(self.alphas, Integral):
            grid = alpha_grid(None, self.alphas, None, None)
            return np.tile(grid, (len(l1_ratios), 1))
        # alpha_max is (largest data-gradient entry at w = 0) / r: one pass over the
        # data serves every l1_ratio.
        prepared = self._base_estimator(l1_ratio=l1_ratios[0])._prepare(X, y, sample_weight)
        top = prepared.alpha_max(L2_GRID_L1_RATIO) * max(prepared.l1_ratio, L2_GRID_L1_RATIO)
        return np.array([alpha_grid(top / max(r, L2_GRID_L1_RATIO), None, self.alphas, self.eps)
                         for r in l1_ratios])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose alpha (and l1_ratio) by cross-validation, then refit on all data.

        ``groups`` is passed to the splitter (e.g. GroupKFold).  The
        held-out scores are unweighted, as in GridSearchCV.
        """
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], multi_output=not is_classifier(self),
                             y_numeric=not is_classifier(self))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        l1_ratios = self._l1_ratios()
        grids = self._grids(X, y, sample_weight, l1_ratios)
        cv = check_cv(self.cv, y, classifier=is_classifier(self))
        folds = list(cv.split(X, y, groups))
        check_scoring(self._base_estimator(), scoring=self.scoring)  # fail early
        # The kernels release the GIL: threads share X and use both cores.  BLAS
        # then runs single-threaded, so that folds do not oversubscribe the cores
        # (measured on 2 cores, 200 x 20000: n_jobs=2 took 0.64x the speed of
        # n_jobs=1 with OpenBLAS's own threads on top).
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads", verbose=self.verbose)
        blas = threadpool_limits(limits=1, user_api="blas") \
            if effective_n_jobs(self.n_jobs) > 1 else nullcontext()
        with blas:
            scores = parallel(
                delayed(_fold_scores)(self._base_estimator(l1_ratio=r), X, y, sample_weight,
                                      train, test, grid, self.scoring)
                for r, grid in zip(l1_ratios, grids) for train, test in folds)
        # (n_l1_ratios, n_alphas, n_folds)
        scores = np.array(scores).reshape(len(l1_ratios), len(folds), -1).transpose(0, 2, 1)
        self._store_search(l1_ratios, grids, scores)
        self.best_estimator_ = self._base_estimator(l1_ratio=self.l1_ratio_, alpha=self.alpha_)
        self.best_estimator_.fit(X, y, sample_weight=sample_weight)
        for name in ("coef_", "intercept_", "n_iter_", "classes_", "dual_gap_"):
            if hasattr(self.best_estimator_, name):
                setattr(self, name, getattr(self.best_estimator_, name))
        return self

    def _store_search(self, l1_ratios, grids, scores):
        n_ratios, n_alphas, n_folds = scores.shape
        mean = scores.mean(axis=2)
        std = scores.std(axis=2)
        flat_mean = mean.ravel()
        # Ties go to the first grid point: the larger alpha, the first l1_ratio.
        best = int(np.flatnonzero(flat_mean == np.nanmax(flat_mean))[0]) \
            if np.any(np.isfinite(flat_mean)) else 0
        i_best, j_best = divmod(best, n_alphas)
        stderr = scores[i_best, j_best].std(ddof=1) / np.sqrt(n_folds) if n_folds > 1 else 0.0
        within = np.flatnonzero(mean[i_best] >= mean[i_best, j_best] - stderr)
        # grids are decreasing: the first index within one stderr is the largest alpha.
        j_1se = int(within[0]) if within.size else j_best
        self.l1_ratios_ = l1_ratios
        self.alphas_ = grids[0] if n_ratios == 1 else grids
        self.scores_path_ = scores[0] if n_ratios == 1 else scores
        self.n_splits_ = n_folds
        self.l1_ratio_ = float(l1_ratios[i_best])
        self.alpha_best_ = float(grids[i_best, j_best])
        self.alpha_1se_ = float(grids[i_best, j_1se])
        self.alpha_ = self.alpha_best_ if self.refit == "best" else self.alpha_1se_
        self.best_index_ = best if self.refit == "best" else i_best * n_alphas + j_1se
        self.best_score_ = float(flat_mean[self.best_index_])
        ranks = np.empty(flat_mean.size, dtype=np.int32)
        order = np.argsort(-np.nan_to_num(flat_mean, nan=-np.inf), kind="stable")
        ranks[order] = np.arange(1, flat_mean.size + 1)
        params_alpha = grids.ravel()
        params_ratio = np.repeat(l1_ratios, n_alphas)
        self.cv_results_ = {
            "param_alpha": params_alpha,
            "param_l1_ratio": params_ratio,
            "params": [{"alpha": float(a), "l1_ratio": float(r)}
                       for r, a in zip(params_ratio, params_alpha)],
            "mean_test_score": flat_mean,
            "std_test_score": std.ravel(),
            "rank_test_score": ranks,
            **{f"split{k}_test_score": scores[:, :, k].ravel() for k in range(n_folds)},
        }

    def _checked(self, X):
        # Checked against this estimator's n_features_in_ / feature_names_in_
        # (best_estimator_ was fitted on the validated array).
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], reset=False)

    def predict(self, X):
        """The refitted model's predictions."""
        X = self._checked(X)
        return self.best_estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _fold_scores(model, X, y, sample_weight, train, test, alphas, scoring):
    """Scores on ``test`` of the path fitted on ``train``, one per alpha."""
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    y_train, y_test = _safe_indexing(y, train), _safe_indexing(y, test)
    sw = None if sample_weight is None else sample_weight[train]
    prepared = model._prepare(X_train, y_train, sw)
    batch = _BATCH_SCORES.get((scoring, is_classifier(model)))
    if batch is not None:
        # One product for every alpha's decision values, scored with numpy.
        coefs, intercepts = zip(*((coef, intercept) for coef, intercept, _, _ in
                                  prepared.path(alphas)))
        decision = np.asarray(X_test @ np.concatenate(coefs).T, dtype=np.float64)
        decision += np.concatenate(intercepts)
        decision = decision.reshape(X_test.shape[0], len(alphas), -1)
        return list(batch(decision, y_test, prepared))
    scorer = check_scoring(model, scoring=scoring)
    scores = []
    for coef, intercept, _, gaps in prepared.path(alphas):
        for name, value in prepared.fitted_attributes(coef, intercept, gaps).items():
            setattr(model, name, value)
        scores.append(scorer(model, X_test, y_test))
    return scores


# Held-out scores of every alpha at once, from decision values D of shape
# (n_test, n_alphas, n_outputs), for the usual scorers: scikit-learn's
# scorer per alpha costs more than the path itself on small folds (input
# validation on every call).  Each equals its scorer (tested); any other
# scoring goes through scikit-learn's scorer.
def _r2_scores(D, y, prepared):
    Y = np.asarray(y, dtype=np.float64).reshape(len(y), 1, -1)
    residual = ((Y - D) ** 2).sum(axis=0)
    total = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    # scikit-learn's convention for a constant target: 1 if predicted
    # exactly, else 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                      np.where(residual == 0, 1.0, 0.0))
    return r2.mean(axis=1)


def _neg_mse_scores(D, y, prepared):
    Y = np.asarray(y, dtype=np.float64).reshape(len(y), 1, -1)
    return -((Y - D) ** 2).mean(axis=0).mean(axis=1)


def _accuracy_scores(D, y, prepared):
    if D.shape[2] == 1:
        predicted = (D[:, :, 0] > 0).astype(int)
    else:
        predicted = D.argmax(axis=2)
    return (prepared.classes[predicted] == np.asarray(y)[:, None]).mean(axis=0)


_BATCH_SCORES = {
    (None, False): _r2_scores, ("r2", False): _r2_scores,
    ("neg_mean_squared_error", False): _neg_mse_scores,
    (None, True): _accuracy_scores, ("accuracy", True): _accuracy_scores,
}


_SHARED_DOC = """
    Parameters
    ----------
    alphas : int or array-like, default=100
        The grid: a count of values log-spaced from alpha_max (the smallest
        alpha with all-zero coefficients, computed on all the data) down to
        ``eps * alpha_max``, one grid per l1_ratio; or the values themselves
        (sorted in decreasing order).
    eps : float in (0, 1], default=1e-3
    penalty : {"l1", "l2", "elasticnet"}, default="l2"
    l1_ratio : float or list of floats, default=0.5
        For ``penalty="elasticnet"``: the l1_ratio values, searched jointly
        with alpha.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn: None is 5 folds (stratified for a classifier).
    scoring : str, callable or None, default=None
        A scikit-learn scorer; None is the estimator's ``score``.
    n_jobs : int or None, default=None
        Folds (and l1_ratios) run in parallel with joblib, in threads by
        default (the compiled kernels release the GIL); a joblib backend set
        by the caller (e.g. dask) takes precedence.
    refit : {"best", "1se"}, default="best"
        "best": the grid point with the best mean score.  "1se": the largest
        alpha (at the best l1_ratio) whose mean score is within one standard
        error (std with ddof=1 over the folds, / sqrt(n_folds)) of the best.
    verbose : int, default=0
"""

_SHARED_ATTRIBUTES = """
    Attributes
    ----------
    alpha_, l1_ratio_ : float
        The chosen point (by ``refit``).
    alpha_best_, alpha_1se_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    scores_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        Held-out scores (greater is better).
    cv_results_ : dict
        As GridSearchCV's: ``param_alpha``, ``param_l1_ratio``, ``params``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score`` and
        ``split{k}_test_score``, l1_ratio outer, alpha inner.
    best_index_ : int
    best_score_ : float
    n_splits_ : int
    best_estimator_ : the base estimator refitted on all the data at ``alpha_``.
    coef_, intercept_, n_iter_ : as the base estimator's.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
"""


class RegularizedRegressorCV(RegressorMixin, _RegularizedCV):
    __doc__ = (
        """:class:`RegularizedRegressor` with alpha (and l1_ratio) chosen by cross-validation.

    Every fold solves the whole alpha path, warm-started, on its training
    part; the held-out scores choose the point; the model is refitted on all
    the data.  The objective is :class:`RegularizedRegressor`'s.
"""
        + _SHARED_DOC
        + """    fit_intercept, max_iter, tol, positive, solver
        As in :class:`RegularizedRegressor`.
"""
        + _SHARED_ATTRIBUTES
        + """    dual_gap_ : float, ndarray or None
"""
    )

    _base_class = RegularizedRegressor
    _base_params = ("fit_intercept", "max_iter", "tol", "positive", "solver")
    _parameter_constraints = _RegularizedCV._with_base_constraints(_base_class, _base_params)

    def __init__(self, *, alphas=100, eps=1e-3, penalty="l2", l1_ratio=0.5, cv=None,
                 scoring=None, n_jobs=None, refit="best", verbose=0, fit_intercept=True,
                 max_iter=1000, tol=1e-4, positive=False, solver="auto"):
        super().__init__(alphas=alphas, eps=eps, penalty=penalty, l1_ratio=l1_ratio, cv=cv,
                         scoring=scoring, n_jobs=n_jobs, refit=refit, verbose=verbose,
                         fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                         solver=solver)
        self.positive = positive

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class RegularizedClassifierCV(ClassifierMixin, _RegularizedCV):
    __doc__ = (
        """:class:`RegularizedClassifier` with alpha (and l1_ratio) chosen by cross-validation.

    Every fold (stratified by default) solves the whole alpha path,
    warm-started, on its training part; the held-out scores choose the point;
    the model is refitted on all the data.  The objective is
    :class:`RegularizedClassifier`'s.
"""
        + _SHARED_DOC
        + """    fit_intercept, max_iter, tol, class_weight, solver
        As in :class:`RegularizedClassifier`.
"""
        + _SHARED_ATTRIBUTES
        + """    classes_ : ndarray of shape (n_classes,)
"""
    )

    _base_class = RegularizedClassifier
    _base_params = ("fit_intercept", "max_iter", "tol", "class_weight", "solver")
    _parameter_constraints = _RegularizedCV._with_base_constraints(_base_class, _base_params)

    def __init__(self, *, alphas=100, eps=1e-3, penalty="l2", l1_ratio=0.5, cv=None,
                 scoring=None, n_jobs=None, refit="best", verbose=0, fit_intercept=True,
                 max_iter=1000, tol=1e-4, class_weight=None, solver="auto"):
        super().__init__(alphas=alphas, eps=eps, penalty=penalty, l1_ratio=l1_ratio, cv=cv,
                         scoring=scoring, n_jobs=n_jobs, refit=refit, verbose=verbose,
                         fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                         solver=solver)
        self.class_weight = class_weight

    def decision_function(self, X):
        X = self._checked(X)
        return self.best_estimator_.decision_function(X)

    def predict_proba(self, X):
        X = self._checked(X)
        return self.best_estimator_.predict_proba(X)

    def predict_log_proba(self, X):
        X = self._checked(X)
        return self.best_estimator_.predict_log_proba(X)
