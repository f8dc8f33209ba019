/* The MLP optimizer steps fused with the penalty and the relu passes, for
 * float and double.
 *
 * Plain C so that each loop is compiled for AVX2 and for SSE2 (_simd.h): a
 * step is a sqrt and a division per weight, and eight lanes instead of four
 * made it 3x faster here; both round identically, so a seed gives the same
 * model on every x86-64 machine.
 *
 * Penalty alpha (r |w| + (1 - r)/2 w^2) with l1 = alpha r, l2 = alpha (1 - r):
 * the L2 part enters the gradient, the L1 part is a soft-threshold (proximal)
 * step with the coordinate's own step size, so weights become exactly zero.
 */
#ifndef SKLREG_MLP_STEP_H
#define SKLREG_MLP_STEP_H

#include <math.h>
#include <stddef.h>

#include "_simd.h"

/* z - clip(z, -t, t): branch-free so that it vectorises */
#define SKLREG_SOFT_THRESHOLD(z, t) ((z) - ((z) > (t) ? (t) : ((z) < -(t) ? -(t) : (z))))

#define SKLREG_DEFINE_STEPS(T, SUFFIX, SQRT)                                              \
SKLREG_SIMD_CLONES static void sklreg_adam_##SUFFIX(                                      \
        T *w, const T *grad, T *m, T *v, ptrdiff_t p, T lr_t, T beta1, T beta2,          \
        T epsilon, T l1, T l2)                                                            \
{                                                                                         \
    const T c1 = 1 - beta1, c2 = 1 - beta2;                                               \
    for (ptrdiff_t j = 0; j < p; j++) {                                                   \
        T g = grad[j] + l2 * w[j];                                                        \
        m[j] = beta1 * m[j] + c1 * g;                                                     \
        v[j] = beta2 * v[j] + c2 * g * g;                                                 \
        T step = lr_t / (SQRT(v[j]) + epsilon);                                           \
        T z = w[j] - step * m[j];                                                         \
        T t = step * l1;                                                                  \
        w[j] = SKLREG_SOFT_THRESHOLD(z, t);                                               \
    }                                                                                     \
}                                                                                         \
                                                                                          \
/* Nesterov: w += momentum v_new - lr g; classical: w += v_new */                         \
SKLREG_SIMD_CLONES static void sklreg_sgd_##SUFFIX(                                       \
        T *w, const T *grad, T *velocity, ptrdiff_t p, T lr, T momentum, int nesterov,   \
        T l1, T l2)                                                                       \
{                                                                                         \
    const T t = lr * l1, nest = nesterov ? 1 : 0;                                         \
    for (ptrdiff_t j = 0; j < p; j++) {                                                   \
        T g = grad[j] + l2 * w[j];                                                        \
        velocity[j] = momentum * velocity[j] - lr * g;                                    \
        T z = w[j] + velocity[j] + nest * ((momentum - 1) * velocity[j] - lr * g);        \
        w[j] = SKLREG_SOFT_THRESHOLD(z, t);                                               \
    }                                                                                     \
}

/* The relu passes of one row, branch-free (a branch on the sign of a
 * pre-activation is mispredicted half the time: 5x slower here). */
#define SKLREG_DEFINE_RELU(T, SUFFIX)                                                     \
SKLREG_SIMD_CLONES static void sklreg_relu_forward_##SUFFIX(T *restrict row,              \
                                                            const T *restrict b,          \
                                                            ptrdiff_t k)                  \
{                                                                                         \
    for (ptrdiff_t j = 0; j < k; j++) {                                                   \
        T z = row[j] + b[j];                                                              \
        row[j] = z > 0 ? z : 0;                                                           \
    }                                                                                     \
}                                                                                         \
                                                                                          \
/* delta <- delta * scale where the unit's output a > 0, else 0 (a dropped unit has       \
 * a = 0 like an inactive one); bias_grad += delta */                                     \
SKLREG_SIMD_CLONES static void sklreg_relu_backward_##SUFFIX(                             \
        T *restrict delta, const T *restrict a, ptrdiff_t k, T scale,                     \
        T *restrict bias_grad)                                                            \
{                                                                                         \
    for (ptrdiff_t j = 0; j < k; j++) {                                                   \
        /* a multiply by a selected factor, not a select of the product: GCC   */         \
        /* turns the latter into a branch (mispredicted half the time)         */         \
        T d = delta[j] * (a[j] > 0 ? scale : 0);                                          \
        delta[j] = d;                                                                     \
        bias_grad[j] += d;                                                                \
    }                                                                                     \
}

SKLREG_DEFINE_STEPS(float, f32, sqrtf)
SKLREG_DEFINE_STEPS(double, f64, sqrt)
SKLREG_DEFINE_RELU(float, f32)
SKLREG_DEFINE_RELU(double, f64)

#endif
