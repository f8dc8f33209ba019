"""RegularizedRegressor: squared loss with an L1, L2 or elastic-net penalty."""
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _solvers
from ._base import (MemoizedParamValidation, canonical_sparse, center_problem,
                    check_finite_moments, check_finite_solution, effective_l1_ratio,
                    normalized_sample_weight, validate_regression_data)


class RegularizedRegressor(MemoizedParamValidation, RegressorMixin, BaseEstimator):
    r"""Linear regression with an L1, L2 or elastic-net penalty.

    Minimises, over the coefficients ``w`` and the intercept ``b``::

        1 / (2 n) * sum_i s_i (y_i - x_i w - b)^2
            + alpha * (r * ||w||_1 + (1 - r) / 2 * ||w||_2^2)

    where ``r = 1`` for ``penalty="l1"``, ``r = 0`` for ``"l2"`` and
    ``r = l1_ratio`` for ``"elasticnet"``, and the sample weights ``s`` are
    rescaled to sum to ``n`` (all ones without ``sample_weight``).

    Mapping to scikit-learn (same objective, same solution):
    ``Lasso(alpha=a)`` is ``penalty="l1", alpha=a``;
    ``ElasticNet(alpha=a, l1_ratio=r)`` is ``penalty="elasticnet", alpha=a,
    l1_ratio=r``; ``Ridge(alpha=A)`` is ``penalty="l2", alpha=A / n`` for
    unweighted data (``A / sum(sample_weight)`` with weights).

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"}, default="l2"
        L1 gives sparse coefficients, L2 small dense ones, elastic net a mix.
    alpha : float >= 0, default=1.0
        Regularization strength (the "lambda" of the literature).
    l1_ratio : float in [0, 1], default=0.5
        The L1 share ``r`` of the elastic-net penalty; used only when
        ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.  X is never centred in memory (sparse
        X stays sparse): the solvers centre implicitly.
    max_iter : int, default=1000
        Maximum number of full coordinate-descent sweeps, or of
        conjugate-gradient iterations.
    tol : float, default=1e-4
        Coordinate descent stops when the duality gap is at most
        ``tol * sum_i s_i (y_i - ybar)^2`` on the n-scaled objective (the
        criterion of scikit-learn's Lasso); conjugate gradient when the
        gradient norm is at most ``tol`` times its value at ``w = 0``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (coordinate descent).
    solver : {"auto", "cd", "cd_gram", "cg", "cholesky"}, default="auto"
        ``"cd"``: coordinate descent with residual updates (dense or sparse).
        ``"cd_gram"``: coordinate descent on the precomputed centred Gram
        matrix (covariance updates).  ``"cg"``: conjugate gradient on the
        fused-gradient kernel, L2 only.  ``"cholesky"``: direct solve on the
        primal (p <= n) or dual (p > n) Gram matrix, L2 and dense X only.
        ``"auto"``: for an L2-only penalty on dense X with
        ``min(n, p) <= 8192``, CG for at most ``min(n, p) // 32`` iterations
        (about the cost of forming the Gram matrix), then ``"cholesky"`` if
        CG has not converged; directly ``"cholesky"`` when that budget is
        under 8 iterations; ``"cg"`` for sparse or larger
        X.  With an L1 part (or ``positive=True``): ``"cd_gram"`` when
        ``n >= 2 p`` and ``p <= 4096``, else ``"cd"``.  ``solver_`` says
        which one ran.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Sweeps (coordinate descent) or iterations (CG) of the slowest
        target; 1 for the direct solve.
    dual_gap_ : float or ndarray of shape (n_targets,) or None
        Duality gap at the solution on the scale of the objective above
        (coordinate-descent solvers; None otherwise).
    solver_ : str
        The solver that was used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string feature names.
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "solver": [StrOptions({"auto", "cd", "cd_gram", "cg", "cholesky"})],
    }

    def __init__(self, penalty="l2", alpha=1.0, l1_ratio=0.5, fit_intercept=True,
                 max_iter=1000, tol=1e-4, warm_start=False, positive=False,
                 solver="auto"):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model; X dense or CSR/CSC sparse, y of shape (n,) or (n, k)."""
        prepared = self._prepare(X, y, sample_weight)
        coef, intercept, n_iter, gaps, solver = prepared.solve(
            self.alpha, self._initial_coef(prepared.problem))
        for name, value in prepared.fitted_attributes(coef, intercept, gaps).items():
            setattr(self, name, value)
        self.n_iter_ = int(np.max(n_iter)) if len(n_iter) else 0
        self.solver_ = solver
        return self

    def _prepare(self, X, y, sample_weight):
        """Validate and centre the data once: a problem solvable at any alpha."""
        X_in, y_in = X, y
        # The column moments read X once for its means and its finiteness.
        X, y = validate_regression_data(self, X, y, check_finite_X=False)
        X = canonical_sparse(X)
        sw = normalized_sample_weight(sample_weight, X)
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        problem = center_problem(X, Y, sw, self.fit_intercept)
        check_finite_moments(self, problem, X_in, y_in)
        return _PreparedRegression(self, problem, single_target=y.ndim == 1)

    def _initial_coef(self, problem):
        shape = (problem.Y.shape[1], problem.n_features)
        previous = getattr(self, "coef_", None)
        if self.warm_start and previous is not None:
            previous = np.reshape(previous, (-1, previous.shape[-1]))
            if previous.shape == shape:
                return np.array(previous, dtype=problem.dtype)
        return np.zeros(shape, dtype=problem.dtype)

    def predict(self, X):
        """x_i w + b for every row of X."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32], reset=False)
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class _PreparedRegression:
    """A validated, centred regression problem with the estimator's settings.

    ``fit`` solves it once; ``regularization_path`` and the CV estimators
    solve it along a grid of alphas, warm-started, so that the centring, the
    column layout and any Gram matrix are computed once (``problem.cache``).
    """

    def __init__(self, estimator, problem, single_target):
        self.problem = problem
        self.single_target = single_target
        self.positive = estimator.positive
        self.max_iter, self.tol = estimator.max_iter, estimator.tol
        self.fit_intercept = estimator.fit_intercept
        self.l1_ratio = effective_l1_ratio(estimator.penalty, estimator.l1_ratio)
        self.solver = _solvers.resolve_solver(estimator.solver, problem, self.l1_ratio,
                                              estimator.positive)

    def alpha_max(self, l1_ratio_floor):
        """The smallest alpha at which w = 0 is optimal (every target).

        With r = l1_ratio (at least ``l1_ratio_floor``, since a pure L2
        penalty never zeroes w), w = 0 solves the problem iff
        |xc_j . S yc| <= n alpha r for all j (only positive correlations
        count under positive=True).
        """
        corr = self.problem.xt_centered_targets(np.float64)
        top = corr.max(initial=0.0) if self.positive else np.abs(corr).max(initial=0.0)
        return top / (self.problem.n_samples * max(self.l1_ratio, l1_ratio_floor))

    def path(self, alphas):
        """Solve at each alpha in turn, each from the previous solution.

        Yields (coef (k, p), intercept (k,), n_iter, gaps (k,) or None).
        """
        problem = self.problem
        problem.reuse = True
        coef = np.zeros((problem.Y.shape[1], problem.n_features), dtype=problem.dtype)
        last_alpha, before = None, None  # before: (alpha, coef) one point earlier
        # Only coordinate descent takes a guess (the L2 solvers start from coef).
        guessing = self.solver in ("cd", "cd_gram")
        for alpha in alphas:
            guess = None if before is None or not guessing else _solvers.path_guess(
                *before, last_alpha, coef, alpha)
            solved, intercept, n_iter, gaps, _ = self.solve(alpha, coef.copy(), guess)
            if last_alpha is not None:
                before = (last_alpha, coef)
            coef, last_alpha = solved, alpha
            yield coef, intercept, int(np.max(n_iter, initial=0)), gaps

    def fitted_attributes(self, coef, intercept, gaps=None):
        """coef_, intercept_ and dual_gap_ in the estimator's shapes."""
        if self.single_target:
            return {"coef_": coef[0], "intercept_": intercept[0],
                    "dual_gap_": None if gaps is None else float(gaps[0])}
        return {"coef_": coef, "intercept_": intercept, "dual_gap_": gaps}

    def solve(self, alpha, coef, guess=None):
        """(coef (k, p), intercept (k,), n_iter per target, gaps or None, solver).

        coef is the starting point; ``guess`` an optional second one that
        coordinate descent takes if it is better (see _solvers.path_guess).
        """
        problem = self.problem
        dtype = problem.dtype
        coef, n_iter, gaps, solver = _solvers.solve(
            problem, self.solver, coef, alpha, self.l1_ratio, self.positive,
            self.max_iter, self.tol, guess)
        coef = np.asarray(coef, dtype=dtype)
        check_finite_solution(solver, dtype, coef)
        intercept = (problem.y_mean - np.einsum("kj,j->k", coef.astype(np.float64, copy=False),
                                                problem.x_mean.astype(np.float64, copy=False))
                     if self.fit_intercept else np.zeros(problem.Y.shape[1]))
        return coef, intercept.astype(dtype), n_iter, gaps, solver
