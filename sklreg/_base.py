"""Pieces shared by sklreg's estimators: penalty mapping, weights, centring."""
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._core import _gram

#: l1_ratio implied by each penalty name ("elasticnet" uses the parameter).
_FIXED_L1_RATIO = {"l1": 1.0, "l2": 0.0}


def effective_l1_ratio(penalty, l1_ratio):
    """r in  alpha * (r ||w||_1 + (1 - r) / 2 ||w||_2^2)  for a penalty name."""
    return _FIXED_L1_RATIO.get(penalty, l1_ratio)


def canonical_sparse(X):
    """X with duplicate sparse entries summed (a copy only when it has any).

    The kernels assume one stored entry per cell; dense X passes through.
    """
    if sp.issparse(X) and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def check_finite_solution(solver, dtype, *arrays):
    """Refuse to return a solution that overflowed the working precision."""
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError(
            f"The {solver!r} solver overflowed in {np.dtype(dtype).name}: the data are too "
            "large for this precision. Rescale the data, or fit in float64.")


#: Parameter values (per class) that passed validation; see
#: MemoizedParamValidation.  Bounded so that long searches cannot grow it.
_VALID_PARAMS = set()
_VALID_PARAMS_MAX = 1024
_MEMO_TYPES = (type(None), bool, int, float, str, np.bool_, np.number)


def _memo_key(value):
    """A hashable key that tells value's type and value apart (1, 1.0 and
    True validate differently), or None for anything but scalars (Python's
    and numpy's) and tuples of them: arrays, estimators, RandomState..."""
    if isinstance(value, _MEMO_TYPES):
        return type(value), value
    if type(value) is tuple:
        keys = tuple(_memo_key(v) for v in value)
        return None if None in keys else (tuple, keys)
    return None


class MemoizedParamValidation:
    """``_validate_params`` that remembers which plain parameter values passed.

    scikit-learn validates ``_parameter_constraints`` on every fit; through
    ``get_params`` (an ``inspect.signature`` call) that costs 0.16 ms, twice
    that after an idle spell, a fifth of a small fit.  The constraints are
    checked by scikit-learn's own ``validate_parameter_constraints`` the first
    time a class sees a set of values; a later fit with the same scalar values
    (None, bool, int, float, str, numpy scalars, tuples of them) skips the
    check.  Any other value, and every invalid one, goes through the check
    each time.
    """

    def _validate_params(self):
        constraints = self._parameter_constraints
        params = {name: getattr(self, name) for name in constraints}
        keys = tuple(_memo_key(v) for v in params.values())
        key = None if None in keys else (type(self), keys)
        if key is not None and key in _VALID_PARAMS:
            return
        validate_parameter_constraints(constraints, params, caller_name=type(self).__name__)
        if key is not None:
            if len(_VALID_PARAMS) >= _VALID_PARAMS_MAX:
                _VALID_PARAMS.clear()
            _VALID_PARAMS.add(key)


def normalized_sample_weight(sample_weight, X):
    """Sample weights rescaled to sum to n_samples, or None when unweighted.

    With this scaling, integer weights are equivalent to repeating rows and a
    zero weight is equivalent to dropping the row (the convention of
    scikit-learn's ElasticNet).
    """
    if sample_weight is None:
        return None
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    total = float(sw.sum(dtype=np.float64))
    if not np.isfinite(total) or total <= 0:
        raise ValueError("sample_weight must have a positive, finite sum.")
    return (sw * (X.shape[0] / total)).astype(X.dtype, copy=False)


def class_sample_weight(sample_weight, X, y, classes, class_weight):
    """sample_weight_i * class_weight[y_i] in float64, or None when both are None.

    ``y`` holds labels from the sorted array ``classes``.  "balanced" gives
    n / (n_present * count) over the classes present in ``y`` (all of them
    in a fit; a partial_fit batch may miss some, which keep weight 1).
    """
    if sample_weight is None and class_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    if class_weight is None:
        return weights
    if class_weight == "balanced":
        present = np.isin(classes, y)
        per_class = np.ones(len(classes))
        per_class[present] = compute_class_weight("balanced", classes=classes[present], y=y)
    else:
        per_class = compute_class_weight(class_weight, classes=classes, y=y)
    return weights * per_class[np.searchsorted(classes, y)]


@dataclass
class CenteredProblem:
    """X and Y with their weighted means: the data every solver receives.

    X is never centred in memory; solvers apply ``x_mean`` on the fly.
    ``Y`` is always 2-D (n_samples, n_targets) in X's dtype.
    """

    X: object
    Y: np.ndarray
    sw: np.ndarray | None
    x_mean: np.ndarray
    y_mean: np.ndarray
    y_norm2: np.ndarray  # sum_i s_i (y_i - ybar)^2 per target, float64
    fit_intercept: bool
    #: From the one pass of _gram.column_moments (dense X) or
    #: _gram.sparse_column_moments: sum_i s_i x_ij and sum_i s_i x_ij^2 per
    #: column, and Xc^T S Yc (n_targets, p), all float64.
    x_sums: np.ndarray
    x_sumsq: np.ndarray
    xty: np.ndarray
    #: Set by callers that solve the problem at several alphas (paths, CV):
    #: what solvers derive from X alone (Gram matrix, column layout, column
    #: variances) is then kept in ``cache`` and computed once.
    reuse: bool = False
    cache: dict = field(default_factory=dict, repr=False)

    def cached(self, key, build, private=False):
        """build(), kept under ``key`` when ``reuse`` is set.

        ``private``: the caller modifies the result, so a kept value is handed
        out as a copy (a single fit pays neither the copy nor the memory).
        """
        if not self.reuse:
            return build()
        if key not in self.cache:
            self.cache[key] = build()
        value = self.cache[key]
        return value.copy() if private else value

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    def centered_targets(self):
        return self.Y - self.y_mean.astype(self.dtype)

    def xt_centered_targets(self, dtype=None):
        """Xc^T S Yc, shape (p, n_targets), in ``dtype`` (default X's), from
        the column moments.  (Xc^T S yc = X^T S yc, since sum_i s_i yc_i = 0.)"""
        return self.xty.T.astype(dtype or self.dtype)

    def moment_variances(self):
        """sum_i s_i (x_ij - xbar_j)^2 per column from the column moments, or
        None when the subtraction would lose accuracy: sumsq - sums^2 / sum(s)
        keeps about 16 - log10(sumsq / var) digits, so a column whose variance
        is under VARIANCE_MIN_SHARE of its second moment (a large mean, or a
        constant column) needs the two-pass kernel."""
        if not self.fit_intercept:
            return self.x_sumsq.copy()
        total = float(self.n_samples if self.sw is None else self.sw.sum(dtype=np.float64))
        var = self.x_sumsq - self.x_sums ** 2 / total
        if not np.all(var >= VARIANCE_MIN_SHARE * self.x_sumsq):
            return None
        return var


def validate_regression_data(estimator, X, y, check_finite_X=True):
    """``validate_data(estimator, X, y)`` for a regressor's fit: X float64 /
    float32, dense or CSR / CSC, y numeric with one or more targets.

    Input that is already valid as it stands (a plain float ndarray X with at
    least one row and column, a float ndarray y of the same length, both
    finite) is returned unchanged after the same bookkeeping
    (``n_features_in_``, no ``feature_names_in_``): scikit-learn's checks
    would return it unchanged too, but take 0.35 ms even on a 20 x 5 problem
    (mostly looking for dataframe types), a tenth of a small fit.  Anything
    else, including every invalid input, goes through ``validate_data`` and
    gets its errors.

    ``check_finite_X=False`` leaves the finiteness of such a plain X, and of
    sparse X, to the caller, who reads X anyway (see check_finite_moments).
    """
    if (type(X) is np.ndarray and type(y) is np.ndarray and X.ndim == 2
            and X.dtype in (np.float64, np.float32) and X.dtype.isnative and X.size > 0
            and y.dtype.kind == "f" and y.dtype.isnative and y.ndim in (1, 2)
            and y.shape[0] == X.shape[0] and y.size > 0
            # (As scikit-learn's own first test: a sum is finite only if
            # every term is, barring overflow, which validate_data handles.)
            and (not check_finite_X or np.isfinite(X.sum())) and np.isfinite(y.sum())):
        estimator.n_features_in_ = X.shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return X, y
    return validate_data(
        estimator, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
        multi_output=True, y_numeric=True,
        ensure_all_finite=check_finite_X or not sp.issparse(X),
    )


def xt_dot(X, V):
    """X^T V for V of shape (n,) or (n, k), in X's dtype.

    Dense X goes through scipy's BLAS (``_gram.xt_dot``), sparse X through
    scipy.sparse; both keep X as it is (a non-contiguous X is made
    contiguous once).
    """
    if sp.issparse(X):
        return np.asarray(X.T @ V, dtype=X.dtype)
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)
    rows = np.ascontiguousarray(np.atleast_2d(V.T), dtype=X.dtype)
    out = np.empty((rows.shape[0], X.shape[1]), dtype=X.dtype)
    _gram.xt_dot(X, rows, out)
    return out[0] if V.ndim == 1 else out.T


def weighted_column_means(X, weights):
    """sum_i w_i x_i / sum_i w_i in float64: one gemv (or sparse matvec), no copy of X."""
    weights = np.asarray(weights, dtype=X.dtype)
    return np.asarray(xt_dot(X, weights), dtype=np.float64) / float(weights.sum(dtype=np.float64))


#: sumsq - sums^2 / sum(s) gives a column's variance to about 1e-10 relative
#: when the variance is at least this share of the second moment.
VARIANCE_MIN_SHARE = 1e-6
#: Passes over X are shared between OpenMP threads when they read at least
#: this many elements in all (stored entries for sparse X).  After an idle
#: spell the second thread takes 0 to 6 ms to wake on this 2-vCPU machine
#: (one pass of column_moments after a 0.3 s pause, medians of 7: 4M
#: elements 3.9 ms on one thread, 7.6 ms on two; 8M 7.8 / 9.4 ms; 15M
#: 14.7 / 10.3 ms); later passes find it awake.
PARALLEL_MIN_WORK = 1 << 24


def pass_threads(n_elements, n_passes=1):
    """OpenMP threads for n_passes passes over n_elements entries of X."""
    return _gram.openmp_threads() if n_elements * n_passes >= PARALLEL_MIN_WORK else 1


def center_problem(X, Y, sw, fit_intercept):
    """The CenteredProblem of X, Y (n, k) and normalised weights sw.

    Dense X is read once, by _gram.column_moments, for its weighted means,
    second moments and Xc^T S Yc (a strided X is first made contiguous, as
    every solver would); sparse X, by _gram.sparse_column_moments, in its
    CSR or CSC format.
    """
    n, p = X.shape
    dtype = X.dtype
    weights = np.ones(n) if sw is None else sw.astype(np.float64)
    if fit_intercept:
        # einsum, not numpy's BLAS: see xt_dot.
        y_mean = np.einsum("i,ij->j", weights, Y.astype(np.float64)) / n
    else:
        y_mean = np.zeros(Y.shape[1], dtype=np.float64)
    Yc = Y.astype(np.float64) - y_mean
    weighted_Yc = Yc if sw is None else Yc * weights[:, None]
    y_norm2 = np.einsum("ij,ij->j", weighted_Yc, Yc)
    WY = np.ascontiguousarray(weighted_Yc.T)
    if sp.issparse(X):
        layout, _, data, indices, indptr = kernel_layout(X)
        x_sums, x_sumsq, xty = _gram.sparse_column_moments(
            np.ascontiguousarray(data), indices, indptr, layout == CSR, n, p, weights, WY)
    else:
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
        x_sums, x_sumsq, xty = _gram.column_moments(X, weights, WY, pass_threads(X.size))
    x_mean = x_sums / float(weights.sum()) if fit_intercept else np.zeros(p)
    return CenteredProblem(
        X=X, Y=Y, sw=sw, x_mean=x_mean.astype(dtype), y_mean=y_mean,
        y_norm2=y_norm2, fit_intercept=fit_intercept, x_sums=x_sums, x_sumsq=x_sumsq,
        xty=xty,
    )


def check_finite_moments(estimator, problem, X, y):
    """Raise scikit-learn's error for NaN or infinite X when the column sums of
    a problem whose X skipped the check (validate_regression_data with
    check_finite_X=False) are not finite: a sum is finite only if its terms
    are.  (Sums that overflowed from finite X pass the full check.)"""
    if not np.all(np.isfinite(problem.x_sums)):
        validate_regression_data(estimator, X, y)


def to_csc(X):
    """Sparse X in CSC format (X itself when it is CSC).

    CSR X with int32-sized indices is converted by _gram.csr_to_csc, in
    about 0.75 of scipy's ``tocsc`` time (see there).  The result has sorted
    indices, canonical format when X has it, and X's kind (sparse matrix or
    array).
    """
    if X.format == "csc":
        return X
    if X.format != "csr" or X.nnz > np.iinfo(np.intc).max:
        return X.tocsc()
    data, indices, indptr = csr_arrays(X)
    arrays = _gram.csr_to_csc(np.ascontiguousarray(data), indices, indptr, X.shape[1])
    kind = sp.csc_array if isinstance(X, sp.sparray) else sp.csc_matrix
    out = kind(arrays, shape=X.shape)
    out.has_sorted_indices = True  # (rows were visited in order)
    if X.has_canonical_format:  # (and with no duplicates in X, none in out)
        out.has_canonical_format = True
    return out


def csc_arrays(X):
    """(data, indices, indptr) of X in CSC with int32 indices."""
    X = to_csc(X)
    return X.data, X.indices.astype(np.intc, copy=False), X.indptr.astype(np.intc, copy=False)


def csr_arrays(X):
    X = X.tocsr() if X.format != "csr" else X
    return X.data, X.indices.astype(np.intc, copy=False), X.indptr.astype(np.intc, copy=False)


#: Layout codes shared by the row-oriented kernels (_fused, _logistic).
DENSE_C, DENSE_F, CSR, CSC = 0, 1, 2, 3


def kernel_layout(X, sparse_format=None):
    """(code, dense X, data, indices, indptr) for the row-oriented kernels.

    Dense X must be C- or Fortran-contiguous (a strided view is copied once);
    sparse X is passed as CSR or CSC, converted only if ``sparse_format``
    asks for the other one.  Unused arrays are empty.
    """
    dtype = X.dtype
    empty, no_index = np.empty(0, dtype=dtype), np.empty(0, dtype=np.intc)
    if sp.issparse(X):
        fmt = sparse_format or X.format
        data, indices, indptr = csr_arrays(X) if fmt == "csr" else csc_arrays(X)
        return (CSR if fmt == "csr" else CSC), np.empty((0, 0), dtype=dtype), data, indices, indptr
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)
    code = DENSE_C if X.flags.c_contiguous else DENSE_F
    return code, X, empty, no_index, no_index


def empty_like_dtype(dtype, ndim=1, order="C"):
    return np.empty((0,) * ndim, dtype=dtype, order=order)


def is_sparse(X):
    return sp.issparse(X)
