"""RegularizedMLP and its two faces: scikit-learn compatibility, the objective
and its gradient, penalties, dropout, early stopping, quality on scikit-learn
data sets, and bad input."""
import io
import pickle
import re
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklreg import RegularizedMLP, RegularizedMLPClassifier, RegularizedMLPRegressor
from sklreg._core import _mlp

# float64: scikit-learn's sample-weight equivalence check compares at rtol=1e-7,
# below float32's resolution.  The float32 default and a dropout + penalty
# configuration are checked too, with that one check expected to fail.
SMALL = dict(hidden_layer_sizes=(16,), random_state=0)
SW_EQUIVALENCE = ["check_sample_weight_equivalence_on_dense_data",
                  "check_sample_weight_equivalence_on_sparse_data"]
ESTIMATORS = [
    RegularizedMLPClassifier(**SMALL, dtype="float64"),
    RegularizedMLPRegressor(**SMALL, dtype="float64"),
    RegularizedMLP(**SMALL, task="classification", dtype="float64"),
    RegularizedMLP(**SMALL, task="regression", dtype="float64"),
    RegularizedMLPClassifier(**SMALL),
    RegularizedMLPClassifier(hidden_layer_sizes=(16, 8), random_state=0, penalty="elasticnet",
                             alpha=1e-3, dropout=0.2, input_dropout=0.1, solver="sgd",
                             learning_rate_init=0.05, dtype="float64"),
]


def _expected_failures(estimator):
    if estimator.dtype == "float32":
        return {c: "float32 rounding (~1e-7 relative) exceeds the check's rtol=1e-7; the "
                   "float64 instances pass it" for c in SW_EQUIVALENCE}
    if estimator.dropout:
        return {c: "dropout masks are drawn per row of each batch, so repeating a row "
                   "changes the draws" for c in SW_EQUIVALENCE}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# --------------------------------------------------------------------------
# A numpy reference of the network and its objective
# --------------------------------------------------------------------------

ACTS = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
        "logistic": expit}


def reference_output(est, X):
    """Forward pass from coefs_ / intercepts_ in float64 (no dropout)."""
    A = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    layers = list(zip(est.coefs_, est.intercepts_))
    for W, b in layers[:-1]:
        A = ACTS[est.activation](A @ W + b)
    W, b = layers[-1]
    Z = A @ W + b
    return {"identity": Z, "logistic": expit(Z),
            "softmax": softmax(Z, axis=1) if Z.ndim == 2 else Z}[est.out_activation_]


def reference_loss(out_activation, Z, Y, weights):
    """Weighted mean data loss from logits Z (float64)."""
    if out_activation == "identity":
        per = 0.5 * np.mean((Z - Y) ** 2, axis=1)
    elif out_activation == "softmax":
        per = -np.sum(Y * log_softmax(Z, axis=1), axis=1)
    else:
        per = np.sum(np.logaddexp(0, Z) - Y * Z, axis=1)
    return np.sum(weights * per) / len(per)


def _kernel_inputs(X, dtype, sparse):
    empty_index = np.empty(0, dtype=np.intc)
    if sparse:
        Xs = sp.csr_matrix(X)
        return (np.empty((0, 0), dtype=dtype), Xs.data.astype(dtype),
                Xs.indices.astype(np.intc), Xs.indptr.astype(np.intc), True)
    return (np.ascontiguousarray(X, dtype=dtype), np.empty(0, dtype=dtype), empty_index,
            empty_index, False)


def full_batch(params, sizes, X, Y, weights, activation, output, dropout, seed, sparse=False,
               solver=_mlp.NO_STEP, l1=0.0, l2=0.0, lr=0.1):
    """One full-batch train_epoch call: (mean weighted loss, gradient, new params)."""
    dtype = params.dtype
    n = X.shape[0]
    params = params.copy()
    grads = np.empty_like(params)
    floats, mask_bytes = _mlp.workspace_size(sizes, n, not sparse)
    velocity = np.zeros_like(params)
    total, _ = _mlp.train_epoch(
        params, grads, velocity, np.empty(0, dtype=dtype), sizes,
        np.full(len(sizes) - 1, l1), np.full(len(sizes) - 1, l2), np.asarray(dropout, float),
        *_kernel_inputs(X, dtype, sparse), np.ascontiguousarray(Y, dtype=dtype),
        weights.astype(dtype), np.arange(n, dtype=np.intp), n, activation, output,
        np.empty(floats, dtype=dtype), np.empty(mask_bytes, dtype=np.uint8),
        np.array([seed], dtype=np.uint64), solver, lr, 0.9, 0.999, 1e-8, 0.0, False, 0)
    return total / n, grads, params


def _problem(output, K, seed=0, n=9, p=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[X < -0.6] = 0.0  # some sparsity for the CSR path
    if output == _mlp.SOFTMAX:
        Y = np.eye(K)[rng.integers(0, K, n)]
    elif output == _mlp.LOGISTIC:
        Y = (rng.random((n, K)) > 0.5).astype(float)
    else:
        Y = rng.standard_normal((n, K))
    return X, Y, rng.random(n) + 0.5, rng


_ACT_CODES = {"identity": _mlp.IDENTITY, "relu": _mlp.RELU, "tanh": _mlp.TANH,
              "logistic": _mlp.LOGISTIC}


OUTPUTS = [("softmax", _mlp.SOFTMAX, 3), ("logistic", _mlp.LOGISTIC, 2),
           ("identity", _mlp.IDENTITY, 2)]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("activation", list(ACTS))
@pytest.mark.parametrize("out_name, output, K", OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_gradient_matches_finite_differences(out_name, output, K, activation, sparse):
    """Every activation and loss, input and hidden dropout with a fixed mask (the
    generator's seed), dense and CSR input."""
    X, Y, w, rng = _problem(output, K)
    sizes = np.array([X.shape[1], 4, 3, K], dtype=np.intp)
    params = 0.7 * rng.standard_normal(_mlp.parameter_count(sizes))
    code = _ACT_CODES[activation]
    dropout, seed, h = [0.2, 0.3, 0.25], 123, 1e-6
    _, grad, _ = full_batch(params, sizes, X, Y, w, code, output, dropout, seed, sparse)
    numeric = np.empty_like(params)
    for j in range(len(params)):
        step = np.zeros_like(params)
        step[j] = h
        plus = full_batch(params + step, sizes, X, Y, w, code, output, dropout, seed, sparse)[0]
        minus = full_batch(params - step, sizes, X, Y, w, code, output, dropout, seed, sparse)[0]
        numeric[j] = (plus - minus) / (2 * h)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7 * np.abs(grad).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("out_name, output, K", OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_loss_matches_numpy_reference(out_name, output, K, dtype):
    X, Y, w, rng = _problem(output, K, seed=1)
    sizes = np.array([X.shape[1], 6, K], dtype=np.intp)
    params = rng.standard_normal(_mlp.parameter_count(sizes))
    loss, _, _ = full_batch(params.astype(dtype), sizes, X, Y, w, _mlp.TANH, output, [0, 0], 0)
    W0 = params[:5 * 6].reshape(5, 6)
    b0 = params[30:36]
    W1 = params[36:36 + 6 * K].reshape(6, K)
    b1 = params[36 + 6 * K:]
    Z = np.tanh(X @ W0 + b0) @ W1 + b1
    expected = reference_loss(out_name, Z, Y, w)
    assert_allclose(loss, expected, rtol=1e-12 if dtype == np.float64 else 2e-5)


@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.0, 0.3), (0.05, 0.0), (0.05, 0.3)])
def test_penalized_step_is_a_proximal_gradient_step(l1, l2):
    """One full-batch SGD step (no momentum) = prox of a gradient step on data loss +
    l2/2 ||W||^2 with threshold lr * l1 on weights; biases move by the plain gradient."""
    X, Y, w, rng = _problem(_mlp.SOFTMAX, 3, seed=2)
    sizes = np.array([X.shape[1], 4, 3], dtype=np.intp)
    params = rng.standard_normal(_mlp.parameter_count(sizes))
    lr = 0.1
    _, grad, _ = full_batch(params, sizes, X, Y, w, _mlp.RELU, _mlp.SOFTMAX, [0, 0], 0)
    _, _, stepped = full_batch(params, sizes, X, Y, w, _mlp.RELU, _mlp.SOFTMAX, [0, 0], 0,
                               solver=_mlp.SGD, l1=l1, l2=l2, lr=lr)
    is_weight = np.zeros(len(params), dtype=bool)
    is_weight[:20], is_weight[24:36] = True, True
    z = params - lr * (grad + l2 * params * is_weight)
    threshold = lr * l1 * is_weight
    expected = np.sign(z) * np.maximum(np.abs(z) - threshold, 0)
    assert_allclose(stepped, expected, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------
# Fitted models against the reference
# --------------------------------------------------------------------------

def _digits(n_train=None):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y,
                            train_size=n_train)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_predictions_follow_the_fitted_weights(dtype, sparse):
    X, y = make_classification(120, 8, n_classes=3, n_informative=5, random_state=0)
    X = sp.csr_matrix(X) if sparse else X
    clf = RegularizedMLPClassifier((7, 5), activation="tanh", max_iter=5, dropout=0.3,
                                   random_state=0, dtype=dtype).fit(X, y)
    assert clf.coefs_[0].dtype == np.dtype(dtype)
    assert clf.predict_proba(X).dtype == np.dtype(dtype)
    expected = reference_output(clf, X)
    rtol = 1e-10 if dtype == "float64" else 1e-4
    assert_allclose(clf.predict_proba(X), expected, rtol=rtol, atol=rtol)
    assert_array_equal(clf.predict(X), clf.classes_[np.argmax(expected, axis=1)])
    # dropout is off at predict time: predictions are deterministic
    assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))

    reg = RegularizedMLPRegressor((6,), max_iter=5, random_state=0, dtype=dtype).fit(
        X, y.astype(float))
    assert_allclose(reg.predict(X), reference_output(reg, X)[:, 0], rtol=rtol, atol=rtol)


def test_loss_curve_is_the_objective_and_decreases():
    X, y = make_classification(300, 10, random_state=1)
    est = RegularizedMLPClassifier((20,), penalty="elasticnet", alpha=1e-3, l1_ratio=0.3,
                                   batch_size=300, solver="sgd", momentum=0.0,
                                   learning_rate_init=0.1, max_iter=30, tol=0, random_state=0,
                                   dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(est.loss_curve_) == est.n_iter_ == 30
    assert np.all(np.diff(est.loss_curve_) < 0)  # full-batch gradient steps, small rate
    # the last entry is the epoch's (pre-step) data loss plus the penalty after the step;
    # the objective at the final weights is a little lower
    Z = reference_output(est, X)[:, 0]
    data = np.mean(np.logaddexp(0, np.log(Z / (1 - Z))) - y * np.log(Z / (1 - Z)))
    W = np.concatenate([c.ravel() for c in est.coefs_])
    objective = data + 1e-3 * (0.3 * np.abs(W).sum() + 0.35 * (W ** 2).sum())
    assert objective <= est.loss_curve_[-1] + 1e-12


def test_same_random_state_same_model_with_dropout():
    X, y = make_classification(200, 12, random_state=0)
    params = dict(hidden_layer_sizes=(16, 8), dropout=[0.3, 0.2], input_dropout=0.1,
                  max_iter=5, batch_size=32)
    a = RegularizedMLPClassifier(**params, random_state=3).fit(X, y)
    b = RegularizedMLPClassifier(**params, random_state=3).fit(X, y)
    c = RegularizedMLPClassifier(**params, random_state=4).fit(X, y)
    for Wa, Wb, Wc in zip(a.coefs_, b.coefs_, c.coefs_):
        assert_array_equal(Wa, Wb)
        assert not np.array_equal(Wa, Wc)


def test_training_dropout_rate_is_applied_and_inverted():
    """One sample through 1 -> H identity units (weights 1) -> 1 output (weights 1/H),
    hidden dropout 0.4 from the generator: the output is the mean of keep / 0.6 (about 1,
    the inverted scaling), and the hidden bias gradient is zero exactly on dropped units."""
    H, rate = 20000, 0.4
    sizes = np.array([1, H, 1], dtype=np.intp)
    params = np.zeros(_mlp.parameter_count(sizes))
    params[:H] = 1.0                    # W0
    params[2 * H:3 * H] = 1.0 / H       # W1
    _, grad, _ = full_batch(params, sizes, np.ones((1, 1)), np.zeros((1, 1)), np.ones(1),
                            _mlp.IDENTITY, _mlp.IDENTITY, [0.0, rate], seed=7)
    output = grad[-1]                   # d loss / d b1 = prediction - 0
    hidden_bias_grad = grad[H:2 * H]
    assert abs(np.mean(hidden_bias_grad == 0) - rate) < 0.01
    assert abs(output - 1.0) < 0.02
    kept = hidden_bias_grad != 0
    assert_allclose(hidden_bias_grad[kept], output / H / (1 - rate))


def test_sample_weight_equals_repeating_rows_full_batch():
    X, y = make_classification(60, 6, random_state=2)
    sw = np.random.default_rng(0).integers(0, 3, len(y))
    params = dict(hidden_layer_sizes=(8,), batch_size=1000, solver="sgd", momentum=0.0,
                  learning_rate_init=0.1, max_iter=20, random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = RegularizedMLPClassifier(**params).fit(X, y, sample_weight=sw)
        repeated = RegularizedMLPClassifier(**params).fit(np.repeat(X, sw, axis=0),
                                                          np.repeat(y, sw))
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)


def test_class_weight_is_a_per_class_sample_weight():
    X, y = make_classification(150, 6, weights=[0.8, 0.2], random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        balanced = RegularizedMLPClassifier(**params, class_weight="balanced").fit(X, y)
        counts = np.bincount(y)
        manual = RegularizedMLPClassifier(**params).fit(
            X, y, sample_weight=(len(y) / (2 * counts))[y])
        as_dict = RegularizedMLPClassifier(**params, class_weight={0: 1.0, 1: 4.0}).fit(X, y)
    assert_allclose(balanced.predict_proba(X), manual.predict_proba(X), rtol=1e-9)
    # up-weighting the minority class raises its predicted probability
    plain = RegularizedMLPClassifier(**params).fit(X, y)
    assert as_dict.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_penalty_strength_does_not_depend_on_batch_size():
    """Full-batch gradient descent on the same objective: batch size n and 2n samples of
    duplicated data give one model, and the L2 penalty shrinks both alike."""
    X, y = make_classification(80, 5, random_state=3)
    params = dict(hidden_layer_sizes=(6,), solver="sgd", momentum=0.0, learning_rate_init=0.2,
                  max_iter=15, alpha=0.05, random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small = RegularizedMLPClassifier(**params, batch_size=80).fit(X, y)
        large = RegularizedMLPClassifier(**params, batch_size=160).fit(np.vstack([X, X]),
                                                                       np.tile(y, 2))
    for a, b in zip(small.coefs_, large.coefs_):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_l1_gives_exact_zeros_and_layer_alphas_select_layers():
    X, y = make_classification(300, 20, n_informative=4, random_state=0)
    common = dict(hidden_layer_sizes=(32,), max_iter=40, random_state=0, penalty="l1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RegularizedMLPClassifier(**common, alpha=1e-2).fit(X, y)
        first_only = RegularizedMLPClassifier(**common, layer_alphas=[1e-2, 0.0]).fit(X, y)
    weights = np.concatenate([W.ravel() for W in est.coefs_])
    assert est.sparsity_ == pytest.approx(np.mean(weights == 0))
    assert est.sparsity_ > 0.5
    assert np.mean(first_only.coefs_[0] == 0) > 0.5
    assert np.mean(first_only.coefs_[1] == 0) < 0.1
    assert np.all(np.concatenate(est.intercepts_) != 0)  # biases are not penalized


# --------------------------------------------------------------------------
# Quality on scikit-learn's data sets (the acceptance points)
# --------------------------------------------------------------------------

def test_digits_accuracy_matches_sklearn_mlp():
    """Same architecture, solver, batch size and epochs (penalty mapped: alpha_sk / batch);
    mean test accuracy over 3 seeds within 1 point of MLPClassifier or above."""
    X_train, X_test, y_train, y_test = _digits()
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(3):
            theirs.append(MLPClassifier((64,), batch_size=64, max_iter=30, alpha=1e-4,
                                        random_state=seed).fit(X_train, y_train)
                          .score(X_test, y_test))
            ours.append(RegularizedMLPClassifier((64,), batch_size=64, max_iter=30,
                                                 alpha=1e-4 / 64, random_state=seed)
                        .fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(theirs) - 0.01, (ours, theirs)


def test_l1_makes_half_the_digits_weights_zero_at_little_cost():
    """penalty="l1", alpha=1.5e-3 (the value documented in README): >= 50% of the weights
    exactly zero, test accuracy within 2 points of the unregularized net (3 seeds)."""
    X_train, X_test, y_train, y_test = _digits()
    sparse_acc, dense_acc, sparsity = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(3):
            params = dict(hidden_layer_sizes=(64,), batch_size=64, max_iter=60,
                          random_state=seed)
            l1 = RegularizedMLPClassifier(**params, penalty="l1", alpha=1.5e-3).fit(
                X_train, y_train)
            sparse_acc.append(l1.score(X_test, y_test))
            sparsity.append(l1.sparsity_)
            dense_acc.append(RegularizedMLPClassifier(**params, penalty=None)
                             .fit(X_train, y_train).score(X_test, y_test))
    assert min(sparsity) >= 0.5, sparsity
    assert np.mean(sparse_acc) >= np.mean(dense_acc) - 0.02, (sparse_acc, dense_acc)


def test_regularization_helps_an_overfitting_net():
    """100 training samples, 100 features (10 informative, 5% label noise), a 256-256 net
    trained 300 epochs: L2 lowers the held-out log-loss and raises the held-out accuracy,
    averaged over 5 seeds.  (Dropout 0.5 alone does not help here: measured 0.736 accuracy
    against 0.735 and a higher log-loss, since it does not bound the weights.)"""
    results = {"none": [], "l2": []}
    settings = {"none": dict(penalty=None), "l2": dict(penalty="l2", alpha=3e-2)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(5):
            X, y = make_classification(1100, 100, n_informative=10, n_redundant=0,
                                       flip_y=0.05, random_state=seed)
            X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=100,
                                                                random_state=seed)
            for name, kw in settings.items():
                est = RegularizedMLPClassifier((256, 256), max_iter=300, batch_size=32,
                                               random_state=seed, **kw).fit(X_train, y_train)
                results[name].append((log_loss(y_test, est.predict_proba(X_test)),
                                      est.score(X_test, y_test)))
    mean = {k: np.mean(v, axis=0) for k, v in results.items()}
    assert mean["l2"][0] < 0.9 * mean["none"][0], mean
    assert mean["l2"][1] > mean["none"][1] + 0.005, mean


def test_regression_r2_is_comparable_to_sklearn():
    X, y = make_friedman1(2000, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), RegularizedMLPRegressor(
        (64, 64), max_iter=300, alpha=1e-4 / 200, random_state=0))
    reference = make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(64, 64), max_iter=300, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = model.fit(X_train, y_train).score(X_test, y_test)
        theirs = reference.fit(X_train, y_train).score(X_test, y_test)
    assert ours >= theirs - 0.02 and ours > 0.9, (ours, theirs)


# --------------------------------------------------------------------------
# Task selection, multilabel, multi-output
# --------------------------------------------------------------------------

def test_task_auto_picks_from_the_target_type():
    X, y = make_classification(100, 5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RegularizedMLP((8,), max_iter=5, random_state=0).fit(X, np.array(["a", "b"])[y])
        reg = RegularizedMLP((8,), max_iter=5, random_state=0).fit(X, y.astype(float))
        forced = RegularizedMLP((8,), max_iter=5, task="regression", random_state=0).fit(X, y)
    assert clf.task_ == "classification" and set(clf.predict(X)) <= {"a", "b"}
    assert clf.predict_proba(X).shape == (100, 2)
    assert reg.task_ == "regression" and reg.predict(X).dtype.kind == "f"
    assert not hasattr(reg, "predict_proba") and not hasattr(forced, "predict_proba")
    assert forced.task_ == "regression"


def test_multilabel_and_multioutput():
    X, y = make_classification(200, 8, random_state=0)
    Y = np.column_stack([y, 1 - y, (X[:, 0] > 0).astype(int)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RegularizedMLPClassifier((16,), max_iter=300, random_state=0).fit(X, Y)
        reg = RegularizedMLPRegressor((16,), max_iter=300, random_state=0).fit(X, Y * 1.0)
    assert clf.out_activation_ == "logistic" and clf.predict(X).shape == (200, 3)
    assert clf.predict_proba(X).shape == (200, 3)
    assert np.mean(clf.predict(X) == Y) > 0.8  # per-label accuracy
    assert reg.predict(X).shape == (200, 3)
    assert reg.score(X, Y * 1.0) > 0.5


# --------------------------------------------------------------------------
# Early stopping, partial_fit, warm_start, verbose
# --------------------------------------------------------------------------

@pytest.mark.parametrize("monitor", ["score", "loss"])
def test_early_stopping_restores_the_best_weights(monitor):
    X_train, X_test, y_train, y_test = _digits()
    params = dict(hidden_layer_sizes=(32,), early_stopping=True, monitor=monitor,
                  random_state=0, dtype="float64")
    # tol=0: stop after 10 epochs without any improvement
    est = RegularizedMLPClassifier(**params, n_iter_no_change=10, tol=0.0, max_iter=500,
                                   learning_rate_init=3e-3).fit(X_train, y_train)
    assert est.n_iter_ < 500
    assert len(est.validation_scores_) == len(est.validation_losses_) == est.n_iter_
    if monitor == "score":
        best = int(np.argmax(est.validation_scores_))
        assert est.best_validation_score_ == max(est.validation_scores_)
    else:
        best = int(np.argmin(est.validation_losses_))
        assert est.best_validation_loss_ == min(est.validation_losses_)
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert best == est.n_iter_ - 11  # it ran past the best epoch ...
    # ... and restored that epoch's weights: the same run stopped right after it ends there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        until_best = RegularizedMLPClassifier(**params, n_iter_no_change=1000, tol=0.0,
                                              learning_rate_init=3e-3,
                                              max_iter=best + 1).fit(X_train, y_train)
    for a, b in zip(est.coefs_, until_best.coefs_):
        assert_array_equal(a, b)
    assert est.score(X_test, y_test) > 0.9


def test_partial_fit_trains_epoch_by_epoch_and_needs_classes():
    X, y = make_classification(200, 8, random_state=0)
    est = RegularizedMLPClassifier((16,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    est = RegularizedMLPClassifier((16,), random_state=0)
    for _ in range(20):
        est.partial_fit(X[:100], y[:100], classes=[0, 1])
    assert est.n_iter_ == 20 and len(est.loss_curve_) == 20
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X[:10], y[:10] + 5)
    # one partial_fit epoch from a fresh state equals fit with max_iter=1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = RegularizedMLPClassifier((16,), random_state=0, max_iter=1).fit(X, y)
    once = RegularizedMLPClassifier((16,), random_state=0).partial_fit(X, y, classes=[0, 1])
    assert_allclose(once.coefs_[0], fitted.coefs_[0])


def test_partial_fit_with_early_stopping_keeps_the_best_weights():
    X, y = make_classification(400, 8, random_state=0)
    est = RegularizedMLPClassifier((16,), early_stopping=True, n_iter_no_change=2,
                                   validation_fraction=0.25, random_state=0)
    for _ in range(15):
        est.partial_fit(X, y, classes=[0, 1])
    assert len(est.validation_scores_) == 15
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_warm_start_continues_and_fit_restarts():
    X, y = make_classification(200, 8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = RegularizedMLPClassifier((16,), max_iter=5, warm_start=True, random_state=0,
                                       tol=0).fit(X, y)
        est.fit(X, y)
        assert est.n_iter_ == 10 and len(est.loss_curve_) == 10
        longer = RegularizedMLPClassifier((16,), max_iter=10, random_state=0, tol=0).fit(X, y)
        cold = clone(est).set_params(warm_start=False).fit(X, y).fit(X, y)
    assert est.loss_curve_[-1] < est.loss_curve_[4]
    assert cold.n_iter_ == 5
    assert longer.n_iter_ == 10


def test_verbose_prints_one_line_per_epoch():
    X, y = make_classification(100, 5, random_state=0)
    buffer = io.StringIO()
    with redirect_stdout(buffer), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        RegularizedMLPClassifier((8,), max_iter=4, verbose=1, early_stopping=True,
                                 random_state=0).fit(X, y)
    lines = buffer.getvalue().strip().splitlines()
    assert len(lines) == 4
    assert all(re.match(r"epoch\s+\d+\s+loss [\d.]+\s+val_loss [\d.]+\s+val_score [\d.]+\s+"
                        r"[\d.]+s$", line) for line in lines), lines


def test_convergence_stops_early_without_warning():
    X, y = make_classification(200, 5, class_sep=3.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = RegularizedMLPClassifier((8,), max_iter=500, tol=1e-2, random_state=0).fit(X, y)
    assert est.n_iter_ < 500


def test_divergence_warns_and_keeps_finite_weights():
    X, y = make_classification(100, 5, random_state=0)
    X = X * 1e18
    with pytest.warns(ConvergenceWarning):
        est = RegularizedMLPRegressor((8,), solver="sgd", learning_rate_init=10.0,
                                      max_iter=20, random_state=0).fit(X, y * 1e18)
    assert all(np.all(np.isfinite(W)) for W in est.coefs_ + est.intercepts_)


# --------------------------------------------------------------------------
# scikit-learn tooling
# --------------------------------------------------------------------------

def test_clone_pickle_pipeline_and_grid_search():
    X_train, X_test, y_train, y_test = _digits(n_train=500)
    est = RegularizedMLPClassifier((32,), max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), est).fit(X_train, y_train)
        restored = pickle.loads(pickle.dumps(pipe))
        assert_array_equal(restored.predict_proba(X_test), pipe.predict_proba(X_test))
        # the restored model keeps training from its weights (coefs_ are views of them)
        step = restored[-1]
        step.partial_fit(StandardScaler().fit(X_train).transform(X_train), y_train)
        assert not np.array_equal(step.coefs_[0], pipe[-1].coefs_[0])
        assert np.shares_memory(step.coefs_[0], step._network.params)
        search = GridSearchCV(make_pipeline(StandardScaler(), clone(est)),
                              {"regularizedmlpclassifier__alpha": [1e-4, 1e-2],
                               "regularizedmlpclassifier__dropout": [0.0, 0.3]}, cv=2)
        search.fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert search.score(X_test, y_test) > 0.85
    assert clone(est).get_params() == est.get_params()


def test_fortran_readonly_and_float64_input_are_accepted():
    X, y = make_classification(120, 6, random_state=0)
    X_f = np.asfortranarray(X)
    X_f.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = RegularizedMLPClassifier((8,), max_iter=5, random_state=0).fit(X_f, y)
        b = RegularizedMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert a.coefs_[0].dtype == np.float32


def test_sparse_input_trains_like_dense():
    X, y = make_classification(150, 20, random_state=0)
    X[np.abs(X) < 0.8] = 0
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = RegularizedMLPClassifier(**params).fit(X, y)
        sparse = RegularizedMLPClassifier(**params).fit(sp.csr_matrix(X), y)
        csc = RegularizedMLPClassifier(**params).fit(sp.csc_matrix(X), y)
    assert_allclose(sparse.coefs_[0], dense.coefs_[0], rtol=1e-9, atol=1e-12)
    assert_allclose(csc.predict_proba(X), dense.predict_proba(X), rtol=1e-9)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    (dict(dropout=1.0), "dropout"),
    (dict(dropout=[0.1, 0.2]), "one per hidden layer"),
    (dict(input_dropout=-0.1), "input_dropout"),
    (dict(layer_alphas=[1e-3]), "layer_alphas"),
    (dict(layer_alphas=[1e-3, -1.0]), "layer_alphas"),
    (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes"),
    (dict(penalty="l3"), "penalty"),
    (dict(solver="lbfgs"), "solver"),
    (dict(activation="softplus"), "activation"),
    (dict(batch_size=0), "batch_size"),
    (dict(monitor="accuracy"), "monitor"),
    (dict(dtype="float16"), "dtype"),
    (dict(alpha=-1.0), "alpha"),
    (dict(learning_rate_init=0.0), "learning_rate_init"),
])
def test_bad_parameters_raise_clear_errors(params, message):
    X, y = make_classification(50, 4, random_state=0)
    with pytest.raises(ValueError, match=message):
        RegularizedMLPClassifier(**params).fit(X, y)


def test_bad_data_raise_clear_errors():
    X, y = make_classification(50, 4, random_state=0)
    est = RegularizedMLPClassifier((4,), max_iter=2)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X_nan, y)
    with pytest.raises(ValueError, match="only one class"):
        est.fit(X, np.zeros(50))
    with pytest.raises(ValueError):
        RegularizedMLPClassifier().fit(X, np.linspace(0, 1, 50))  # continuous labels
    with pytest.raises(ValueError, match="[Ss]ample.weight"):
        est.fit(X, y, sample_weight=np.zeros(50))
    with pytest.raises(NotFittedError):
        est.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="0 sample"):
        est.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="early_stopping"):
        RegularizedMLPClassifier(early_stopping=True, validation_fraction=0.9).fit(
            X[:3], np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="inf|infinity"):
        RegularizedMLPRegressor().fit(X, np.full(50, np.inf))
