"""Regularization paths: one model per alpha on a decreasing grid, warm-started."""
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._classifier import RegularizedClassifier
from ._regressor import RegularizedRegressor

#: A pure L2 penalty never zeroes the coefficients, so its grid starts where
#: an elastic net with this l1_ratio would (glmnet's convention).
L2_GRID_L1_RATIO = 1e-3

_ESTIMATORS = {"regressor": RegularizedRegressor, "squared": RegularizedRegressor,
               "classifier": RegularizedClassifier, "logistic": RegularizedClassifier}


def alpha_grid(alpha_max, alphas, n_alphas, eps):
    """The path's alphas, largest first.

    ``alphas=None``: ``n_alphas`` values log-spaced from alpha_max (the
    smallest alpha whose solution is all zero) down to ``eps * alpha_max``.
    Given alphas are checked and sorted in decreasing order.
    """
    if alphas is None:
        top = alpha_max
        if not top > 0.0:
            # y is constant (or, for positive=True, anti-correlated with
            # every feature): w = 0 at every alpha; any positive grid will do.
            top = 1.0
        return np.geomspace(top, top * eps, n_alphas) if n_alphas > 1 else np.array([top])
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array; got shape {alphas.shape}.")
    if not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError("alphas must be finite and non-negative.")
    return np.sort(alphas)[::-1]


def walk_path(prepared, alphas):
    """Solve along ``alphas`` (decreasing); stacked (coefs, intercepts, n_iter, gaps)."""
    coefs, intercepts, n_iter, gaps = [], [], [], []
    for coef, intercept, iters, gap in prepared.path(alphas):
        coefs.append(coef)
        intercepts.append(intercept)
        n_iter.append(iters)
        gaps.append(np.full(coef.shape[0], np.nan) if gap is None else gap)
    return np.array(coefs), np.array(intercepts), np.array(n_iter), np.array(gaps)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "estimator": [StrOptions(set(_ESTIMATORS))],
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "alphas": ["array-like", None],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, 1, closed="right")],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def regularization_path(X, y, *, estimator="regressor", penalty="l1", l1_ratio=0.5,
                        alphas=None, n_alphas=100, eps=1e-3, sample_weight=None, **params):
    r"""Coefficients of a regularized model along a decreasing grid of alphas.

    Solves, for each alpha, the problem of :class:`RegularizedRegressor`
    (``estimator="regressor"`` or ``"squared"``) or
    :class:`RegularizedClassifier` (``"classifier"`` or ``"logistic"``)::

        data_loss(w, b) + alpha * (r * ||w||_1 + (1 - r) / 2 * ||w||_2^2)

    Each alpha starts from the previous solution.  With an L1 part, the
    coordinate-descent solvers start their working set from that solution's
    support and screen features with gap-safe rules, so the whole path costs
    a small multiple of one fit; data preparation and any Gram matrix are
    computed once.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets (regressor; 2-D for several targets) or class labels.
    estimator : {"regressor", "squared", "classifier", "logistic"}, default="regressor"
    penalty : {"l1", "l2", "elasticnet"}, default="l1"
    l1_ratio : float in [0, 1], default=0.5
        ``r`` for ``penalty="elasticnet"``.
    alphas : array-like or None, default=None
        The grid (sorted in decreasing order).  None: ``n_alphas`` values
        log-spaced from alpha_max down to ``eps * alpha_max``.  alpha_max is
        exact for each loss, penalty, weighting and intercept: the smallest
        alpha whose solution is all zero (for ``penalty="l2"``, the one of
        an elastic net with ``r = 1e-3``, as glmnet does).
    n_alphas : int, default=100
    eps : float in (0, 1], default=1e-3
    sample_weight : array-like of shape (n_samples,), default=None
    **params
        Any other parameter of the estimator (``fit_intercept``, ``max_iter``,
        ``tol``, ``positive``, ``class_weight``, ``solver``).

    Returns
    -------
    path : Bunch
        ``alphas`` (n_alphas,), decreasing; ``coefs`` (n_alphas, n_features)
        for one target or two classes, else (n_alphas, n_outputs,
        n_features); ``intercepts`` (n_alphas,) or (n_alphas, n_outputs);
        ``n_iter`` (n_alphas,); ``dual_gaps`` like ``intercepts`` (NaN where
        the solver has no duality gap: the classifier and the L2 solvers);
        ``alpha_max``; ``l1_ratio`` (the effective r); ``feature_names``
        (from a DataFrame's columns, else None).
    """
    for name in ("alpha", "warm_start"):
        if name in params:
            raise TypeError(f"regularization_path() sets {name!r} itself; do not pass it.")
    model = _ESTIMATORS[estimator](penalty=penalty, l1_ratio=l1_ratio, **params)
    model._validate_params()
    prepared = model._prepare(X, y, sample_weight)
    alpha_max = float(prepared.alpha_max(L2_GRID_L1_RATIO))
    grid = alpha_grid(alpha_max, alphas, n_alphas, eps)
    coefs, intercepts, n_iter, gaps = walk_path(prepared, grid)
    if prepared.single_target:
        coefs, intercepts, gaps = coefs[:, 0], intercepts[:, 0], gaps[:, 0]
    return Bunch(alphas=grid, coefs=coefs, intercepts=intercepts, n_iter=n_iter,
                 dual_gaps=gaps, alpha_max=alpha_max,
                 l1_ratio=float(prepared.l1_ratio),
                 feature_names=getattr(model, "feature_names_in_", None))
