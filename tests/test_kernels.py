"""The compiled kernels against closed forms computed with numpy."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from sklreg._core import _fused, _gram

LAYOUTS = ["dense_c", "dense_f", "csr", "csc"]


def _problem(dtype, weighted, center, seed=0):
    rng = np.random.RandomState(seed)
    n, p = 37, 11
    X = rng.randn(n, p) * rng.uniform(0.1, 10, p) + rng.uniform(-3, 3, p)
    X[rng.rand(n, p) < 0.5] = 0.0
    y = rng.randn(n) + 2.0
    sw = rng.uniform(0.1, 3, n) if weighted else None
    s = np.ones(n) if sw is None else sw * n / sw.sum()
    x_mean = s @ X / n if center else np.zeros(p)
    y_mean = s @ y / n if center else 0.0
    return X.astype(dtype), y.astype(dtype), s, x_mean, y_mean, (sw is not None)


def _kernel_args(X, layout, dtype):
    empty = np.empty(0, dtype=dtype)
    no_idx = np.empty(0, dtype=np.intc)
    if layout == "dense_c":
        return _fused.DENSE_C, np.ascontiguousarray(X), empty, no_idx, no_idx
    if layout == "dense_f":
        return _fused.DENSE_F, np.asfortranarray(X), empty, no_idx, no_idx
    M = sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    code = _fused.CSR if layout == "csr" else _fused.CSC
    return (code, np.empty((0, 0), dtype=dtype), M.data, M.indices.astype(np.intc),
            M.indptr.astype(np.intc))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_fused_l2_gradient_matches_closed_form(layout, dtype, weighted, center, n_threads):
    X, y, s, x_mean, y_mean, has_w = _problem(dtype, weighted, center)
    w = np.random.RandomState(1).randn(X.shape[1]).astype(dtype)
    l2 = 0.7
    Xc = X.astype(np.float64) - x_mean
    expected = Xc.T @ (s * (Xc @ w - (y - y_mean))) + l2 * w
    code, Xd, data, indices, indptr = _kernel_args(X, layout, dtype)
    sw = s.astype(dtype) if has_w else np.empty(0, dtype=dtype)
    # Three threads split the 37 rows 13 / 13 / 11 (CSC runs on one).
    got = _fused.l2_gradient(code, Xd, data, indices, indptr, y, y_mean, sw, has_w,
                             x_mean.astype(dtype), center, w, l2, n_threads)
    assert got.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("layout", ["dense_c", "dense_f", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("given_xty", [False, True])
@pytest.mark.parametrize("warm", [False, True])
def test_conjugate_gradient_solves_the_normal_equations(layout, dtype, weighted, given_xty,
                                                        warm):
    # (Xc^T S Xc + l2 I) w = Xc^T S yc, with the right-hand side passed in (a
    # cold start then skips its first pass) or formed by the kernel.
    X, y, s, x_mean, y_mean, has_w = _problem(dtype, weighted, True)
    Xc = X.astype(np.float64) - x_mean
    l2 = 0.7
    rhs = Xc.T @ (s * (y - y_mean))
    expected = np.linalg.solve(Xc.T @ (s[:, None] * Xc) + l2 * np.eye(X.shape[1]), rhs)
    code, Xd, data, indices, indptr = _kernel_args(X, layout, dtype)
    sw = s.astype(dtype) if has_w else np.empty(0, dtype=dtype)
    w = (0.5 * expected if warm else np.zeros_like(expected)).astype(dtype)
    diag = np.einsum("ij,ij,i->j", Xc, Xc, s)
    it, rel = _fused.conjugate_gradient(
        code, Xd, data, indices, indptr, y, y_mean, sw, has_w, x_mean.astype(dtype), True,
        diag, w, l2, 100, 1e-10 if dtype == np.float64 else 1e-5, False, 2,
        rhs if given_xty else None)
    rtol = 1e-8 if dtype == np.float64 else 1e-3
    assert 0 < it <= X.shape[1] + 5
    assert_allclose(w, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def _assert_moments(sums, sumsq, xty, X, w, WY):
    """The column moments of (dense) X against numpy, float64."""
    Xd = X.astype(np.float64)
    assert sums.dtype == sumsq.dtype == xty.dtype == np.float64
    assert xty.shape == (WY.shape[0], X.shape[1])
    assert_allclose(sums, w @ Xd, rtol=1e-12, atol=1e-12)
    assert_allclose(sumsq, w @ Xd ** 2, rtol=1e-12, atol=1e-12)
    assert_allclose(xty, WY @ Xd, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [0, 1, 3])
@pytest.mark.parametrize("n_threads", [1, 2, 5])
@pytest.mark.parametrize("shape", [(37, 11), (1, 4), (5, 1), (0, 3), (4, 0)])
def test_column_moments_match_numpy(order, dtype, weighted, n_targets, n_threads, shape):
    rng = np.random.RandomState(0)
    n, p = shape
    X = np.asarray(rng.randn(n, p) * 3 + 5, dtype=dtype, order=order)
    w = rng.uniform(0.1, 3, n) if weighted else np.ones(n)
    WY = np.ascontiguousarray(rng.randn(n_targets, n))
    sums, sumsq, xty = _gram.column_moments(X, w, WY, n_threads)
    _assert_moments(sums, sumsq, xty, X, w, WY)


def test_column_moments_refuse_mismatched_arrays():
    X = np.ones((6, 3))
    with pytest.raises(ValueError, match="contiguous"):
        _gram.column_moments(np.ones((6, 6))[:, ::2], np.ones(6), np.zeros((0, 6)))
    with pytest.raises(ValueError, match="6 rows"):
        _gram.column_moments(X, np.ones(5), np.zeros((0, 6)))
    with pytest.raises(ValueError, match="6 rows"):
        _gram.column_moments(X, np.ones(6), np.zeros((1, 4)))


def test_column_moments_propagate_nan_and_inf():
    # The regressor's finiteness check of plain arrays reads the sums.
    X = np.ones((9, 4))
    X[3, 1], X[5, 2] = np.nan, np.inf
    for order in "CF":
        sums, _, _ = _gram.column_moments(np.asarray(X, order=order), np.ones(9),
                                          np.zeros((0, 9)), 2)
        assert list(np.isfinite(sums)) == [True, False, False, True]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [0, 1, 3])
@pytest.mark.parametrize("shape", [(37, 11), (1, 4), (5, 1), (0, 3), (4, 0)])
def test_sparse_column_moments_match_numpy(fmt, dtype, weighted, n_targets, shape):
    rng = np.random.RandomState(0)
    n, p = shape
    dense = (rng.randn(n, p) * 3 + 5) * (rng.rand(n, p) < 0.4)
    X = (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(dense.astype(dtype))
    w = rng.uniform(0.1, 3, n) if weighted else np.ones(n)
    WY = np.ascontiguousarray(rng.randn(n_targets, n))
    sums, sumsq, xty = _gram.sparse_column_moments(
        X.data, X.indices.astype(np.intc), X.indptr.astype(np.intc), fmt == "csr", n, p, w, WY)
    _assert_moments(sums, sumsq, xty, X.toarray(), w, WY)


def test_sparse_column_moments_refuse_mismatched_arrays_and_propagate_nan():
    X = sp.csr_matrix(np.eye(6, 3))
    args = X.data, X.indices.astype(np.intc), X.indptr.astype(np.intc)
    with pytest.raises(ValueError, match="do not match"):
        _gram.sparse_column_moments(*args, True, 6, 3, np.ones(5), np.zeros((0, 6)))
    with pytest.raises(ValueError, match="do not match"):
        _gram.sparse_column_moments(*args, False, 6, 3, np.ones(6), np.zeros((0, 6)))
    X.data[1] = np.nan
    sums, _, _ = _gram.sparse_column_moments(*args, True, 6, 3, np.ones(6), np.zeros((0, 6)))
    assert list(np.isfinite(sums)) == [True, False, True]


def test_openmp_threads_follow_threadpoolctl():
    from threadpoolctl import threadpool_limits
    assert _gram.openmp_threads() >= 1
    with threadpool_limits(limits=1, user_api="openmp"):
        assert _gram.openmp_threads() == 1


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_centered_gram_and_kernel_match_numpy(order, dtype, weighted):
    X, _, s, x_mean, _, has_w = _problem(dtype, weighted, True)
    X = np.asarray(X, order=order)
    Z = np.sqrt(s)[:, None] * (X.astype(np.float64) - x_mean)
    sw = s.astype(dtype) if has_w else np.empty(0, dtype=dtype)
    G = np.empty((X.shape[1],) * 2, dtype=dtype)
    _gram.centered_gram(X, x_mean.astype(dtype), sw, has_w, True, G)
    K = np.empty((X.shape[0],) * 2, dtype=dtype)
    _gram.centered_kernel(X, x_mean.astype(dtype), sw, has_w, True, K)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(G, Z.T @ Z, rtol=rtol, atol=rtol * np.abs(Z.T @ Z).max())
    assert_allclose(K, Z @ Z.T, rtol=rtol, atol=rtol * np.abs(Z @ Z.T).max())
    variances = _gram.column_variances(X.shape[0], X, np.empty(0, dtype=dtype),
                                       np.empty(0, dtype=np.intc), np.empty(0, dtype=np.intc),
                                       sw, has_w, x_mean.astype(dtype), True, 0)
    assert_allclose(variances, np.diag(Z.T @ Z), rtol=rtol)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(150, 130), (1300, 130)],
                         ids=["tiled-gemm", "syrk"])  # n p^2 below / above _SMALL_SYRK_WORK
def test_centered_gram_both_paths_match_numpy(order, dtype, shape):
    # Several 64-wide tiles and row chunks, ragged at the edges, weighted and
    # uncentred columns: the single-threaded tiled build and syrk agree.
    rng = np.random.RandomState(3)
    X = np.asarray((rng.randn(*shape) + 5.0).astype(dtype), order=order)
    s = rng.uniform(0.2, 2.0, shape[0])
    s *= shape[0] / s.sum()
    x_mean = np.average(X.astype(np.float64), axis=0, weights=s)
    Z = np.sqrt(s)[:, None] * (X.astype(np.float64) - x_mean)
    G = np.full((shape[1],) * 2, np.nan, dtype=dtype)
    _gram.centered_gram(X, x_mean.astype(dtype), s.astype(dtype), True, True, G)
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    assert_allclose(G, Z.T @ Z, rtol=rtol, atol=rtol * np.abs(Z.T @ Z).max())


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["mean0", "mean3sd", "mean1000sd", "constant-column"])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("shape", [(150, 13), (1300, 130)])
def test_centered_gram_unweighted_matches_numpy(layout, dtype, case, center, shape):
    # Unweighted contiguous X takes one syrk on X minus n xbar xbar^T; a mean
    # beyond 10 standard deviations (a constant column too), float32 with
    # centring and strided X fall back to the centred copy.  Every case keeps
    # the tight bound.
    rng = np.random.RandomState(4)
    base = rng.randn(*shape) + {"mean3sd": 3.0, "mean1000sd": 1e3}.get(case, 0.0)
    if case == "constant-column":
        base[:, 1] = 2.5
    base = base.astype(dtype)
    X = {"C": np.ascontiguousarray, "F": np.asfortranarray,
         "strided": lambda A: np.repeat(A, 2, axis=1)[:, ::2]}[layout](base)
    assert (X.flags.c_contiguous or X.flags.f_contiguous) == (layout != "strided")
    x_mean = X.astype(np.float64).mean(axis=0) if center else np.zeros(shape[1])
    Z = X.astype(np.float64) - x_mean
    expected = Z.T @ Z
    G = np.full((shape[1],) * 2, np.nan, dtype=dtype)
    _gram.centered_gram(X, x_mean.astype(dtype), np.empty(0, dtype=dtype), False, center, G)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(G, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    if center and case == "constant-column":
        assert np.all(G[1] == 0.0) and np.all(G[:, 1] == 0.0)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(37, 11), (1, 5), (6, 1), (0, 4), (3, 0)])
def test_xt_dot_matches_numpy(order, dtype, shape):
    rng = np.random.RandomState(1)
    X = np.asarray(rng.randn(*shape).astype(dtype), order=order)
    V = rng.randn(3, shape[0]).astype(dtype)
    out = np.full((3, shape[1]), np.nan, dtype=dtype)
    _gram.xt_dot(X, V, out)
    expected = V.astype(np.float64) @ X.astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(out, expected, rtol=rtol, atol=rtol * max(1.0, np.abs(expected).max(initial=0)))


def test_layout_codes_agree_across_kernels():
    """_base.kernel_layout's codes drive both row-oriented kernels."""
    from sklreg import _base
    from sklreg._core import _logistic

    for module in (_fused, _logistic):
        assert (module.DENSE_C, module.DENSE_F, module.CSR, module.CSC) == (
            _base.DENSE_C, _base.DENSE_F, _base.CSR, _base.CSC)


# The duality gap the solver reports must bound the true suboptimality,
# whichever dual point produced it (the rescaled residual, or the residual
# extrapolated from the last sweeps, which wide problems with many active
# features use to stop early).
@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty, positive", [("l1", False), ("elasticnet", False),
                                               ("l1", True)])
@pytest.mark.parametrize("tol", [1e-3, 1e-5])
def test_reported_gap_bounds_suboptimality(fmt, weighted, fit_intercept, penalty, positive,
                                           tol):
    from _reference import alpha_max, make_regression_data, regression_objective, to_format
    from sklreg import RegularizedRegressor

    X, y, sw = make_regression_data(60, 400, seed=3, zero_fraction=0.5)
    sw = sw if weighted else None
    r = 1.0 if penalty == "l1" else 0.5
    alpha = alpha_max(X, y, r, fit_intercept, sw) / 50
    Xf = to_format(X, fmt)
    common = dict(penalty=penalty, alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                  solver="cd", max_iter=100_000)
    loose = RegularizedRegressor(tol=tol, **common).fit(Xf, y, sample_weight=sw)
    best = RegularizedRegressor(tol=1e-13, **common).fit(Xf, y, sample_weight=sw)
    assert np.count_nonzero(best.coef_) > 20
    p_loose = regression_objective(X, y, loose.coef_, loose.intercept_, alpha, r, sw)
    p_best = regression_objective(X, y, best.coef_, best.intercept_, alpha, r, sw)
    assert p_loose - p_best <= loose.dual_gap_ * (1 + 1e-9) + 1e-12 * p_best


def test_cd_rejects_a_workspace_or_reference_made_for_other_data():
    from sklreg._core import _cd
    n, p = 6, 4
    X = np.asfortranarray(np.random.RandomState(0).randn(n, p))
    y = np.ones(n)
    empty, no_idx = np.empty(0), np.empty(0, dtype=np.intc)
    args = (_cd.DENSE, X, empty, no_idx, no_idx, np.empty((0, 0)), empty, y, empty, False,
            np.zeros(p), 0.0, float(n), False, np.ones(p), np.zeros(p), 1.0, 0.0, False,
            10, 1e-4, 1e-4)
    _cd.enet_coordinate_descent(*args, _cd.Workspace(_cd.DENSE, n, p, np.float64),
                                _cd.CorrelationReference(n, p, np.float64))
    with pytest.raises(ValueError, match="other data"):
        _cd.enet_coordinate_descent(*args, _cd.Workspace(_cd.DENSE, n, p + 1, np.float64))
    with pytest.raises(ValueError, match="other data"):
        _cd.enet_coordinate_descent(*args, None, _cd.CorrelationReference(n, p, np.float32))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [True, False])
def test_gram_rows_formed_on_demand_match_the_gram_matrix(order, weighted, center):
    # cd_gram at a large alpha forms only the rows of Q its working sets need
    # (_cd._ensure_gram_rows); continuing down a path on the same cached
    # problem forms more, then completes Q (gram_complete).  Every formed row
    # equals the centred weighted Gram matrix, and each solution equals the
    # one from the whole matrix.
    from sklreg import _solvers
    from sklreg._base import center_problem

    rng = np.random.RandomState(7)
    n, p = 400, 60
    X = np.asarray(rng.randn(n, p) + 2.0, order=order)
    y = (X - 2.0) @ ((-1.0) ** np.arange(p) * np.exp(-np.arange(p) / 10)) + rng.randn(n)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    if sw is not None:
        sw *= n / sw.sum()
    problem = center_problem(X, y[:, None], sw, center)
    problem.reuse = True
    s = np.ones(n) if sw is None else sw
    Z = X - (problem.x_mean if center else 0.0)
    expected = Z.T @ (s[:, None] * Z)
    a_max = np.max(np.abs(Z.T @ (s * (y - problem.y_mean[0])))) / n
    coef = np.zeros((1, p))
    formed = []
    for share in (0.5, 0.1, 0.001):
        _solvers.coordinate_descent(problem, coef, share * a_max, 1.0, False, 1000, 1e-10,
                                    gram=True)
        Q, _, _, have = problem.cache["gram"]
        rows = have.astype(bool)
        formed.append(rows.sum())
        assert_allclose(Q[rows], expected[rows], rtol=1e-12, atol=1e-12 * np.abs(expected).max())
        whole = center_problem(X, y[:, None], sw, center)
        ref = np.zeros((1, p))
        _solvers.coordinate_descent(whole, ref, share * a_max, 1.0, False, 1000, 1e-10,
                                    gram=False)
        assert_allclose(coef, ref, rtol=1e-6, atol=1e-8)
    # A few rows at alpha_max / 2, all of them by the end of the path.
    assert 0 < formed[0] < p / 4 and formed[-1] == p


def test_gram_rows_not_formed_lazily_at_small_alpha():
    # Below LAZY_GRAM_MIN_ALPHA_SHARE * alpha_max the whole matrix is formed
    # up front (most rows would be needed).
    from sklreg import _solvers
    from sklreg._base import center_problem

    rng = np.random.RandomState(3)
    X = rng.randn(300, 40)
    y = X @ rng.randn(40) + rng.randn(300)
    for share, lazy in [(0.5, True), (0.01, False)]:
        problem = center_problem(X, y[:, None], None, True)
        problem.reuse = True
        a_max = np.max(np.abs(X.T @ (y - y.mean()))) / 300
        _solvers.coordinate_descent(problem, np.zeros((1, 40)), share * a_max, 1.0, False,
                                    1000, 1e-8, gram=True)
        assert (problem.cache["gram"][3].sum() < 40) == lazy


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_first_working_set_covers_the_features_asked_for(layout):
    """first_ws = p sweeps every feature in the first round: on orthogonal
    columns one sweep is exact.  Without it, a warm start's first round
    sweeps only about twice its support, and one sweep leaves a gap."""
    import scipy.sparse as sp
    from sklreg._core import _cd

    n, p = 80, 40
    # Orthogonal columns: disjoint non-zero rows, two each, zero mean removed
    # by fitting no intercept.
    X = np.zeros((n, p))
    for j in range(p):
        X[2 * j, j], X[2 * j + 1, j] = 1.0, -0.5
    rng = np.random.RandomState(0)
    w_true = rng.uniform(2.0, 3.0, p) * rng.choice([-1, 1], p)
    y = X @ w_true
    hess = np.einsum("ij,ij->j", X, X)
    empty, no_idx = np.empty(0), np.empty(0, dtype=np.intc)
    if layout == "dense":
        data = (_cd.DENSE, np.asfortranarray(X), empty, no_idx, no_idx)
    else:
        Xc = sp.csc_matrix(X)
        data = (_cd.SPARSE, np.empty((0, 0), order="F"), Xc.data,
                Xc.indices.astype(np.intc), Xc.indptr.astype(np.intc))
    gaps = {}
    for first_ws in (0, p):
        w = np.zeros(p)
        w[0] = 1.0  # a warm start: no cold sweep over every feature
        gap, n_iter = _cd.enet_coordinate_descent(
            *data, np.empty((0, 0)), empty, y, empty, False, np.zeros(p), 0.0,
            float(y @ y), False, hess, w, 0.1, 0.0, False, 1, 1e-8, 1e-12,
            first_ws=first_ws)
        gaps[first_ws] = gap
    assert gaps[p] <= 1e-10 * y @ y
    assert gaps[0] > 1e-3 * y @ y


@pytest.mark.parametrize("case", ["mean0", "mean100sd", "mean1e4sd", "constant-column"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("order", ["C", "F"])
def test_problem_moments_match_two_pass_numpy(case, weighted, fit_intercept, order):
    # Means, Xc^T S Yc and the column variances that solvers take from the
    # one-pass moments, against two-pass numpy; where the one-pass variance
    # would lose digits (large means, constant columns) the two-pass kernel
    # must be used instead.
    from sklreg import _solvers
    from sklreg._base import center_problem
    rng = np.random.RandomState(0)
    n, p = 200, 6
    X = rng.randn(n, p) + {"mean0": 0.0, "mean100sd": 100.0, "mean1e4sd": 1e4,
                           "constant-column": 1.0}[case]
    if case == "constant-column":
        X[:, 2] = 7.0
    X = np.asarray(X, order=order)
    Y = rng.randn(n, 2) + 5.0
    s = rng.uniform(0.1, 3, n) if weighted else np.ones(n)
    s *= n / s.sum()
    problem = center_problem(X, Y, s if weighted else None, fit_intercept)
    x_mean = s @ X / n if fit_intercept else np.zeros(p)
    y_mean = s @ Y / n if fit_intercept else np.zeros(2)
    Xc, Yc = X - x_mean, Y - y_mean
    assert_allclose(problem.x_mean, x_mean, rtol=1e-13)
    assert_allclose(problem.xt_centered_targets(), Xc.T @ (s[:, None] * Yc),
                    rtol=1e-10, atol=1e-9 * np.abs(Xc).max() * n)
    expected = s @ Xc ** 2
    if fit_intercept and case in ("mean1e4sd", "constant-column"):
        assert problem.moment_variances() is None
    else:
        assert_allclose(problem.moment_variances(), expected, rtol=1e-9)
    empty, no_index = np.empty(0), np.empty(0, dtype=np.intc)
    got = _solvers.column_variances(problem, X, empty, no_index, no_index, 0)
    assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


# Wide C-ordered X is swept without a Fortran copy (columns gathered as
# working sets reach them, gradients by rows, a cold sweep cut short): the
# solution must be the Fortran path's, whatever the weights, precision,
# penalty and shape, and for a path that reuses the gathered columns.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("shape", [(40, 300), (100, 2000), (7, 600), (150, 150)])
def test_c_ordered_wide_x_matches_fortran_order(dtype, weighted, penalty, shape):
    from sklreg import RegularizedRegressor
    from sklreg._solvers import sweeps_by_rows
    rng = np.random.default_rng(shape[1])
    n, p = shape
    X = rng.standard_normal((n, p))
    X[:, ::5] += 4.0  # large means: centring matters
    w = np.zeros(p)
    w[:12] = rng.standard_normal(12)
    y = X @ w + 0.1 * rng.standard_normal(n)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    Xc = X.astype(dtype)
    Xf = np.asfortranarray(Xc)
    assert sweeps_by_rows(Xc) and not sweeps_by_rows(Xf)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    for divisor in (5, 50):
        kw = dict(penalty=penalty, l1_ratio=0.5, alpha=np.abs(X.T @ y).max() / n / divisor,
                  tol=tol, max_iter=100_000, solver="cd")
        by_rows = RegularizedRegressor(**kw).fit(Xc, y, sample_weight=sw)
        by_cols = RegularizedRegressor(**kw).fit(Xf, y, sample_weight=sw)
        scale = np.abs(by_cols.coef_).max()
        assert_allclose(by_rows.coef_, by_cols.coef_, rtol=0,
                        atol=(1e-7 if dtype == np.float64 else 2e-3) * scale)
        assert_allclose(by_rows.intercept_, by_cols.intercept_,
                        rtol=1e-5 if dtype == np.float32 else 1e-8, atol=1e-6 * scale)


def test_c_ordered_path_matches_fortran_order():
    from sklreg import RegularizedRegressorCV
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 900))
    y = X[:, :6].sum(axis=1) + rng.standard_normal(60)
    by_rows = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=0.7, cv=3).fit(X, y)
    by_cols = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=0.7, cv=3).fit(
        np.asfortranarray(X), y)
    assert by_rows.alpha_ == pytest.approx(by_cols.alpha_, rel=1e-12)
    assert_allclose(by_rows.coef_, by_cols.coef_, atol=1e-8)


def test_cd_refuses_x_rows_of_the_wrong_shape_and_bad_seeds():
    from sklreg._core import _cd
    n, p = 5, 8
    X = np.random.RandomState(0).randn(n, p)
    y = np.ones(n)
    empty, no_idx = np.empty(0), np.empty(0, dtype=np.intc)
    args = (_cd.DENSE, np.empty((0, 0), order="F"), empty, no_idx, no_idx, np.empty((0, 0)),
            empty, y, empty, False, np.zeros(p), 0.0, float(n), False, np.ones(p),
            np.zeros(p), 0.1, 0.0, False, 10, 1e-4, 1e-4)
    gap, it = _cd.enet_coordinate_descent(*args, X_rows=X)
    assert np.isfinite(gap) and it >= 1
    with pytest.raises(ValueError, match="X_rows"):
        _cd.enet_coordinate_descent(*args, X_rows=X[:, :-1].copy())
    reference = _cd.CorrelationReference(n, p, np.float64)
    with pytest.raises(ValueError, match="seed"):
        reference.seed(np.zeros(n + 1), np.zeros(p), 0.0)


@pytest.mark.parametrize("k", [1, 2, 3, 8])
def test_cholesky_delete_gives_the_factor_without_a_row_and_column(k):
    from scipy.linalg import cholesky
    from sklreg._core import _cd
    rng = np.random.default_rng(k)
    B = rng.standard_normal((k + 3, k))
    A = B.T @ B + 0.1 * np.eye(k)
    for r in range(k):
        U = np.asfortranarray(cholesky(A, lower=False))
        U[np.tril_indices(k, -1)] = np.nan  # never read
        _cd.cholesky_delete(U, r)
        keep = [j for j in range(k) if j != r]
        Ur = np.triu(U[:k - 1, :k - 1])
        assert np.all(np.isfinite(Ur))
        assert_allclose(Ur.T @ Ur, A[np.ix_(keep, keep)], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        _cd.cholesky_delete(np.asfortranarray(np.eye(3)), 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0), (1, 1), (40, 3), (7, 5000),
                                   (300, 2049)])
@pytest.mark.parametrize("sorted_rows", [True, False])
def test_csr_to_csc_matches_scipy(dtype, shape, sorted_rows):
    # 2049 columns: three blocks of columns, the last one of a single column.
    rng = np.random.RandomState(0)
    dense = rng.uniform(0.5, 1.5, shape) * (rng.rand(*shape) < (0.2 if shape[1] < 100 else 0.01))
    if dense.size:
        dense[0, 0] = dense[-1, -1] = 2.0  # entries in the first and last row and column
    X = sp.csr_matrix(dense.astype(dtype))
    indices, data = X.indices.astype(np.intc), X.data.copy()
    if not sorted_rows:  # reverse each row's entries: rows need not be sorted
        for i in range(shape[0]):
            start, end = X.indptr[i], X.indptr[i + 1]
            indices[start:end] = indices[start:end][::-1].copy()
            data[start:end] = data[start:end][::-1].copy()
    out_data, out_indices, out_indptr = _gram.csr_to_csc(
        data, indices, X.indptr.astype(np.intc), shape[1])
    expected = X.tocsc()
    expected.sort_indices()
    assert out_data.dtype == dtype
    assert out_indices.dtype == out_indptr.dtype == np.intc
    np.testing.assert_array_equal(out_indptr, expected.indptr)
    np.testing.assert_array_equal(out_indices, expected.indices)
    np.testing.assert_array_equal(out_data, expected.data)


@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csr_array])
def test_to_csc_keeps_the_kind_and_marks_sorted_indices(kind):
    from sklreg._base import csc_arrays, to_csc
    X = kind(sp.random(30, 40, density=0.2, format="csr", random_state=1))
    out = to_csc(X)
    assert out.format == "csc" and isinstance(out, sp.sparray) == isinstance(X, sp.sparray)
    assert out.has_sorted_indices and out.has_canonical_format
    np.testing.assert_array_equal(out.toarray(), X.toarray())
    assert to_csc(out) is out
    data, indices, indptr = csc_arrays(X)
    assert indices.dtype == indptr.dtype == np.intc
    np.testing.assert_array_equal(sp.csc_matrix((data, indices, indptr), X.shape).toarray(),
                                  X.toarray())
