# The elastic-net penalty  h(w) = l1 * |w| + l2 / 2 * w^2  (per coordinate),
# optionally restricted to w >= 0.  L1 is l2 == 0, L2 is l1 == 0.
#
# Solvers only talk to the penalty through these functions: its value, the
# coordinate-wise proximal step, and the two pieces a duality gap needs (the
# dual-norm rescaling and the convex conjugate).  A new penalty is a new file
# of the same shape.
from cython cimport floating
from libc.math cimport fabs, fmax, INFINITY


cdef inline double enet_coordinate_step(double z, double hess, double l1,
                                        double l2, bint positive) noexcept nogil:
    """argmin_w  hess/2 * w^2 - z * w + l1 |w| + l2/2 w^2  (w >= 0 if positive).

    z = hess * w_old + gradient of the data term's negative, so this is the
    exact coordinate minimiser of a quadratic data term plus the penalty.
    """
    cdef double denom = hess + l2
    if denom <= 0.0:
        return 0.0
    if z > l1:
        return (z - l1) / denom
    if z < -l1 and not positive:
        return (z + l1) / denom
    return 0.0


cdef inline double enet_value(const floating* w, int p, double l1, double l2) noexcept nogil:
    cdef double a1 = 0.0, a2 = 0.0
    cdef int j
    for j in range(p):
        a1 += fabs(w[j])
        a2 += <double> w[j] * w[j]
    return l1 * a1 + 0.5 * l2 * a2


cdef inline double enet_dual_scale(const double* u, const floating* w, int p,
                                   double l1, double l2, bint positive) noexcept nogil:
    """Largest c in [0, 1] making c * theta dual-feasible.

    u = X^T theta for the candidate dual point theta (the residual).  With the
    L2 part folded into the data term (augmented Lasso), feasibility is
    max_j |u_j - l2 w_j| <= l1  (max_j of the signed value if positive).
    """
    cdef double m = 0.0, v
    cdef int j
    for j in range(p):
        v = u[j] - l2 * w[j]
        if not positive:
            v = fabs(v)
        if v > m:  # (not fmax: that is a library call in this loop)
            m = v
    if m <= l1:
        return 1.0
    return l1 / m


cdef inline double enet_conjugate_sum(const double* u, int p, double l1,
                                      double l2, bint positive) noexcept nogil:
    """sum_j h*(u_j), h* the convex conjugate; finite only when l2 > 0."""
    cdef double total = 0.0, v
    cdef int j
    if l2 <= 0.0:
        return INFINITY
    for j in range(p):
        v = u[j] if positive else fabs(u[j])
        if v > l1:
            total += (v - l1) * (v - l1)
    return total / (2.0 * l2)
