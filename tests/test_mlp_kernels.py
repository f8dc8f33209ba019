"""The MLP's element-wise kernels (sklreg._core._mlp) against numpy references."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit

from sklreg._core import _mlp

ACTIVATIONS = {
    "identity": (_mlp.IDENTITY, lambda z: z, lambda z: np.ones_like(z)),
    "relu": (_mlp.RELU, lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "tanh": (_mlp.TANH, np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "logistic": (_mlp.LOGISTIC, expit, lambda z: expit(z) * (1 - expit(z))),
}
RTOL = {np.float64: 1e-12, np.float32: 1e-5}


def _layer(dtype, seed=0, shape=(7, 5)):
    rng = np.random.default_rng(seed)
    Z = (3 * rng.standard_normal(shape)).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    draws = rng.random(shape).astype(dtype)
    return Z, b, draws


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rate", [0.0, 0.4])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_and_backward_match_numpy(name, rate, dtype):
    code, act, deriv = ACTIVATIONS[name]
    Z, b, draws = _layer(dtype)
    keep = draws >= rate
    pre = Z.astype(np.float64) + b
    expected_A = np.where(keep, act(pre) / (1 - rate), 0.0)
    A = Z.copy()
    _mlp.forward_activation(A, b, code, draws, rate)
    assert A.dtype == dtype
    assert_allclose(A, expected_A, rtol=RTOL[dtype], atol=RTOL[dtype])
    if rate > 0:
        assert np.all(A[~keep] == 0) and np.any(~keep) and np.any(keep)

    dA = np.random.default_rng(1).standard_normal(Z.shape).astype(dtype)
    expected_dZ = np.where(keep, dA * deriv(pre) / (1 - rate), 0.0)
    dZ = dA.copy()
    bias_grad = _mlp.backward_activation(dZ, A, code, draws, rate)
    assert_allclose(dZ, expected_dZ, rtol=10 * RTOL[dtype], atol=10 * RTOL[dtype])
    assert_allclose(bias_grad, expected_dZ.sum(axis=0), rtol=10 * RTOL[dtype],
                    atol=50 * RTOL[dtype])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_backward_is_the_derivative_of_forward(name):
    """Finite differences of sum(c * forward(z)) with a fixed dropout mask."""
    code, _, _ = ACTIVATIONS[name]
    Z, b, draws = _layer(np.float64, seed=2)
    Z += 0.05 * np.sign(Z)  # keep relu away from its kink
    rate, h = 0.3, 1e-6
    c = np.random.default_rng(3).standard_normal(Z.shape)

    def f(Z_):
        A_ = Z_.copy()
        _mlp.forward_activation(A_, b, code, draws, rate)
        return A_

    A = f(Z)
    grad = c.copy()
    _mlp.backward_activation(grad, A, code, draws, rate)
    numeric = (f(Z + h) - f(Z - h)) * c / (2 * h)  # each entry depends on its own z only
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def _adam_reference(w, g, m, v, lr, b1, b2, eps, t, l1, l2):
    g = g + l2 * w
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    step = lr * np.sqrt(1 - b2**t) / (1 - b1**t) / (np.sqrt(v) + eps)
    z = w - step * m
    return np.sign(z) * np.maximum(np.abs(z) - step * l1, 0), m, v


def _sgd_reference(w, g, vel, lr, mom, nesterov, l1, l2):
    g = g + l2 * w
    vel = mom * vel - lr * g
    z = w + (mom * vel - lr * g if nesterov else vel)
    return np.sign(z) * np.maximum(np.abs(z) - lr * l1, 0), vel


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.0, 0.1), (0.05, 0.0), (0.03, 0.02)])
def test_adam_step_matches_reference(l1, l2, dtype):
    rng = np.random.default_rng(4)
    w, g = rng.standard_normal(50), rng.standard_normal(50)
    m, v = 0.1 * rng.standard_normal(50), rng.random(50)
    w[:5], g[:5], m[:5] = 1e-4, 0.0, 0.0  # small weights with no push: L1 zeroes them
    args = (1e-1, 0.9, 0.999, 1e-8, 3, l1, l2)
    ew, em, ev = _adam_reference(w, g, m, v, *args)
    w_, m_, v_ = (a.astype(dtype) for a in (w, m, v))
    _mlp.adam_step(w_, g.astype(dtype), m_, v_, *args)
    for got, exp in [(w_, ew), (m_, em), (v_, ev)]:
        assert_allclose(got, exp, rtol=RTOL[dtype], atol=RTOL[dtype])
    assert np.all(w_[:5] == 0) == (l1 > 0)  # the prox step gives exact zeros


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.0, 0.1), (0.5, 0.0), (0.3, 0.2)])
def test_sgd_step_matches_reference(l1, l2, nesterov, dtype):
    rng = np.random.default_rng(5)
    w, g, vel = rng.standard_normal(50), rng.standard_normal(50), rng.standard_normal(50)
    w[:5], g[:5], vel[:5] = 0.01, 0.0, 0.0  # small weights with no push: L1 zeroes them
    args = (0.1, 0.9, nesterov, l1, l2)
    ew, evel = _sgd_reference(w, g, vel, *args)
    w_, vel_ = w.astype(dtype), vel.astype(dtype)
    _mlp.sgd_step(w_, g.astype(dtype), vel_, *args)
    assert_allclose(w_, ew, rtol=RTOL[dtype], atol=RTOL[dtype])
    assert_allclose(vel_, evel, rtol=RTOL[dtype], atol=RTOL[dtype])
    assert np.all(w_[:5] == 0) == (l1 > 0)
