# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Element-wise kernels of the multilayer perceptron (groundwork for issue 4).

The matrix products of the forward and backward passes are BLAS gemm calls;
everything between them is one pass over an array here:

- ``forward_activation``: A = dropout(act(Z + b)) in place, inverted dropout
  (a unit is kept when its uniform draw u >= rate, and scaled by 1/(1-rate)).
- ``backward_activation``: dZ = dA * act'(.) * keep / (1 - rate) in place,
  from the layer's output A and the same draws (no mask array is stored).
- ``adam_step`` / ``sgd_step``: the optimizer update fused with the penalty
  alpha * (r |w| + (1-r)/2 w^2): the L2 part enters the gradient, the L1 part
  is a proximal (soft-threshold) step with the update's own per-coordinate
  step size, so weights become exactly zero.
"""
from cython cimport floating
from libc.math cimport exp, sqrt, tanh

cdef enum:
    _IDENTITY = 0
    _RELU = 1
    _TANH = 2
    _LOGISTIC = 3

IDENTITY = _IDENTITY
RELU = _RELU
TANH = _TANH
LOGISTIC = _LOGISTIC


cdef inline double _act(int activation, double z) noexcept nogil:
    if activation == _RELU:
        return z if z > 0.0 else 0.0
    if activation == _TANH:
        return tanh(z)
    if activation == _LOGISTIC:
        if z >= 0.0:
            return 1.0 / (1.0 + exp(-z))
        return exp(z) / (1.0 + exp(z))
    return z


cdef inline double _act_derivative(int activation, double a) noexcept nogil:
    """act'(z) written through a = act(z)."""
    if activation == _RELU:
        return 1.0 if a > 0.0 else 0.0
    if activation == _TANH:
        return 1.0 - a * a
    if activation == _LOGISTIC:
        return a * (1.0 - a)
    return 1.0


cdef inline double _soft_threshold(double w, double t) noexcept nogil:
    if w > t:
        return w - t
    if w < -t:
        return w + t
    return 0.0


def forward_activation(floating[:, ::1] Z, const floating[::1] b, int activation,
                       const floating[:, ::1] draws, double rate):
    """Z <- act(Z + b), then inverted dropout with ``draws`` (ignored if rate == 0)."""
    cdef Py_ssize_t m = Z.shape[0], k = Z.shape[1], i, j
    cdef bint dropout = rate > 0.0
    cdef double scale = 1.0 / (1.0 - rate) if dropout else 1.0
    with nogil:
        for i in range(m):
            for j in range(k):
                if dropout and draws[i, j] < rate:
                    Z[i, j] = 0.0
                else:
                    Z[i, j] = <floating> (_act(activation, Z[i, j] + b[j]) * scale)


def backward_activation(floating[:, ::1] dA, const floating[:, ::1] A, int activation,
                        const floating[:, ::1] draws, double rate):
    """dA <- dA * d(dropout(act(z)))/dz, from the output A of forward_activation."""
    cdef Py_ssize_t m = dA.shape[0], k = dA.shape[1], i, j
    cdef bint dropout = rate > 0.0
    cdef double keep = 1.0 - rate if dropout else 1.0
    with nogil:
        for i in range(m):
            for j in range(k):
                if dropout and draws[i, j] < rate:
                    dA[i, j] = 0.0
                else:
                    # A = act(z) / keep for a kept unit.
                    dA[i, j] = <floating> (dA[i, j] * _act_derivative(activation, A[i, j] * keep)
                                           / keep)


def adam_step(floating[::1] w, const floating[::1] grad, floating[::1] m, floating[::1] v,
              double learning_rate, double beta1, double beta2, double epsilon, int t,
              double l1, double l2):
    """One Adam update of w (step t >= 1) on grad + l2 w, then the L1 prox step.

    The prox threshold is l1 times the coordinate's Adam step size
    lr_t / (sqrt(v) + eps), lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t).
    """
    cdef Py_ssize_t p = w.shape[0], j
    cdef double lr_t = learning_rate * sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    cdef double g, step
    with nogil:
        for j in range(p):
            g = grad[j] + l2 * w[j]
            m[j] = <floating> (beta1 * m[j] + (1.0 - beta1) * g)
            v[j] = <floating> (beta2 * v[j] + (1.0 - beta2) * g * g)
            step = lr_t / (sqrt(v[j]) + epsilon)
            w[j] = <floating> _soft_threshold(w[j] - step * m[j], step * l1)


def sgd_step(floating[::1] w, const floating[::1] grad, floating[::1] velocity,
             double learning_rate, double momentum, bint nesterov, double l1, double l2):
    """One SGD step with (Nesterov) momentum on grad + l2 w, then the L1 prox step
    with threshold learning_rate * l1."""
    cdef Py_ssize_t p = w.shape[0], j
    cdef double g, update
    with nogil:
        for j in range(p):
            g = grad[j] + l2 * w[j]
            velocity[j] = <floating> (momentum * velocity[j] - learning_rate * g)
            update = momentum * velocity[j] - learning_rate * g if nesterov else velocity[j]
            w[j] = <floating> _soft_threshold(w[j] + update, learning_rate * l1)
