"""Independent reference implementations for sklreg.RegularizedClassifier tests.

Nothing here imports sklreg.  Everything is computed in float64, so that an
sklreg solution (possibly float32) and a reference solution are compared
through exactly the same function.

Objective (the API contract of ``sklreg.RegularizedClassifier``)::

    1/n * sum_i s_i * logloss(y_i, x_i W^T + b)
        + alpha * (r * ||W||_1 + (1 - r)/2 * ||W||_F^2)

with ``s_i = sample_weight_i * class_weight[y_i]`` rescaled to sum to ``n``
(``s = 1`` if neither is given) and ``b`` unpenalized.

* binary (K = 2): one coefficient row ``w`` (coef shape (1, p), intercept
  shape (1,)), ``logloss = log(1 + exp(-t_i (x_i.w + b)))`` with
  ``t_i = +1`` for ``classes[1]`` and ``-1`` for ``classes[0]``;
* multiclass (K >= 3): multinomial (softmax) loss, coef (K, p), intercept (K,),
  ``logloss = logsumexp_k(z_ik) - z_{i, y_i}``.

The softmax parametrisation is over-complete: adding the same vector to every
row of (W, b) leaves the loss unchanged.  With a penalty > 0 on W the optimal
W is unique (L2 part) or at least the linear predictor is (the loss is strictly
convex in the predictor modulo a per-row constant), but the unpenalized
intercepts are only determined up to a common shift: compare objectives and
predicted probabilities, never raw multinomial intercepts.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

# Tolerances used for the scikit-learn reference fits.
REF_TOL = 1e-10
REF_MAX_ITER_LBFGS = 100_000
REF_MAX_ITER_SAGA = 200_000  # epochs; small standardized-ish data only


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------
def as_float64(X):
    """Upcast to float64 keeping sparse matrices sparse (CSR)."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def as_float64_dense(X):
    """Densify (if sparse) and upcast to a C-contiguous float64 array."""
    if sp.issparse(X):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=np.float64)


def encode_labels(y, classes=None):
    """(classes, codes): sorted unique labels and the index of each y_i."""
    y = np.asarray(y).ravel()
    if classes is None:
        classes = np.unique(y)
    classes = np.asarray(classes)
    codes = np.searchsorted(classes, y)
    if np.any(codes >= classes.size) or np.any(classes[np.minimum(codes, classes.size - 1)] != y):
        raise ValueError("y contains labels that are not in classes")
    return classes, codes


def balanced_class_weight(y, classes=None):
    """n / (K * bincount(y)) per class, as scikit-learn's "balanced" (unweighted)."""
    classes, codes = encode_labels(y, classes)
    counts = np.bincount(codes, minlength=classes.size).astype(np.float64)
    return codes.size / (classes.size * counts)


def class_weight_vector(class_weight, y, classes=None):
    """Per-class weight (in classes order) for None / "balanced" / dict."""
    classes, _ = encode_labels(y, classes)
    if class_weight is None:
        return np.ones(classes.size)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(class_weight)
        return balanced_class_weight(y, classes)
    # dict: labels that are not keys get weight 1 (scikit-learn convention)
    return np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])


def raw_weights(y, classes=None, sample_weight=None, class_weight=None):
    """s' = sample_weight * class_weight[y], NOT rescaled (float64)."""
    classes, codes = encode_labels(y, classes)
    n = codes.size
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if s.shape != (n,):
        raise ValueError(f"sample_weight has shape {s.shape}, expected ({n},)")
    return s * class_weight_vector(class_weight, y, classes)[codes]


def rescaled_weights(y, classes=None, sample_weight=None, class_weight=None):
    """s' rescaled to sum to n (the weights of the sklreg objective)."""
    s = raw_weights(y, classes, sample_weight, class_weight)
    total = s.sum()
    if not total > 0:
        raise ValueError("weights must have a positive sum")
    return s * (s.size / total)


def _coef_2d(coef, n_classes, n_features):
    W = np.asarray(coef, dtype=np.float64)
    k = 1 if n_classes == 2 else n_classes
    return W.reshape(k, n_features)


def _intercept_1d(intercept, n_classes):
    k = 1 if n_classes == 2 else n_classes
    b = np.asarray(intercept, dtype=np.float64).ravel()
    if b.size == 1 and k > 1:
        b = np.full(k, float(b[0]))
    return b.reshape(k)


def decision_scores(X, coef, intercept, n_classes):
    """Linear predictor: (n,) for binary, (n, K) for multiclass (float64)."""
    X = as_float64(X)
    W = _coef_2d(coef, n_classes, X.shape[1])
    b = _intercept_1d(intercept, n_classes)
    Z = np.asarray(X @ W.T) + b
    return Z[:, 0] if n_classes == 2 else Z


def probabilities(X, coef, intercept, n_classes):
    """Predicted class probabilities (n, K), columns in classes order."""
    Z = decision_scores(X, coef, intercept, n_classes)
    if n_classes == 2:
        p1 = expit(Z)
        return np.column_stack([1.0 - p1, p1])
    return softmax(Z, axis=1)


def _one_hot(codes, n_classes):
    Y = np.zeros((codes.size, n_classes))
    Y[np.arange(codes.size), codes] = 1.0
    return Y


# --------------------------------------------------------------------------
# objective, gradient
# --------------------------------------------------------------------------
def pointwise_logloss(X, y, coef, intercept, classes):
    """logloss_i (float64), stable forms (log_expit / logsumexp)."""
    classes, codes = encode_labels(y, classes)
    K = classes.size
    Z = decision_scores(X, coef, intercept, K)
    if K == 2:
        t = np.where(codes == 1, 1.0, -1.0)
        return -log_expit(t * Z)  # log(1 + exp(-t z))
    return logsumexp(Z, axis=1) - Z[np.arange(codes.size), codes]


def data_term(X, y, coef, intercept, classes, sample_weight=None, class_weight=None):
    """1/n * sum_i s_i logloss_i with the rescaled weights s."""
    s = rescaled_weights(y, classes, sample_weight, class_weight)
    return float(np.sum(s * pointwise_logloss(X, y, coef, intercept, classes)) / s.size)


def penalty_term(coef, alpha, r):
    W = np.asarray(coef, dtype=np.float64)
    return float(alpha * (r * np.sum(np.abs(W)) + 0.5 * (1.0 - r) * np.sum(W * W)))


def classification_objective(
    X, y, coef, intercept, classes, alpha, r, sample_weight=None, class_weight=None
):
    """Value of the sklreg classifier objective, computed in float64.

    Dense or sparse X.  ``coef`` (1, p) or (p,) for binary, (K, p) for
    multiclass; ``intercept`` (1,) / (K,) (zeros when fit_intercept=False).
    ``classes`` are the sorted class labels (None: np.unique(y)).
    """
    return data_term(X, y, coef, intercept, classes, sample_weight, class_weight) + penalty_term(
        coef, alpha, r
    )


def data_gradient(X, y, coef, intercept, classes, sample_weight=None, class_weight=None):
    """Gradient of the data term 1/n sum s_i logloss_i.

    Returns (G, g_b) with G shaped like the 2-D coef ((1, p) binary, (K, p))
    and g_b like the intercept.
    """
    X = as_float64(X)
    classes, codes = encode_labels(y, classes)
    K = classes.size
    n = codes.size
    s = rescaled_weights(y, classes, sample_weight, class_weight)
    Z = decision_scores(X, coef, intercept, K)
    if K == 2:
        R = (s * (expit(Z) - (codes == 1)))[:, None] / n  # (n, 1)
    else:
        R = s[:, None] * (softmax(Z, axis=1) - _one_hot(codes, K)) / n  # (n, K)
    G = np.asarray(X.T @ R).T
    return np.ascontiguousarray(G), R.sum(axis=0)


# --------------------------------------------------------------------------
# intercept-only model, alpha_max
# --------------------------------------------------------------------------
def weighted_class_frequencies(y, classes=None, sample_weight=None, class_weight=None):
    """Weighted class frequencies (K,), the intercept-only probabilities."""
    classes, codes = encode_labels(y, classes)
    s = rescaled_weights(y, classes, sample_weight, class_weight)
    return np.bincount(codes, weights=s, minlength=classes.size) / s.sum()


def intercept_only_solution(y, classes=None, sample_weight=None, class_weight=None, fit_intercept=True):
    """(coef = 0, intercept) optimal when W is forced to zero."""
    classes, _ = encode_labels(y, classes)
    K = classes.size
    if not fit_intercept:
        return np.zeros(1 if K == 2 else K)
    pi = weighted_class_frequencies(y, classes, sample_weight, class_weight)
    if K == 2:
        return np.array([np.log(pi[1] / pi[0])])
    logp = np.log(pi)
    return logp - logp.mean()


def alpha_max(X, y, r, classes=None, sample_weight=None, class_weight=None, fit_intercept=True):
    """Smallest alpha for which W = 0 is optimal (r > 0): max |G(0)| / r.

    G(0) is the data-term gradient at W = 0 and the optimal intercept for
    W = 0 (weighted class log-frequencies; b = 0 without intercept).
    """
    X = as_float64(X)
    classes, _ = encode_labels(y, classes)
    K = classes.size
    b0 = intercept_only_solution(y, classes, sample_weight, class_weight, fit_intercept)
    W0 = np.zeros((1 if K == 2 else K, X.shape[1]))
    G, _ = data_gradient(X, y, W0, b0, classes, sample_weight, class_weight)
    return float(np.max(np.abs(G)) / r)


# --------------------------------------------------------------------------
# KKT conditions (L1 / elastic-net; also usable for L2 with r = 0)
# --------------------------------------------------------------------------
def kkt_violations(
    X, y, coef, intercept, classes, alpha, r, sample_weight=None, class_weight=None,
    fit_intercept=True,
):
    """Return (violation array shaped like the 2-D coef, intercept violation).

    With G the gradient of the data term:

    * w_kj != 0: |G_kj + alpha (1-r) w_kj + alpha r sign(w_kj)|
    * w_kj == 0: max(0, |G_kj| - alpha r)
    * intercept: max_k |g_b,k| when fit_intercept, else 0.
    """
    X = as_float64(X)
    classes, _ = encode_labels(y, classes)
    W = _coef_2d(coef, classes.size, X.shape[1])
    G, gb = data_gradient(X, y, W, intercept, classes, sample_weight, class_weight)
    lam = alpha * r
    H = G + alpha * (1.0 - r) * W
    viol = np.empty_like(W)
    nz = W != 0
    viol[nz] = np.abs(H[nz] + lam * np.sign(W[nz]))
    viol[~nz] = np.maximum(0.0, np.abs(H[~nz]) - lam)
    icpt = float(np.max(np.abs(gb))) if fit_intercept else 0.0
    return viol, icpt


def assert_kkt(
    X, y, coef, intercept, classes, alpha, r, sample_weight=None, class_weight=None,
    fit_intercept=True, atol=1e-7, intercept_atol=None,
):
    """Assert the optimality (KKT) conditions of a solution."""
    viol, icpt = kkt_violations(
        X, y, coef, intercept, classes, alpha, r, sample_weight, class_weight, fit_intercept
    )
    if intercept_atol is None:
        intercept_atol = atol
    # A NaN tolerance would make every comparison below pass.
    assert np.isfinite(atol) and np.isfinite(intercept_atol), (atol, intercept_atol)
    msg = []
    bad = np.argwhere(viol > atol)
    if bad.size:
        W = np.asarray(coef).reshape(viol.shape)
        msg.append(
            f"KKT violated for {len(bad)} coefficient(s) (atol={atol:g}): "
            + ", ".join(
                f"(k={k}, j={j}) w={W[k, j]:.3g} viol={viol[k, j]:.3g}" for k, j in bad[:10]
            )
        )
    if icpt > intercept_atol:
        msg.append(f"intercept gradient {icpt:.3g} > {intercept_atol:g}")
    if msg:
        raise AssertionError("; ".join(msg))


# --------------------------------------------------------------------------
# reference solvers
# --------------------------------------------------------------------------
def sklearn_C(alpha, y, classes=None, sample_weight=None, class_weight=None):
    """C = 1 / (alpha * sum(s')) with s' the UNrescaled weights.

    scikit-learn minimises C * sum_i s'_i logloss_i + pen(W) (lbfgs scales it
    internally by 1/(C sum s'), saga by 1/(C n); both have the same optimum);
    dividing by C * sum(s') gives 1/sum(s') sum s'_i logloss_i + pen/(C sum s'),
    which is our objective (rescaled s = n s'/sum s') with alpha = 1/(C sum s').
    Checked numerically in test_classifier_correctness.py.
    """
    return 1.0 / (alpha * raw_weights(y, classes, sample_weight, class_weight).sum())


def reference_fit(
    X, y, alpha, r, classes=None, sample_weight=None, class_weight=None, fit_intercept=True,
):
    """Solve the sklreg problem with scikit-learn LogisticRegression.

    Returns ``(coef, intercept)`` in float64, coef (1, p) binary / (K, p),
    intercept (1,) / (K,) (zeros without intercept).

    scikit-learn 1.9 API: ``penalty`` is deprecated since 1.8 (FutureWarning,
    removed in 1.10) and ``multi_class`` is gone.  Leaving ``penalty`` at its
    default and passing ``l1_ratio=r`` selects the same penalty
    (l1_ratio=0: 1/2||W||^2, l1_ratio=1: ||W||_1, otherwise
    r ||W||_1 + (1-r)/2 ||W||^2) without any warning, and every solver but
    liblinear fits the multinomial loss for K >= 3 (full K x p coefficient
    matrix, intercepts unpenalized).  lbfgs for r = 0, saga otherwise (the
    only L1 / elastic-net solver with a multinomial loss).
    Class weights are folded into sample_weight (s' = sample_weight *
    class_weight[y]) so that the reference does not depend on how
    scikit-learn combines "balanced" with sample weights.
    """
    X = as_float64(X)
    classes, codes = encode_labels(y, classes)
    s_raw = raw_weights(y, classes, sample_weight, class_weight)
    C = sklearn_C(alpha, y, classes, sample_weight, class_weight)
    if r == 0:
        est = LogisticRegression(
            C=C, l1_ratio=0.0, solver="lbfgs", tol=REF_TOL, max_iter=REF_MAX_ITER_LBFGS,
            fit_intercept=fit_intercept,
        )
    else:
        est = LogisticRegression(
            C=C, l1_ratio=float(r), solver="saga", tol=REF_TOL, max_iter=REF_MAX_ITER_SAGA,
            fit_intercept=fit_intercept, random_state=0,
        )
    with warnings.catch_warnings():
        # lbfgs may stop on a line-search failure at tol=1e-10: the optimum
        # is reached to float64 resolution (verified by the reference tests).
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, codes, sample_weight=s_raw)
    coef = np.asarray(est.coef_, dtype=np.float64)
    intercept = np.asarray(est.intercept_, dtype=np.float64) if fit_intercept else np.zeros(coef.shape[0])
    return coef, np.broadcast_to(intercept, (coef.shape[0],)).copy()


def scipy_fit(
    X, y, alpha, r, classes=None, sample_weight=None, class_weight=None, fit_intercept=True,
    W0=None, b0=None,
):
    """Independent solution with scipy L-BFGS-B (no scikit-learn).

    The L1 part is handled by splitting W = P - M with P, M >= 0 (a smooth,
    bound-constrained problem with the same minimum value).  Used to check the
    scikit-learn mapping; returns (coef, intercept) like ``reference_fit``.
    """
    X = as_float64(X)
    classes, _ = encode_labels(y, classes)
    K = classes.size
    k = 1 if K == 2 else K
    p = X.shape[1]
    nb = k if fit_intercept else 0
    split = r > 0

    def unpack(theta):
        if split:
            P = theta[: k * p].reshape(k, p)
            M = theta[k * p : 2 * k * p].reshape(k, p)
            W = P - M
            rest = theta[2 * k * p :]
        else:
            P = M = None
            W = theta[: k * p].reshape(k, p)
            rest = theta[k * p :]
        b = rest if fit_intercept else np.zeros(k)
        return P, M, W, b

    def fun(theta):
        P, M, W, b = unpack(theta)
        f = data_term(X, y, W, b, classes, sample_weight, class_weight)
        G, gb = data_gradient(X, y, W, b, classes, sample_weight, class_weight)
        f += 0.5 * alpha * (1 - r) * np.sum(W * W)
        G = G + alpha * (1 - r) * W
        if split:
            f += alpha * r * (P.sum() + M.sum())
            grad = np.concatenate([(G + alpha * r).ravel(), (-G + alpha * r).ravel()])
        else:
            grad = G.ravel()
        if fit_intercept:
            grad = np.concatenate([grad, gb])
        return f, grad

    W0 = np.zeros((k, p)) if W0 is None else _coef_2d(W0, K, p)
    b0 = np.zeros(k) if b0 is None else _intercept_1d(b0, K)
    if split:
        theta0 = np.concatenate([np.maximum(W0, 0).ravel(), np.maximum(-W0, 0).ravel()])
        bounds = [(0, None)] * (2 * k * p)
    else:
        theta0 = W0.ravel()
        bounds = [(None, None)] * (k * p)
    if fit_intercept:
        theta0 = np.concatenate([theta0, b0])
        bounds += [(None, None)] * nb
    res = minimize(
        fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
        options=dict(maxiter=50_000, maxfun=100_000, ftol=1e-15, gtol=1e-12, maxcor=30),
    )
    _, _, W, b = unpack(res.x)
    return W, b


# --------------------------------------------------------------------------
# test data
# --------------------------------------------------------------------------
def make_classification_data(n_samples, n_features, n_classes=2, seed=0, zero_fraction=0.3,
                             imbalance=True):
    """Noisy (non-separable), imbalanced classification data.

    Correlated columns of unit-ish scale with small non-zero column means
    (so the intercept matters without making saga crawl); about
    ``zero_fraction`` of the entries are exact zeros so that sparse versions
    of X are genuinely sparse.  Labels are sampled from a softmax model with
    a few informative features; with ``imbalance`` the class priors are
    uneven.
    Returns (X, codes, sample_weight) with integer codes 0..K-1.
    """
    rng = np.random.RandomState(seed)
    p = n_features
    mixing = 0.3 * rng.randn(p, p) + np.eye(p)
    X = rng.randn(n_samples, p) @ mixing
    X /= X.std(axis=0)
    X += rng.uniform(-0.5, 0.5, size=p)
    X[rng.rand(n_samples, p) < zero_fraction] = 0.0
    K = n_classes
    W = rng.randn(K, p) * (rng.rand(K, p) < 0.4)
    W[:, 0] += np.linspace(-1.5, 1.5, K)  # feature 0 always informative
    if imbalance:
        prior = {2: [0.85, 0.15], 3: [0.6, 0.25, 0.15]}.get(K, np.ones(K) / K)
    else:
        prior = np.ones(K) / K
    logits = X @ W.T + np.log(prior)
    g = rng.gumbel(size=logits.shape)
    codes = np.argmax(logits + g, axis=1)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return X, codes, sample_weight
