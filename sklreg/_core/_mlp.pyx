# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Compiled core of the multilayer perceptron.

A network with layer sizes s_0 (inputs), s_1, ..., s_L (outputs) keeps all of
its parameters in one flat array: for each layer j = 0..L-1 the weights W_j
(s_j x s_{j+1}, row-major) followed by the biases b_j (s_{j+1}).  Gradients
and optimizer moments use the same layout, so one optimizer pass covers the
whole network.

``train_epoch`` runs one epoch of mini-batch training without the GIL and
without allocating: per batch it gathers the rows, runs the forward pass
(gemm + one fused bias / activation / dropout pass per layer), the output
loss and its gradient in one pass, the backward pass (gemm + one fused
derivative / dropout / bias-gradient pass per layer) and one optimizer pass
fused with the penalty.  Dropout masks come from a counter-based generator
(splitmix64) whose state the caller owns, so a seed fixes the model.

The element-wise kernels are also exposed one by one for the tests.
"""
import numpy as np

from cython cimport floating
from libc.math cimport exp, log, log1p, sqrt, sqrtf, tanh, fabs
from libc.stdint cimport uint64_t, uint32_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset

from ._blas cimport _gemm, _axpy

cdef enum:
    _IDENTITY = 0
    _RELU = 1
    _TANH = 2
    _LOGISTIC = 3
    _SOFTMAX = 4

IDENTITY = _IDENTITY
RELU = _RELU
TANH = _TANH
LOGISTIC = _LOGISTIC
SOFTMAX = _SOFTMAX  # output only

cdef enum:
    _NO_STEP = 0
    _ADAM = 1
    _SGD = 2

NO_STEP = _NO_STEP
ADAM = _ADAM
SGD = _SGD


# --------------------------------------------------------------------------
# Scalar pieces
# --------------------------------------------------------------------------

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


cdef inline uint64_t _splitmix64(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += <uint64_t> 0x9E3779B97F4A7C15
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t> 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t> 0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline uint32_t _drop_threshold(double rate) noexcept nogil:
    # A unit is dropped when its 32-bit draw is below rate * 2^32.
    return <uint32_t> (rate * 4294967296.0) if rate < 1.0 else <uint32_t> 0xFFFFFFFF


cdef inline bint _dropped(uint64_t* rng, uint32_t threshold) noexcept nogil:
    return (<uint32_t> (_splitmix64(rng) >> 32)) < threshold


# --------------------------------------------------------------------------
# Element-wise passes over one (m x k) row-major block
# --------------------------------------------------------------------------

cdef void _draw_keep(unsigned char* keep, Py_ssize_t size, double rate,
                     uint64_t* rng) noexcept nogil:
    """keep[j] = 1 with probability 1 - rate: four 16-bit draws per 64-bit
    number (rate is resolved to 1/65536)."""
    cdef Py_ssize_t j, q
    cdef uint64_t bits
    cdef uint32_t threshold = <uint32_t> (rate * 65536.0 + 0.5)
    for j in range(0, size, 4):
        bits = _splitmix64(rng)
        for q in range(4):
            if j + q < size:
                keep[j + q] = (<uint32_t> (bits & 0xFFFF)) >= threshold
            bits >>= 16


cdef void _forward_pass(floating* Z, const floating* b, Py_ssize_t m, Py_ssize_t k,
                        int activation, double rate, unsigned char* keep,
                        uint64_t* rng) noexcept nogil:
    """Z <- dropout(act(Z + b)) in place.

    With rate > 0, ``keep`` holds one byte per entry: drawn here when ``rng``
    is given, read as is otherwise.  Survivors are scaled by 1 / (1 - rate).
    """
    cdef Py_ssize_t i, j
    cdef bint dropout = rate > 0.0
    cdef floating scale = <floating> (1.0 / (1.0 - rate) if dropout else 1.0)
    cdef floating* row
    cdef unsigned char* keep_row
    if dropout and rng != NULL:
        _draw_keep(keep, m * k, rate, rng)
    for i in range(m):
        row = Z + i * k
        if activation == _RELU:
            if floating is float:
                sklreg_relu_forward_f32(row, b, k)
            else:
                sklreg_relu_forward_f64(row, b, k)
        elif activation != _IDENTITY:
            for j in range(k):
                row[j] = <floating> _act(activation, row[j] + b[j])
        else:
            for j in range(k):
                row[j] = row[j] + b[j]
        if dropout:
            keep_row = keep + i * k
            for j in range(k):
                row[j] = row[j] * scale * keep_row[j]


cdef void _backward_pass(floating* dA, const floating* A, Py_ssize_t m, Py_ssize_t k,
                         int activation, double rate, const unsigned char* keep,
                         floating* bias_grad) noexcept nogil:
    """dA <- dA * d dropout(act(z)) / dz in place, from A = forward output;
    bias_grad <- column sums of the result (the bias gradient)."""
    cdef Py_ssize_t i, j
    cdef bint dropout = rate > 0.0
    cdef floating keep_rate = <floating> (1.0 - rate if dropout else 1.0)
    cdef floating scale = 1 / keep_rate
    cdef floating* row
    cdef const floating* a_row
    cdef const unsigned char* keep_row
    memset(bias_grad, 0, k * sizeof(floating))
    for i in range(m):
        row = dA + i * k
        a_row = A + i * k
        if activation == _RELU:
            if floating is float:
                sklreg_relu_backward_f32(row, a_row, k, scale, bias_grad)
            else:
                sklreg_relu_backward_f64(row, a_row, k, scale, bias_grad)
            continue  # the bias gradient is done
        elif dropout:
            keep_row = keep + i * k
            for j in range(k):
                # A = act(z) / keep_rate for a kept unit.
                row[j] = <floating> (row[j] * keep_row[j]
                                     * _act_derivative(activation, a_row[j] * keep_rate)
                                     * scale)
        elif activation != _IDENTITY:
            for j in range(k):
                row[j] = <floating> (row[j] * _act_derivative(activation, a_row[j]))
        for j in range(k):
            bias_grad[j] += row[j]


cdef double _output_pass(floating* Z, const floating* b, const floating* Y,
                         const floating* weights, const Py_ssize_t* rows,
                         Py_ssize_t m, Py_ssize_t k,
                         int output, double grad_scale, floating* bias_grad) noexcept nogil:
    """Output layer: turns logits Z (+ b) of the rows ``rows`` into dLoss/dZ in
    place and returns their weighted data loss sum_i w_i loss_i.

    identity: loss_i = 1/(2k) sum_c (z - y)^2        dZ = w_i (z - y) / k
    logistic: loss_i = sum_c log(1 + e^z) - y z      dZ = w_i (sigmoid(z) - y)
    softmax:  loss_i = logsumexp(z) - sum_c y z      dZ = w_i (softmax(z) - y)
    dZ is multiplied by ``grad_scale`` (1 / batch size); bias_grad gets its column sums.
    """
    cdef Py_ssize_t i, j
    cdef double total = 0.0, loss, z, zmax, norm, wi, scale
    cdef floating* row
    cdef const floating* y
    if bias_grad != NULL:
        memset(bias_grad, 0, k * sizeof(floating))
    for i in range(m):
        row = Z + i * k
        y = Y + rows[i] * k
        wi = weights[rows[i]]
        scale = wi * grad_scale
        loss = 0.0
        if output == _SOFTMAX:
            zmax = row[0] + b[0]
            for j in range(k):
                z = row[j] + b[j]
                if z > zmax:
                    zmax = z
            norm = 0.0
            for j in range(k):
                z = row[j] + b[j]
                loss -= y[j] * z
                z = exp(z - zmax)
                row[j] = <floating> z
                norm += z
            loss += zmax + log(norm)
            for j in range(k):
                row[j] = <floating> (scale * (row[j] / norm - y[j]))
        elif output == _LOGISTIC:
            for j in range(k):
                z = row[j] + b[j]
                # log(1 + e^z) - y z, stable on both sides
                if z > 0:
                    loss += z + log1p(exp(-z)) - y[j] * z
                else:
                    loss += log1p(exp(z)) - y[j] * z
                row[j] = <floating> (scale * (_act(_LOGISTIC, z) - y[j]))
        else:
            for j in range(k):
                z = row[j] + b[j] - y[j]
                loss += z * z
                row[j] = <floating> (scale * z / k)
            loss *= 0.5 / k
        total += wi * loss
        if bias_grad != NULL:
            for j in range(k):
                bias_grad[j] += row[j]
    return total


cdef void _output_activation(floating* Z, const floating* b, Py_ssize_t m, Py_ssize_t k,
                             int output) noexcept nogil:
    """Z <- out(Z + b): identity, logistic or softmax (row-wise)."""
    cdef Py_ssize_t i, j
    cdef double zmax, norm, z
    cdef floating* row
    for i in range(m):
        row = Z + i * k
        if output == _SOFTMAX:
            zmax = row[0] + b[0]
            for j in range(k):
                if row[j] + b[j] > zmax:
                    zmax = row[j] + b[j]
            norm = 0.0
            for j in range(k):
                z = exp(row[j] + b[j] - zmax)
                row[j] = <floating> z
                norm += z
            for j in range(k):
                row[j] = <floating> (row[j] / norm)
        else:
            for j in range(k):
                row[j] = <floating> _act(output, row[j] + b[j])


# --------------------------------------------------------------------------
# Optimizer steps fused with the penalty (written in C in _mlp_step.h, so
# that they are compiled for AVX2 as well as the baseline)
# --------------------------------------------------------------------------

cdef extern from "_mlp_step.h" nogil:
    void sklreg_adam_f32(float* w, const float* grad, float* m, float* v, Py_ssize_t p,
                         float lr_t, float beta1, float beta2, float epsilon,
                         float l1, float l2)
    void sklreg_adam_f64(double* w, const double* grad, double* m, double* v, Py_ssize_t p,
                         double lr_t, double beta1, double beta2, double epsilon,
                         double l1, double l2)
    void sklreg_sgd_f32(float* w, const float* grad, float* velocity, Py_ssize_t p,
                        float lr, float momentum, int nesterov, float l1, float l2)
    void sklreg_sgd_f64(double* w, const double* grad, double* velocity, Py_ssize_t p,
                        double lr, double momentum, int nesterov, double l1, double l2)
    void sklreg_relu_forward_f32(float* row, const float* b, Py_ssize_t k)
    void sklreg_relu_forward_f64(double* row, const double* b, Py_ssize_t k)
    void sklreg_relu_backward_f32(float* delta, const float* a, Py_ssize_t k, float scale,
                                  float* bias_grad)
    void sklreg_relu_backward_f64(double* delta, const double* a, Py_ssize_t k, double scale,
                                  double* bias_grad)


cdef inline void _adam(floating* w, const floating* grad, floating* m, floating* v,
                       Py_ssize_t p, double lr_t, double beta1, double beta2, double epsilon,
                       double l1, double l2) noexcept nogil:
    if floating is float:
        sklreg_adam_f32(w, grad, m, v, p, <float> lr_t, <float> beta1, <float> beta2,
                        <float> epsilon, <float> l1, <float> l2)
    else:
        sklreg_adam_f64(w, grad, m, v, p, lr_t, beta1, beta2, epsilon, l1, l2)


cdef inline void _sgd(floating* w, const floating* grad, floating* velocity, Py_ssize_t p,
                      double learning_rate, double momentum, bint nesterov,
                      double l1, double l2) noexcept nogil:
    if floating is float:
        sklreg_sgd_f32(w, grad, velocity, p, <float> learning_rate, <float> momentum,
                       nesterov, <float> l1, <float> l2)
    else:
        sklreg_sgd_f64(w, grad, velocity, p, learning_rate, momentum, nesterov, l1, l2)


# --------------------------------------------------------------------------
# Layer products, row-major, through column-major BLAS (C^T = B^T A^T)
# --------------------------------------------------------------------------

cdef inline void _forward_product(const floating* A, const floating* W, floating* Z,
                                  int m, int k, int n) noexcept nogil:
    # Z (m x n) = A (m x k) @ W (k x n)
    _gemm(c'N', c'N', n, m, k, 1, W, n, A, k, 0, Z, n)


cdef inline void _weight_gradient(const floating* A, const floating* D, floating* G,
                                  int m, int k, int n) noexcept nogil:
    # G (k x n) = A^T (k x m) @ D (m x n)
    _gemm(c'N', c'T', n, k, m, 1, D, n, A, k, 0, G, n)


cdef inline void _input_gradient(const floating* D, const floating* W, floating* dA,
                                 int m, int k, int n) noexcept nogil:
    # dA (m x k) = D (m x n) @ W^T (n x k)
    _gemm(c'T', c'N', k, m, n, 1, W, n, D, n, 0, dA, k)


cdef void _sparse_forward_product(const floating* data, const int* indices,
                                  const int* indptr, const Py_ssize_t* rows,
                                  const floating* W, floating* Z, int m, int n,
                                  double rate, uint64_t* rng) noexcept nogil:
    """Z (m x n) = dropout(X[rows]) @ W for CSR X; the input dropout mask is
    drawn from ``rng`` entry by entry (replayed by the gradient)."""
    cdef Py_ssize_t i, q
    cdef double scale = 1.0 / (1.0 - rate) if rate > 0 else 1.0
    cdef uint32_t threshold = _drop_threshold(rate)
    memset(Z, 0, m * n * sizeof(floating))
    for i in range(m):
        for q in range(indptr[rows[i]], indptr[rows[i] + 1]):
            if rate > 0 and _dropped(rng, threshold):
                continue
            _axpy(n, <floating> (data[q] * scale), W + indices[q] * n, 1, Z + i * n, 1)


cdef void _sparse_weight_gradient(const floating* data, const int* indices,
                                  const int* indptr, const Py_ssize_t* rows,
                                  const floating* D, floating* G, int m, int n, int k,
                                  double rate, uint64_t* rng) noexcept nogil:
    """G (k x n) = dropout(X[rows])^T @ D, replaying the forward pass's draws."""
    cdef Py_ssize_t i, q
    cdef double scale = 1.0 / (1.0 - rate) if rate > 0 else 1.0
    cdef uint32_t threshold = _drop_threshold(rate)
    memset(G, 0, <size_t> k * n * sizeof(floating))
    for i in range(m):
        for q in range(indptr[rows[i]], indptr[rows[i] + 1]):
            if rate > 0 and _dropped(rng, threshold):
                continue
            _axpy(n, <floating> (data[q] * scale), D + i * n, 1, G + indices[q] * n, 1)


# --------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------

def parameter_count(const Py_ssize_t[::1] sizes):
    """Length of the flat parameter array of a network with these layer sizes."""
    cdef Py_ssize_t j, total = 0
    for j in range(sizes.shape[0] - 1):
        total += (sizes[j] + 1) * sizes[j + 1]
    return total


def workspace_size(const Py_ssize_t[::1] sizes, Py_ssize_t batch_size, bint dense_input):
    """(floats, mask bytes) that ``train_epoch`` / ``predict`` need for batches
    of ``batch_size`` rows: the gathered input block (dense input only), an
    activation block per layer, a delta block and a dropout mask per hidden layer."""
    cdef Py_ssize_t j, L = sizes.shape[0] - 1, hidden = 0
    for j in range(1, L):
        hidden += sizes[j]
    return (batch_size * ((sizes[0] if dense_input else 0) + 2 * hidden + sizes[L]),
            batch_size * hidden)


cdef struct Layout:
    # Offsets of layer j's weights / biases in the flat parameters and of its
    # activation / delta / mask block in the workspace (j = 0 is the input).
    Py_ssize_t* weights
    Py_ssize_t* biases
    Py_ssize_t* acts
    Py_ssize_t* deltas
    Py_ssize_t* masks


cdef int _layout(Layout* lay, const Py_ssize_t* sizes, Py_ssize_t n_layers,
                 Py_ssize_t batch_size, bint dense_input) noexcept nogil:
    """Fills ``lay`` in the order of ``workspace_size``; 0 on success."""
    cdef Py_ssize_t j, offset = 0, mask = 0
    lay.weights = <Py_ssize_t*> malloc(5 * (n_layers + 1) * sizeof(Py_ssize_t))
    if lay.weights == NULL:
        return -1
    lay.biases = lay.weights + (n_layers + 1)
    lay.acts = lay.biases + (n_layers + 1)
    lay.deltas = lay.acts + (n_layers + 1)
    lay.masks = lay.deltas + (n_layers + 1)
    for j in range(n_layers):
        lay.weights[j] = offset
        lay.biases[j] = offset + sizes[j] * sizes[j + 1]
        offset = lay.biases[j] + sizes[j + 1]
    lay.acts[0] = 0
    offset = batch_size * sizes[0] if dense_input else 0
    for j in range(1, n_layers + 1):
        lay.acts[j] = offset
        offset += batch_size * sizes[j]
    lay.deltas[0] = lay.deltas[n_layers] = -1  # never used
    lay.masks[0] = lay.masks[n_layers] = -1
    for j in range(1, n_layers):
        lay.deltas[j] = offset
        offset += batch_size * sizes[j]
        lay.masks[j] = mask
        mask += batch_size * sizes[j]
    return 0


cdef double _batch(floating* params, floating* grads, const Py_ssize_t* sizes,
                   Py_ssize_t n_layers, const Layout* lay,
                   const floating* X, Py_ssize_t n_features,
                   const floating* X_data, const int* X_indices, const int* X_indptr,
                   bint sparse, const floating* Y, const floating* weights,
                   const Py_ssize_t* rows, Py_ssize_t m, int activation, int output,
                   const double* dropout, floating* work, unsigned char* masks,
                   uint64_t* rng) noexcept nogil:
    """Forward and backward pass over the rows ``rows`` (m of them): fills the
    gradient of (1/m) sum_i w_i loss_i and returns sum_i w_i loss_i."""
    cdef Py_ssize_t i, j, L = n_layers, K = sizes[n_layers]
    cdef floating* A
    cdef uint64_t sparse_rng = rng[0]
    cdef double loss
    cdef double rate
    cdef uint32_t threshold
    cdef double scale

    if sparse:
        # The draws of the input mask are replayed by the weight gradient.
        _sparse_forward_product(X_data, X_indices, X_indptr, rows, params + lay.weights[0],
                                work + lay.acts[1], <int> m, <int> sizes[1], dropout[0], rng)
    else:
        # Gather the batch's rows, with input dropout.
        A = work + lay.acts[0]
        rate = dropout[0]
        if rate > 0:
            threshold = _drop_threshold(rate)
            scale = 1.0 / (1.0 - rate)
            for i in range(m):
                for j in range(n_features):
                    if _dropped(rng, threshold):
                        A[i * n_features + j] = 0
                    else:
                        A[i * n_features + j] = <floating> (X[rows[i] * n_features + j] * scale)
        else:
            for i in range(m):
                memcpy(A + i * n_features, X + rows[i] * n_features,
                       n_features * sizeof(floating))
        _forward_product(A, params + lay.weights[0], work + lay.acts[1],
                         <int> m, <int> n_features, <int> sizes[1])
    for j in range(1, L):
        _forward_pass(work + lay.acts[j], params + lay.biases[j - 1], m, sizes[j],
                      activation, dropout[j], masks + lay.masks[j], rng)
        _forward_product(work + lay.acts[j], params + lay.weights[j], work + lay.acts[j + 1],
                         <int> m, <int> sizes[j], <int> sizes[j + 1])
    # The output block becomes dLoss/dZ_L in place.
    loss = _output_pass(work + lay.acts[L], params + lay.biases[L - 1], Y, weights, rows,
                        m, K, output, 1.0 / m, grads + lay.biases[L - 1])
    A = work + lay.acts[L]  # delta of the current layer
    for j in range(L - 1, 0, -1):
        _weight_gradient(work + lay.acts[j], A, grads + lay.weights[j],
                         <int> m, <int> sizes[j], <int> sizes[j + 1])
        _input_gradient(A, params + lay.weights[j], work + lay.deltas[j],
                        <int> m, <int> sizes[j], <int> sizes[j + 1])
        _backward_pass(work + lay.deltas[j], work + lay.acts[j], m, sizes[j], activation,
                       dropout[j], masks + lay.masks[j], grads + lay.biases[j - 1])
        A = work + lay.deltas[j]
    if sparse:
        _sparse_weight_gradient(X_data, X_indices, X_indptr, rows, A, grads + lay.weights[0],
                                <int> m, <int> sizes[1], <int> n_features, dropout[0],
                                &sparse_rng)
    else:
        _weight_gradient(work + lay.acts[0], A, grads + lay.weights[0],
                         <int> m, <int> n_features, <int> sizes[1])
    return loss


cdef void _step(floating* params, const floating* grads, floating* moment1, floating* moment2,
                const Py_ssize_t* sizes, Py_ssize_t n_layers, const Layout* lay,
                const double* l1, const double* l2, int solver, double learning_rate,
                double beta1, double beta2, double epsilon, double momentum, bint nesterov,
                Py_ssize_t t) noexcept nogil:
    """One optimizer step on every layer; biases are not penalized."""
    cdef Py_ssize_t j, start, size
    cdef double lr_t
    cdef double l1_j, l2_j
    if solver == _ADAM:
        lr_t = learning_rate * sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    for j in range(2 * n_layers):
        # even j: weights of layer j/2 (penalized); odd j: its biases
        start = lay.weights[j // 2] if j % 2 == 0 else lay.biases[j // 2]
        size = sizes[j // 2] * sizes[j // 2 + 1] if j % 2 == 0 else sizes[j // 2 + 1]
        l1_j = l1[j // 2] if j % 2 == 0 else 0.0
        l2_j = l2[j // 2] if j % 2 == 0 else 0.0
        if solver == _ADAM:
            _adam(params + start, grads + start, moment1 + start, moment2 + start, size,
                  lr_t, beta1, beta2, epsilon, l1_j, l2_j)
        elif solver == _SGD:
            _sgd(params + start, grads + start, moment1 + start, size,
                 learning_rate, momentum, nesterov, l1_j, l2_j)


def train_epoch(floating[::1] params, floating[::1] grads,
                floating[::1] moment1, floating[::1] moment2,
                const Py_ssize_t[::1] sizes, const double[::1] l1, const double[::1] l2,
                const double[::1] dropout,
                const floating[:, ::1] X, const floating[::1] X_data,
                const int[::1] X_indices, const int[::1] X_indptr, bint sparse,
                const floating[:, ::1] Y, const floating[::1] weights,
                const Py_ssize_t[::1] order, Py_ssize_t batch_size,
                int activation, int output,
                floating[::1] work, unsigned char[::1] masks, uint64_t[::1] rng_state,
                int solver, double learning_rate, double beta1, double beta2,
                double epsilon, double momentum, bint nesterov, Py_ssize_t t):
    """One epoch of mini-batch training over the rows in ``order``.

    Each batch B takes one step on (1/|B|) sum_{i in B} w_i grad loss_i plus
    the penalty (see ``_step``); ``weights`` should have mean 1 over the
    training set so that this is an unbiased estimate of the full objective's
    gradient.  With solver NO_STEP, the gradient of the last batch is left in
    ``grads`` and nothing moves.  Returns (sum_i w_i loss_i over the epoch,
    the step counter t after it).
    """
    cdef Py_ssize_t n_layers = sizes.shape[0] - 1
    cdef Py_ssize_t n = order.shape[0], start, m
    cdef Py_ssize_t n_features = sizes[0]
    cdef double total = 0.0
    cdef Layout lay
    cdef const floating* X_ptr = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef const floating* data_ptr = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef const int* indices_ptr = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const int* indptr_ptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef unsigned char* masks_ptr = &masks[0] if masks.shape[0] > 0 else NULL
    cdef Py_ssize_t floats, mask_bytes
    floats, mask_bytes = workspace_size(sizes, batch_size, not sparse)
    if work.shape[0] < floats or masks.shape[0] < mask_bytes:
        raise ValueError("workspace too small")
    if params.shape[0] != parameter_count(sizes) or grads.shape[0] != params.shape[0]:
        raise ValueError("parameter arrays do not match the layer sizes")
    if solver != _NO_STEP and (moment1.shape[0] != params.shape[0]
                               or (solver == _ADAM and moment2.shape[0] != params.shape[0])):
        raise ValueError("optimizer state does not match the parameters")
    if Y.shape[1] != sizes[n_layers] or n_layers < 1:
        raise ValueError("targets do not match the output layer")
    cdef Py_ssize_t n_rows = X_indptr.shape[0] - 1 if sparse else X.shape[0]
    if Y.shape[0] != n_rows or weights.shape[0] != n_rows or dropout.shape[0] != n_layers \
            or l1.shape[0] != n_layers or l2.shape[0] != n_layers or batch_size < 1:
        raise ValueError("X, Y, weights, penalties and dropout rates do not match")
    if not sparse and X.shape[1] != n_features:
        raise ValueError("X does not match the input layer")
    if n > 0 and (np.min(order) < 0 or np.max(order) >= n_rows):
        raise ValueError("order holds a row index outside X")
    with nogil:
        if _layout(&lay, &sizes[0], n_layers, batch_size, not sparse) != 0:
            with gil:
                raise MemoryError()
        start = 0
        while start < n:
            m = batch_size if start + batch_size <= n else n - start
            total += _batch(&params[0], &grads[0], &sizes[0], n_layers, &lay,
                            X_ptr, n_features, data_ptr, indices_ptr, indptr_ptr, sparse,
                            &Y[0, 0], &weights[0], &order[start], m, activation, output,
                            &dropout[0], &work[0], masks_ptr, &rng_state[0])
            if solver != _NO_STEP:
                t += 1
                _step(&params[0], &grads[0], &moment1[0],
                      &moment2[0] if solver == _ADAM else NULL,
                      &sizes[0], n_layers, &lay, &l1[0], &l2[0], solver, learning_rate,
                      beta1, beta2, epsilon, momentum, nesterov, t)
            start += m
        free(lay.weights)
    return total, t


def predict(const floating[::1] params, const Py_ssize_t[::1] sizes,
            const floating[:, ::1] X, const floating[::1] X_data,
            const int[::1] X_indices, const int[::1] X_indptr, bint sparse,
            int activation, int output, floating[:, ::1] out, Py_ssize_t chunk,
            floating[::1] work):
    """out <- network outputs (after the output activation), no dropout,
    computed ``chunk`` rows at a time in ``work`` (workspace_size(sizes, chunk, False))."""
    cdef Py_ssize_t n_layers = sizes.shape[0] - 1, L = n_layers
    cdef Py_ssize_t n = out.shape[0], K = sizes[n_layers], start, m, i, j
    cdef Py_ssize_t n_features = sizes[0]
    cdef Layout lay
    cdef Py_ssize_t* rows
    cdef const floating* data_ptr = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef const int* indices_ptr = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const int* indptr_ptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef floating* src
    if work.shape[0] < workspace_size(sizes, chunk, False)[0] or out.shape[1] != K \
            or chunk < 1 or params.shape[0] != parameter_count(sizes):
        raise ValueError("workspace, parameters or output have the wrong size")
    if (sparse and X_indptr.shape[0] != n + 1) or (
            not sparse and (X.shape[0] != n or X.shape[1] != n_features)):
        raise ValueError("X does not match the output rows or the input layer")
    if n == 0:
        return
    with nogil:
        if _layout(&lay, &sizes[0], n_layers, chunk, False) != 0:
            with gil:
                raise MemoryError()
        rows = <Py_ssize_t*> malloc(chunk * sizeof(Py_ssize_t))
        start = 0
        while start < n:
            m = chunk if start + chunk <= n else n - start
            if sparse:
                for i in range(m):
                    rows[i] = start + i
                _sparse_forward_product(data_ptr, indices_ptr, indptr_ptr, rows,
                                        &params[lay.weights[0]], &work[lay.acts[1]],
                                        <int> m, <int> sizes[1], 0.0, NULL)
            else:
                _forward_product(&X[start, 0], &params[lay.weights[0]], &work[lay.acts[1]],
                                 <int> m, <int> n_features, <int> sizes[1])
            for j in range(1, L):
                _forward_pass(&work[lay.acts[j]], &params[lay.biases[j - 1]], m, sizes[j],
                              activation, 0.0, NULL, NULL)
                _forward_product(&work[lay.acts[j]], &params[lay.weights[j]],
                                 &work[lay.acts[j + 1]], <int> m, <int> sizes[j],
                                 <int> sizes[j + 1])
            src = &work[lay.acts[L]]
            _output_activation(src, &params[lay.biases[L - 1]], m, K, output)
            for i in range(m):
                for j in range(K):
                    out[start + i, j] = src[i * K + j]
            start += m
        free(rows)
        free(lay.weights)


# --------------------------------------------------------------------------
# The element-wise kernels one by one (for the tests)
# --------------------------------------------------------------------------

def _keep_mask(draws, double rate, shape):
    if rate > 0:
        return np.ascontiguousarray(np.asarray(draws) >= rate, dtype=np.uint8)
    return np.ones(shape, dtype=np.uint8)


def forward_activation(floating[:, ::1] Z, const floating[::1] b, int activation,
                       draws, double rate):
    """Z <- act(Z + b), then inverted dropout keeping units whose uniform draw
    is >= rate (``draws`` is ignored when rate == 0)."""
    cdef unsigned char[:, ::1] keep = _keep_mask(draws, rate, (Z.shape[0], Z.shape[1]))
    if Z.shape[0] == 0 or Z.shape[1] == 0:
        return
    _forward_pass(&Z[0, 0], &b[0], Z.shape[0], Z.shape[1], activation, rate, &keep[0, 0], NULL)


def backward_activation(floating[:, ::1] dA, const floating[:, ::1] A, int activation,
                        draws, double rate):
    """dA <- dA * d(dropout(act(z)))/dz, from the output A of forward_activation;
    returns the column sums of the result (the bias gradient)."""
    cdef unsigned char[:, ::1] keep = _keep_mask(draws, rate, (dA.shape[0], dA.shape[1]))
    cdef floating[::1] bias_grad = np.zeros(dA.shape[1], dtype=np.asarray(dA).dtype)
    if dA.shape[0] == 0 or dA.shape[1] == 0:
        return np.asarray(bias_grad)
    _backward_pass(&dA[0, 0], &A[0, 0], dA.shape[0], dA.shape[1], activation, rate,
                   &keep[0, 0], &bias_grad[0])
    return np.asarray(bias_grad)


def adam_step(floating[::1] w, const floating[::1] grad, floating[::1] m, floating[::1] v,
              double learning_rate, double beta1, double beta2, double epsilon, int t,
              double l1, double l2):
    """One Adam update of w (step t >= 1) on grad + l2 w, then the L1 prox step
    with threshold l1 times the coordinate's step lr_t / (sqrt(v) + eps),
    lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)."""
    cdef double lr_t = learning_rate * sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    if w.shape[0] == 0:
        return
    _adam(&w[0], &grad[0], &m[0], &v[0], w.shape[0], lr_t, beta1, beta2, epsilon, l1, l2)


def sgd_step(floating[::1] w, const floating[::1] grad, floating[::1] velocity,
             double learning_rate, double momentum, bint nesterov, double l1, double l2):
    """One SGD step with (Nesterov) momentum on grad + l2 w, then the L1 prox
    step with threshold learning_rate * l1."""
    if w.shape[0] == 0:
        return
    _sgd(&w[0], &grad[0], &velocity[0], w.shape[0], learning_rate, momentum, nesterov, l1, l2)


def matmul_floor_epoch(floating[::1] params, floating[::1] grads, const Py_ssize_t[::1] sizes,
                       const floating[:, ::1] X, Py_ssize_t batch_size, floating[::1] work):
    """The matrix products of one training epoch over X in row order and
    nothing else (no gathering, activations, loss or optimizer): the floor
    that ``train_epoch`` is measured against in benchmarks/bench_mlp.py."""
    cdef Py_ssize_t n_layers = sizes.shape[0] - 1, L = n_layers, j
    cdef Py_ssize_t n = X.shape[0], start = 0, m
    cdef Layout lay
    floats, _ = workspace_size(sizes, batch_size, True)
    if work.shape[0] < floats or params.shape[0] != parameter_count(sizes) \
            or grads.shape[0] != params.shape[0] or X.shape[1] != sizes[0]:
        raise ValueError("arrays do not match the layer sizes")
    with nogil:
        if _layout(&lay, &sizes[0], n_layers, batch_size, True) != 0:
            with gil:
                raise MemoryError()
        while start < n:
            m = batch_size if start + batch_size <= n else n - start
            _forward_product(&X[start, 0], &params[lay.weights[0]], &work[lay.acts[1]],
                             <int> m, <int> sizes[0], <int> sizes[1])
            for j in range(1, L):
                _forward_product(&work[lay.acts[j]], &params[lay.weights[j]],
                                 &work[lay.acts[j + 1]], <int> m, <int> sizes[j],
                                 <int> sizes[j + 1])
            for j in range(L - 1, 0, -1):
                _weight_gradient(&work[lay.acts[j]], &work[lay.acts[j + 1]],
                                 &grads[lay.weights[j]], <int> m, <int> sizes[j],
                                 <int> sizes[j + 1])
                _input_gradient(&work[lay.acts[j + 1]], &params[lay.weights[j]],
                                &work[lay.deltas[j]], <int> m, <int> sizes[j],
                                <int> sizes[j + 1])
            _weight_gradient(&X[start, 0], &work[lay.acts[1]], &grads[lay.weights[0]],
                             <int> m, <int> sizes[0], <int> sizes[1])
            start += m
        free(lay.weights)
