"""RegularizedClassifier: logistic / multinomial loss with an L1, L2 or elastic-net penalty."""
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils._encode import _unique
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from . import _logistic_solvers as solvers
from ._base import (MemoizedParamValidation, canonical_sparse, check_finite_solution, class_sample_weight,
                    effective_l1_ratio, normalized_sample_weight)


class RegularizedClassifier(MemoizedParamValidation, LinearClassifierMixin, ClassifierMixin,
                            BaseEstimator):
    r"""Logistic (binary) or multinomial regression with an L1, L2 or elastic-net penalty.

    Minimises, over the coefficients ``W`` and intercepts ``b``::

        1 / n * sum_i s_i * logloss(y_i, x_i W^T + b)
            + alpha * (r * ||W||_1 + (1 - r) / 2 * ||W||_2^2)

    with ``r = 1`` for ``penalty="l1"``, ``r = 0`` for ``"l2"`` and
    ``r = l1_ratio`` for ``"elasticnet"`` (the same ``alpha`` and ``r`` as
    :class:`RegularizedRegressor`, so one grid serves both).  ``s_i`` is
    ``sample_weight_i * class_weight[y_i]``, rescaled to sum to ``n``.
    Two classes use one coefficient vector and the logistic loss; three or
    more the multinomial (softmax) loss, for every penalty.  Intercepts are
    not penalized.

    Mapping to scikit-learn's ``LogisticRegression``: ``C = 1 / (n * alpha)``
    for unweighted data (``1 / (alpha * sum_i s'_i)`` with weights
    ``s'_i = sample_weight_i * class_weight[y_i]``), ``l1_ratio`` as ``r``.

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"}, default="l2"
    alpha : float >= 0, default=1.0
    l1_ratio : float in [0, 1], default=0.5
        Used only when ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Outer iterations: L-BFGS iterations, or proximal Newton steps (each
        covering every class).
    tol : float, default=1e-4
        Stop when the largest optimality violation (gradient, or distance
        of the negative gradient to the L1 subdifferential) is at most
        ``tol`` times its value at ``W = 0`` with the best intercept.
    class_weight : dict, "balanced" or None, default=None
    warm_start : bool, default=False
    solver : {"auto", "lbfgs", "newton-cd"}, default="auto"
        ``"lbfgs"``: L-BFGS on the fused loss-and-gradient kernel, L2 only.
        ``"newton-cd"``: proximal Newton, any penalty; each Newton step is
        solved by coordinate descent, or, for an L2-only binary problem, by
        conjugate gradient on the fused kernel (Newton-CG).  ``"auto"``:
        ``"lbfgs"`` for multinomial L2, ``"newton-cd"`` otherwise.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
    solver_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "solver": [StrOptions({"auto", "lbfgs", "newton-cd"})],
    }

    def __init__(self, penalty="l2", alpha=1.0, l1_ratio=0.5, fit_intercept=True,
                 max_iter=1000, tol=1e-4, class_weight=None, warm_start=False,
                 solver="auto"):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit on X (dense or CSR/CSC sparse) and labels y of any type."""
        prepared = self._prepare(X, y, sample_weight)
        W, b, n_iter, solver = prepared.solve(
            self.alpha, *self._initial_coef(prepared))
        for name, value in prepared.fitted_attributes(W, b).items():
            setattr(self, name, value)
        self.n_iter_ = n_iter
        self.solver_ = solver
        return self

    def _prepare(self, X, y, sample_weight):
        """Validate and encode the data once: a problem solvable at any alpha."""
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32])
        check_classification_targets(y)
        X = canonical_sparse(X)
        # Sorted classes and each label's index, in one pass (LabelEncoder's
        # fit then transform sort y twice).
        classes, y_index = _unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"This solver needs samples of at least 2 classes in the data, but the "
                f"data contain only one class: {classes[0]!r}.")
        r = effective_l1_ratio(self.penalty, self.l1_ratio)
        solver = self._resolve_solver(r, len(classes))
        sw = normalized_sample_weight(class_sample_weight(
            sample_weight, X, classes[y_index], classes, self.class_weight), X)
        problem = solvers.LogisticProblem(X, y_index, len(classes), sw, self.fit_intercept)
        return _PreparedClassification(problem, classes, r, solver, self.max_iter, self.tol)

    def _resolve_solver(self, r, n_classes):
        if self.solver == "lbfgs" and r != 0.0:
            raise ValueError("solver='lbfgs' handles the L2 penalty only (penalty='l2' or "
                             "l1_ratio=0); use solver='newton-cd' for an L1 part.")
        if self.solver == "auto":
            # Measured (see benchmarks/RESULTS.md): Newton-CG beats L-BFGS on
            # binary L2 problems; multinomial L2 stays with L-BFGS.
            return "lbfgs" if r == 0.0 and n_classes > 2 else "newton-cd"
        return self.solver

    def _initial_coef(self, prepared):
        problem = prepared.problem
        previous = getattr(self, "coef_", None)
        if (self.warm_start and previous is not None
                and previous.shape == (problem.n_blocks, problem.n_features)
                and np.array_equal(getattr(self, "classes_", None), prepared.classes)):
            return (np.array(previous, dtype=problem.dtype),
                    np.array(self.intercept_, dtype=problem.dtype))
        return solvers.null_model(problem)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return log_softmax(scores, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _PreparedClassification:
    """A validated, encoded classification problem with the estimator's settings.

    ``fit`` solves it once; ``regularization_path`` and the CV estimators
    solve it along a grid of alphas, warm-started.
    """

    def __init__(self, problem, classes, l1_ratio, solver, max_iter, tol):
        self.problem, self.classes = problem, classes
        # Two classes: one coefficient vector (coef_ of shape (1, p)).
        self.single_target = not problem.multinomial
        self.l1_ratio, self.solver = l1_ratio, solver
        self.max_iter, self.tol = max_iter, tol

    def alpha_max(self, l1_ratio_floor):
        """The smallest alpha at which W = 0 (with the best intercept) is optimal.

        There the gradient G of the data term satisfies |G_kj| <= alpha r for
        every entry (r at least ``l1_ratio_floor``).
        """
        _, grad_W, _ = self.problem.loss_gradient(*solvers.null_model(self.problem), 0.0)
        top = np.abs(np.asarray(grad_W, dtype=np.float64)).max(initial=0.0)
        return top / max(self.l1_ratio, l1_ratio_floor)

    def path(self, alphas):
        """Solve at each alpha in turn, each from the previous solution.

        Yields (coef (K, p), intercept (K,), n_iter, None): no duality gap.
        """
        W, b = solvers.null_model(self.problem)
        for alpha in alphas:
            W, b, n_iter, _ = self.solve(alpha, W, b)
            yield W, b, n_iter, None

    def fitted_attributes(self, coef, intercept, gaps=None):
        """classes_, coef_ and intercept_ in the estimator's shapes."""
        return {"classes_": self.classes, "coef_": coef, "intercept_": intercept}

    def solve(self, alpha, W, b):
        """(coef (K, p), intercept (K,), n_iter, solver) from the start (W, b)."""
        problem = self.problem
        if self.solver == "lbfgs":
            W, b, n_iter = solvers.lbfgs(problem, W, b, alpha, self.max_iter, self.tol)
        else:
            W, b, n_iter = solvers.newton_cd(problem, W, b, alpha, self.l1_ratio,
                                             self.max_iter, self.tol)
        check_finite_solution(self.solver, problem.dtype, W, b)
        intercept = np.asarray(b, dtype=problem.dtype) if problem.fit_intercept \
            else np.zeros(problem.n_blocks, dtype=problem.dtype)
        return np.asarray(W, dtype=problem.dtype), intercept, int(n_iter), self.solver
