"""Solvers for the logistic / multinomial objective

    F(W, b) = 1/n sum_i s_i loss(y_i, x_i W^T + b) + alpha (r ||W||_1 + (1-r)/2 ||W||^2)

- ``lbfgs``: L-BFGS on the fused loss-and-gradient kernel (L2 only); if its
  line search stalls above tol, proximal Newton polishes the result.
- ``newton_cd``: proximal Newton.  Each step minimises a quadratic model of
  the loss plus the exact penalty, then a backtracking line search on F
  guarantees descent.  Binary: the model is a weighted least-squares problem
  (weights s_i h_i / n, working response eta - g / h) solved by the
  regressor's coordinate-descent kernel.  Multinomial: the model keeps the
  full per-sample Hessian diag(p) - p p^T across classes and is solved by
  ``_logistic.multinomial_newton_step``.  With an L1 part each step moves
  only a working set of features (the support plus the worst violators,
  see ``working_set``), so its inner solve, and X d for the line search,
  cost n x |set| instead of n x p; optimality is judged on all features.

``tol`` (both solvers): stop when the largest optimality violation
(gradient, or distance of -gradient to the L1 subdifferential, over W and b)
is at most ``tol`` times its value at W = 0 with the best intercept.
"""
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning

from ._base import (CSC, CSR, empty_like_dtype, kernel_layout, to_csc,
                    weighted_column_means, xt_dot)
from ._solvers import GRAM_MAX_FEATURES, GRAM_MIN_ROWS_PER_FEATURE, cg_preconditioner
from ._core import _cd, _fused, _gram, _logistic

#: Floor on the Newton weights p (1 - p): keeps the working response finite
#: on points the model already fits with near certainty.
MIN_CURVATURE = 1e-10
LINE_SEARCH_STEPS = 30
#: A predicted decrease smaller than this (relative to F) is below what the
#: objective can resolve; at most MAX_UNRESOLVED_STEPS such full Newton steps
#: in a row are taken before the solver declares a stall.
RESOLVABLE = 1e-15
MAX_UNRESOLVED_STEPS = 5
#: Share of non-zero coefficients from which a tall dense inner solve pays
#: for the weighted Gram matrix.
GRAM_SUPPORT_FRACTION = 0.25
ARMIJO = 1e-4
#: Finest inner duality-gap tolerance (relative) of a Newton step: about
#: what coordinate descent resolves in float64.
INNER_TOL_MIN = 1e-16
#: Smallest working set of a Newton step with an L1 part, absolute and as a
#: share of the features violating their zero condition (see working_set).
WORKING_SET_MIN = 10
WORKING_SET_VIOLATOR_SHARE = 1 / 16


class LogisticProblem:
    """X, class indices and weights, in the layouts the kernels want."""

    def __init__(self, X, y_index, n_classes, sw, fit_intercept):
        self.X = X
        self.dtype = X.dtype
        self.n_samples, self.n_features = X.shape
        self.y = np.ascontiguousarray(y_index, dtype=np.intc)
        self.n_classes = n_classes
        self.multinomial = n_classes > 2
        self.n_blocks = n_classes if self.multinomial else 1
        self.weighted = sw is not None
        self.sw = sw if sw is not None else empty_like_dtype(self.dtype)
        self.fit_intercept = fit_intercept
        # The loss / gradient kernels read rows or columns alike: X stays as given.
        self.layout = kernel_layout(X)
        self._by_columns = None
        self.null_violation = None  # see violation_scale

    def columns(self, features=None):
        """X, or its columns ``features`` (sorted), laid out by columns for
        coordinate descent: Fortran-ordered dense or CSC.

        The full column layout is made once and kept; a working set of dense
        columns is gathered straight from X (no full Fortran copy needed).
        """
        sparse = sp.issparse(self.X)
        if features is None or sparse:
            if self._by_columns is None:
                self._by_columns = to_csc(self.X) if sparse else np.asfortranarray(self.X)
            if features is None:
                return self._by_columns
            return self._by_columns[:, features]
        return np.asfortranarray(self.X[:, features])

    def loss_gradient(self, W, b, l2):
        """(F_smooth, grad_W, grad_b): data term plus l2/2 ||W||^2."""
        grad_W = np.empty_like(W)
        grad_b = np.empty_like(b)
        value = _logistic.loss_gradient(*self.layout, self.y, self.sw, self.weighted,
                                        W, b, self.multinomial, l2, grad_W, grad_b)
        return value, grad_W, grad_b

    def gradient_from_logits(self, grad_eta, W, l2):
        """(grad_W, grad_b) of the data term plus l2/2 ||W||^2, given the
        derivative grad_eta (n x K) of the data term with respect to the
        logits: a single X^T product, where ``loss_gradient`` would also
        recompute the logits the Newton iteration already holds."""
        # Once coordinate descent has made the CSC copy of sparse X, X^T v
        # reads it by columns (a gather per feature), not CSR rows (a scatter
        # into all p outputs): measured 1.1 against 1.7 ms on the sparse
        # 20000 x 50000 benchmark problem.
        X = self._by_columns if sp.issparse(self._by_columns) else self.X
        grad_W = xt_dot(X, grad_eta).T + l2 * W
        return (grad_W.astype(self.dtype, copy=False),
                grad_eta.sum(axis=0).astype(self.dtype))

    def logits(self, W, b):
        return linear_predictor(self.X, W, b)

    def data_loss(self, eta):
        """1/n sum_i s_i loss_i from the logits (float64)."""
        eta = eta.astype(np.float64, copy=False)
        if self.multinomial:
            losses = logsumexp(eta, axis=1) - eta[np.arange(self.n_samples), self.y]
        else:
            t = np.where(self.y == 1, 1.0, -1.0)
            losses = -log_expit(t * eta[:, 0])
        if self.weighted:
            losses = losses * self.sw
        return float(losses.sum()) / self.n_samples

    def intercept_only(self):
        """The optimal intercept when W = 0 (weighted class log-odds)."""
        weights = self.sw.astype(np.float64) if self.weighted else np.ones(self.n_samples)
        freq = np.bincount(self.y, weights=weights, minlength=self.n_classes)
        freq = np.maximum(freq / freq.sum(), 1e-12)
        if not self.multinomial:
            return np.array([np.log(freq[1] / freq[0])])
        log_freq = np.log(freq)
        return log_freq - log_freq.mean()


def linear_predictor(X, W, b):
    """X W^T + b, shape (n_samples, len(b)), in X's dtype."""
    out = np.empty((X.shape[0], W.shape[0]), dtype=X.dtype)
    return _logistic.linear_predictor(*kernel_layout(X), W, b, out)


def optimality_violation(grad_W, grad_b, W, l1, fit_intercept):
    """Max over coordinates of the distance from -grad to the L1 subdifferential.

    grad_W includes the smooth part of the penalty; l1 = alpha * r.
    """
    viol = np.where(W != 0, np.abs(grad_W + l1 * np.sign(W)),
                    np.maximum(np.abs(grad_W) - l1, 0.0))
    worst = float(np.max(viol, initial=0.0))
    if fit_intercept:
        worst = max(worst, float(np.max(np.abs(grad_b), initial=0.0)))
    return worst


def null_model(problem):
    """(W = 0, the best intercept for it): every fit's start, and where tol
    and alpha_max are measured."""
    W0 = np.zeros((problem.n_blocks, problem.n_features), dtype=problem.dtype)
    b0 = problem.intercept_only() if problem.fit_intercept else np.zeros(problem.n_blocks)
    return W0, b0.astype(problem.dtype)


def violation_scale(problem, null_gradient=None):
    """The violation at W = 0 with the best intercept: what tol is relative to.

    It does not depend on alpha, so the problem keeps it (a path solves many
    alphas); ``null_gradient`` = (grad_W, grad_b) at that point spares the
    gradient pass when the caller already has it.
    """
    if problem.null_violation is None:
        W0, b0 = null_model(problem)
        if null_gradient is None:
            _, *null_gradient = problem.loss_gradient(W0, b0, 0.0)
        scale = optimality_violation(*null_gradient, W0, 0.0, problem.fit_intercept)
        problem.null_violation = scale if scale > 0 else 1.0
    return problem.null_violation


def _warn(message):
    warnings.warn(message, ConvergenceWarning, stacklevel=4)


def lbfgs(problem, W, b, alpha, max_iter, tol):
    """L2-penalised fit by L-BFGS; returns (W, b, n_iter).

    With an intercept, L-BFGS works on (W, c) with c = b + W m (m: weighted
    column means of X): the logits x W^T + b = (x - m) W^T + c, so the
    intercepts no longer trade off against the feature means, which makes
    the problem far better conditioned on uncentred X.  X is never centred:
    b = c - W m goes to the kernel, and the chain rule gives
    dF/dW = grad_W - grad_b m^T, dF/dc = grad_b.
    """
    K, p = W.shape
    l2 = alpha
    n_w = K * p
    gtol = tol * violation_scale(problem)
    fit_b = problem.fit_intercept
    if fit_b:
        weights = problem.sw if problem.weighted else np.ones(problem.n_samples, problem.dtype)
        m = weighted_column_means(problem.X, weights)
    else:
        m = np.zeros(p)
    # |grad_W| <= |dF/dW| + |grad_b| |m|: L-BFGS's gtol that keeps the
    # violation in the original coordinates within gtol.
    inner_gtol = gtol / (1.0 + float(np.max(np.abs(m), initial=0.0)))

    def unpack(theta):
        W_ = theta[:n_w].reshape(K, p)
        b_ = theta[n_w:] - W_ @ m if fit_b else np.zeros(K)
        return (np.ascontiguousarray(W_, dtype=problem.dtype),
                np.ascontiguousarray(b_, dtype=problem.dtype))

    def fun(theta):
        value, gW, gb = problem.loss_gradient(*unpack(theta), l2)
        if not fit_b:
            return value, gW.ravel().astype(np.float64)
        gb = gb.astype(np.float64)
        return value, np.concatenate([(gW - np.outer(gb, m)).ravel(), gb])

    theta0 = np.concatenate([W.ravel(), b + W.astype(np.float64) @ m] if fit_b
                            else [W.ravel()]).astype(np.float64)
    result = scipy.optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": inner_gtol, "ftol": 64 * np.finfo(float).eps,
                 "maxcor": 20})
    W, b = unpack(result.x)
    n_iter = int(result.nit)
    # Judge the returned point in the original coordinates, not scipy's
    # status: L-BFGS-B also stops when its line search can no longer see the
    # objective decrease (around a 1e-8 relative violation in float64).
    # Proximal Newton takes it from there, judging progress by the violation.
    _, gW, gb = problem.loss_gradient(W, b, l2)
    violation = optimality_violation(gW, gb, W, 0.0, fit_b)
    if violation > gtol:
        if result.status == 1:
            _warn(f"L-BFGS did not converge in max_iter={max_iter} iterations: "
                  f"optimality violation {violation / gtol * tol:.3e} > tol={tol:.3e} "
                  "(relative). Increase max_iter or scale the features.")
        else:
            W, b, polish_iter = newton_cd(problem, W, b, alpha, 0.0,
                                          max(1, max_iter - n_iter), tol)
            n_iter += polish_iter
    return W, b, n_iter


def _quadratic_step(X, fit_intercept, w, eta_k, grad_eta, hess_eta, l1, l2, inner_tol,
                    cg_rtol):
    """Minimise the quadratic model for one block: new (w, b) of that block.

    X: the columns w belongs to, by columns (Fortran-ordered or CSC) when
    l1 > 0, in any layout for L2 only.
    grad_eta / hess_eta: first / second derivative of the data term with
    respect to this block's logits (already weighted and divided by n).
    inner_tol: coordinate descent's duality-gap tolerance (relative);
    cg_rtol: Newton-CG's residual tolerance, relative to the start (L2).
    """
    dtype = X.dtype
    n, p = X.shape
    layout = kernel_layout(X)
    v = np.maximum(hess_eta, MIN_CURVATURE / n)
    z = (eta_k - grad_eta / v).astype(dtype)
    v = v.astype(dtype)
    v_sum = float(v.sum(dtype=np.float64))
    if fit_intercept:
        x_mean = weighted_column_means(X, v).astype(dtype)
        z_mean = float(np.dot(v.astype(np.float64), z)) / v_sum
    else:
        x_mean = np.zeros(p, dtype=dtype)
        z_mean = 0.0
    zc = z.astype(np.float64) - z_mean
    z_norm2 = float(np.dot(v.astype(np.float64) * zc, zc))
    sparse = layout[0] in (CSR, CSC)
    empty1, empty2, no_index = (empty_like_dtype(dtype), empty_like_dtype(dtype, 2),
                                np.empty(0, dtype=np.intc))
    w_new = np.array(w, dtype=dtype)
    use_gram = (l1 > 0.0 and not sparse and n >= GRAM_MIN_ROWS_PER_FEATURE * p
                and p <= GRAM_MAX_FEATURES
                and np.count_nonzero(w) >= GRAM_SUPPORT_FRACTION * p)
    if use_gram:
        # Tall dense X with a dense-ish solution: one syrk pass builds
        # Xc^T V Xc, after which every inner sweep costs O(p^2) instead of a
        # pass over X.  With a sparse support the active-set sweeps over X
        # are cheaper than the syrk (measured on 50000 x 300: 1.0 s vs 1.9 s
        # with 26 non-zeros, 3.0 s vs 2.6 s with 85).
        Q = np.empty((p, p), dtype=dtype)
        _gram.centered_gram(X, x_mean, v, True, fit_intercept, Q)
        rhs = xt_dot(X, (v.astype(np.float64) * zc).astype(dtype))
        _cd.enet_coordinate_descent(
            _cd.GRAM, empty_like_dtype(dtype, 2, "F"), empty1, no_index, no_index, Q,
            np.ascontiguousarray(rhs), empty1, empty1, False, x_mean, z_mean, z_norm2,
            fit_intercept, np.ascontiguousarray(np.diag(Q), dtype=np.float64),
            w_new, l1, l2, False, 1000, inner_tol, inner_tol * z_norm2)
    else:
        code, X_dense, data, indices, indptr = layout
        hess = _gram.column_variances(n, X_dense, data, indices, indptr, v, True, x_mean,
                                      fit_intercept, {CSC: 1, CSR: 2}.get(code, 0))
        if l1 == 0.0:
            # L2 only: the step is a ridge problem, solved by CG on the fused
            # gradient kernel (Newton-CG) in X's own layout, warm-started at
            # the current w.
            _fused.conjugate_gradient(
                code, X_dense, data, indices, indptr, z, z_mean, v, True, x_mean,
                fit_intercept, cg_preconditioner(hess, l2), w_new, l2, 1000,
                cg_rtol, True)
        else:  # X is by columns here (Fortran-ordered or CSC)
            # X holds only the step's working set (the support and the worst
            # violators), so the kernel sweeps all of it from the first
            # round rather than growing its own set from twice the support
            # (sparse 20000 x 50000 benchmark, a step from 1452 to 8059
            # non-zeros: 18-20 -> 13-15 ms).
            _cd.enet_coordinate_descent(
                _cd.SPARSE if sparse else _cd.DENSE, X_dense, data, indices, indptr,
                empty2, empty1, z, v, True, x_mean, z_mean, z_norm2,
                fit_intercept, hess, w_new, l1, l2, False, 1000, inner_tol,
                inner_tol * z_norm2, first_ws=p)
    b_new = z_mean - float(np.dot(x_mean.astype(np.float64), w_new)) \
        if fit_intercept else 0.0
    return w_new, b_new


def _multinomial_step(X, fit_intercept, W, b, prob, q, grad_eta, l1, l2, tol):
    """New (W, b) minimising the multinomial quadratic model plus the penalty.

    X: the columns W belongs to, Fortran-ordered dense or CSC.  Dense columns
    are centred (weighted by q) in a copy: coordinate descent on the
    intercepts and on features with non-zero means zigzags, while the model
    only sees the logits, x W^T + b = (x - m) W^T + (b + W m).
    """
    code, _, data, indices, indptr = kernel_layout(X)
    sparse = code == CSC
    W_new = np.array(W, dtype=X.dtype, order="C")
    shift = np.zeros(len(b))
    if fit_intercept and not sparse:
        x_mean = weighted_column_means(X, q)
        X = np.asfortranarray(X - x_mean.astype(X.dtype))
        shift = W_new.astype(np.float64) @ x_mean
    b_new = (b + shift).astype(X.dtype)
    _logistic.multinomial_newton_step(
        sparse, empty_like_dtype(X.dtype, 2, "F") if sparse else X, data, indices, indptr,
        prob, q, grad_eta, W_new, b_new, fit_intercept, l1, l2, 1000, tol)
    if fit_intercept and not sparse:
        b_new = (b_new - W_new.astype(np.float64) @ x_mean).astype(X.dtype)
    return W_new, b_new


def working_set(W, grad_W, l1):
    """Sorted features for the next Newton step, or None for all of them.

    The support (features non-zero in any class) plus the features that
    violate their zero optimality condition (|gradient| > l1) the most:
    every violator while they number fewer than 7 |support|, and at least
    max(WORKING_SET_MIN, 2 |support|, WORKING_SET_VIOLATOR_SHARE * violators)
    features in all.  Each Newton step costs a full gradient pass, so a set
    that only doubled per step would spend log2(support / 10) steps growing
    (11 of 14 on the sparse 20000 x 50000 benchmark at alpha_max / 10,
    support 8533; growing 8x per step, 4 of 8, fit 249 -> 162 ms).  From
    W = 0 the violators' share sets the first size: there, 23339 violators,
    a first set of 1458 instead of 10 and 6 steps instead of 8 (fit 96-102
    -> 87-89 ms).  The coordinate-descent inner solve has working sets of
    its own, so a larger step costs it little.  Convergence is judged on
    every feature at the outer level, so a feature left out now joins once
    it is among the worst violators.
    """
    p = W.shape[1]
    in_support = np.any(W != 0, axis=0)
    n_support = int(np.count_nonzero(in_support))
    score = np.max(np.abs(grad_W), axis=0) - l1
    score[in_support] = np.inf
    candidates = np.flatnonzero(score > 0)
    size = max(WORKING_SET_MIN, 2 * n_support, min(candidates.size, 8 * n_support),
               int(WORKING_SET_VIOLATOR_SHARE * candidates.size))
    if size >= p:
        return None
    if candidates.size == 0:  # only the intercept is off: a full step updates it
        return None
    if candidates.size > size:
        candidates = candidates[np.argpartition(-score[candidates], size - 1)[:size]]
    return np.sort(candidates)


def inner_tolerance(violation, tol, may_finish_coarsely):
    """(inner tolerance of a Newton step, whether it is a coarse last step).

    The tolerance is coordinate descent's relative duality gap, on the scale
    of the square of a relative gradient accuracy.  It follows the outer
    progress, 1e-2 violation^2: the first steps need little accuracy, the
    superlinear phase a lot.  Near the end, though, a step only has to take
    the violation down to tol: a relative accuracy of about 0.1 tol /
    violation, often far coarser (sparse 20000 x 50000 benchmark, last step:
    1.1e-5 instead of 9.4e-8).  The inner gap bounds the outer violation
    only loosely, so the caller allows one such step per fit; if it does not
    finish the fit, the accurate rule takes over.  That needs the accurate
    steps to reach tol without hitting INNER_TOL_MIN (tol >= 1e-7): at tol
    1e-10 on wide sparse data they then cut the violation only about 1.5x
    each, and stalled after a coarse step had fallen short.
    """
    accurate = float(np.clip(1e-2 * violation ** 2, INNER_TOL_MIN, 1e-2))
    coarse = (0.1 * tol / violation) ** 2
    if may_finish_coarsely and 1e-2 * tol ** 2 >= INNER_TOL_MIN and coarse > accurate:
        return min(1e-2, coarse), True
    return accurate, False


def _at_null_model(problem, W, b):
    W0, b0 = null_model(problem)
    return not np.any(W) and np.array_equal(b, b0)


def _scatter_columns(W, features, W_features):
    """W with its columns ``features`` replaced by W_features."""
    out = W.astype(W_features.dtype)
    out[:, features] = W_features
    return out


def newton_cd(problem, W, b, alpha, l1_ratio, max_iter, tol):
    """Proximal Newton with coordinate-descent inner solves; (W, b, n_iter)."""
    l1, l2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    n = problem.n_samples
    W = np.array(W, dtype=problem.dtype)
    b = np.array(b, dtype=problem.dtype)
    # From the null model (every cold fit), the first gradient gives the scale.
    scale = None if problem.null_violation is None and _at_null_model(problem, W, b) \
        else violation_scale(problem)
    eta = problem.logits(W, b).astype(np.float64)
    sw = problem.sw.astype(np.float64) if problem.weighted else np.ones(n)
    onehot = (problem.y[:, None] == np.arange(problem.n_blocks)[None, :]) \
        if problem.multinomial else (problem.y == 1)[:, None]

    def objective(eta_, W_):
        return problem.data_loss(eta_) + l1 * np.abs(W_).sum() + 0.5 * l2 * np.square(W_).sum()

    value = objective(eta, W)
    violation = np.inf
    stalled = False
    unresolved_steps = 0
    n_iter = 0
    # (Multinomial steps have a tolerance of their own.)
    may_finish_coarsely = not problem.multinomial
    for n_iter in range(1, max_iter + 1):
        if problem.multinomial:
            prob = softmax(eta, axis=1)
            grad_eta = (sw / n)[:, None] * (prob - onehot)
        else:
            prob = expit(eta[:, 0])
            grad_eta = (sw * (prob - onehot[:, 0]) / n)[:, None]
        gW, gb = problem.gradient_from_logits(grad_eta, W, l2)
        if scale is None:
            scale = violation_scale(problem, (gW, gb))
        violation = optimality_violation(gW, gb, W, l1, problem.fit_intercept) / scale
        if violation <= tol:
            n_iter -= 1
            break
        inner_tol, finishing = inner_tolerance(violation, tol, may_finish_coarsely)
        may_finish_coarsely = may_finish_coarsely and not finishing
        # Newton-CG's residual is relative to the step's start, so a step
        # solved to e cuts the violation to about e * violation: never solve
        # finer than reaching tol needs.
        cg_rtol = min(0.1, max(float(np.sqrt(inner_tol)), 0.1 * tol / violation))
        # The step moves only the working set's columns (all of them for L2).
        features = working_set(W, gW, l1) if l1 > 0.0 else None
        # Coordinate descent reads columns.  Newton-CG (binary L2) runs on
        # dense X as given, but on CSC rather than CSR: measured 2x faster
        # per Hessian-vector product on the 20000 x 50000 benchmark problem.
        by_columns = l1 > 0.0 or problem.multinomial or sp.issparse(problem.X)
        X_ws = problem.columns(features) if by_columns else problem.X
        W_ws = W if features is None else W[:, features]
        if problem.multinomial:
            W_new, b_new = _multinomial_step(X_ws, problem.fit_intercept, W_ws, b, prob,
                                             sw / n, grad_eta, l1, l2,
                                             float(np.clip(0.1 * violation, 1e-12, 1e-3)))
        else:
            w_new, b0_new = _quadratic_step(X_ws, problem.fit_intercept, W_ws[0], eta[:, 0],
                                            grad_eta[:, 0], sw * prob * (1.0 - prob) / n,
                                            l1, l2, inner_tol, cg_rtol)
            W_new = w_new[None, :].astype(problem.dtype)
            b_new = np.array([b0_new if problem.fit_intercept else 0.0], dtype=problem.dtype)
        if features is not None:
            W_new = _scatter_columns(W, features, W_new)
        d_W = W_new.astype(np.float64) - W
        d_b = (b_new.astype(np.float64) - b) if problem.fit_intercept \
            else np.zeros(problem.n_blocks)
        progressed = False
        if np.any(d_W) or np.any(d_b):
            # Only the working set's columns moved: X d costs n x |set|.
            X_d = linear_predictor(X_ws, np.ascontiguousarray(
                d_W if features is None else d_W[:, features], dtype=problem.dtype),
                d_b.astype(problem.dtype)).astype(np.float64)
            # Predicted decrease: the linear model of the smooth part plus the
            # change of the L1 term (Tseng & Yun's rule).
            decrease = float(np.sum(grad_eta * X_d)) + l2 * float(np.sum(W * d_W)) \
                + l1 * (np.abs(W_new).sum() - np.abs(W).sum())
            if decrease > -RESOLVABLE * max(abs(value), 1e-300):
                # The predicted gain is below float64 resolution: the
                # objective cannot arbitrate, so take the full Newton step
                # (quadratic-convergence region) and let the optimality
                # violation judge progress.
                W, b = (W + d_W).astype(problem.dtype), (b + d_b).astype(problem.dtype)
                eta = eta + X_d
                value = objective(eta, W)
                unresolved_steps += 1
                progressed = unresolved_steps <= MAX_UNRESOLVED_STEPS
            else:
                unresolved_steps = 0
                step = 1.0
                for _ in range(LINE_SEARCH_STEPS):
                    W_trial = (W + step * d_W).astype(problem.dtype)
                    eta_trial = eta + step * X_d
                    trial = objective(eta_trial, W_trial)
                    if trial <= value + ARMIJO * step * decrease:
                        W, b = W_trial, (b + step * d_b).astype(problem.dtype)
                        eta, value = eta_trial, trial
                        progressed = True
                        break
                    step *= 0.5
        if not progressed and not finishing:
            stalled = True
            break          # no descent possible at this precision
    else:
        _, gW, gb = problem.loss_gradient(W, b, l2)
        violation = optimality_violation(gW, gb, W, l1, problem.fit_intercept) \
            / violation_scale(problem)
    if violation > tol:
        reason = (f"stopped after {n_iter} iterations: no descent left at "
                  f"{np.dtype(problem.dtype).name} precision" if stalled
                  else f"did not converge in max_iter={max_iter} iterations")
        _warn(f"Proximal Newton {reason}: optimality violation {violation:.3e} > "
              f"tol={tol:.3e} (relative). Increase tol, max_iter, or fit in float64.")
    return W, b, n_iter
