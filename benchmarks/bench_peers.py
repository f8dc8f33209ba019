"""Benchmark sklreg against every installed peer library at equal objective.

Peers (each optional: a missing one shows "not installed"): scikit-learn, scikit-learn-intelex
(daal4py Lasso / ElasticNet, sklearnex Ridge / LogisticRegression; dense X only), skglm, celer,
glum, python-glmnet and snapml.  Every fit, whatever the library, is scored by one float64
function of the returned coefficients w and intercept b (never by the peer's own report):

    regression:  1/(2n) ||y - Xw - b||^2 + alpha (r ||w||_1 + (1-r)/2 ||w||^2)
    logistic:    1/n sum_i log(1 + exp(-t_i (x_i.w + b))) + alpha (same penalty), t_i = +-1

Each peer's parameters are mapped onto this objective (see PEER_NOTES below and
shared/peer-mappings.md); the mappings were checked against sklreg at tol=1e-12 on small data.

Rules
- Best objective of a row: the lowest objective of any fit made on the row (every tol-search
  fit of every peer, plus sklreg and scikit-learn's reference setting at tol=1e-12, made when
  their tol-1e-2 fit took at most a fiftieth of the budget).
- Equal quality: each peer setting fits at tol 1e-2, 1e-3, ..., 1e-12 (its own tol units; a
  direct solver fits once) and keeps the loosest tol whose objective is within 1e-6 relative of
  the best (the search starts at 1e-2 because a library's own tol scale can reach that quality
  at a looser tol than 1e-4: sklreg's logistic fits, say, whose tol 1e-4 lands 1e-10 from the
  best); when a fit lowers the best, every peer is re-checked.  A peer that never gets there
  is "not timed (gap ...)".  Per-fit time budget (--budget): a setting whose fit takes longer,
  or whose next fit is projected to (last time x its growth over the previous tol), stops
  tightening and is "not timed (too slow)".  The search fits are timed without the pause.
- Timing ("first-call time counts"): a fresh estimator for every fit (no warm start), fit()
  only, QUIET_SECONDS pause before each fit, median of --repeats fits (SMALL_ROW_REPEATS on
  rows of small fits), all timed settings in one round-robin order rotated every repeat.  The first fit of each library in the process
  (numba compilation, lazy imports) is recorded separately and shown in the notes.
- A peer with several settings (scikit-learn's solvers, precompute=True) shows its fastest.
- Targets: T1 = sklreg no slower than the fastest timed peer (ratio <= 1); T2 = sklreg at most
  0.2x scikit-learn's time on the wide (n < p) and sparse rows.  Failing rows are marked.

Problems: glmnet's design (equicorrelated Gaussian X, rho 0 / 0.5 / 0.9, alternating
exponentially decaying beta, SNR 3) at five shapes; bench_regressor's dense tall and sparse
problems; bench_classifier's dense and sparse binary problems; a dense tall ridge problem.

Usage: python benchmarks/bench_peers.py [--quick] [--repeats 3] [--budget SECONDS]
                                        [--only SUBSTRING] [--output FILE]
       python benchmarks/bench_peers.py --check-mappings   # each mapping vs sklreg, tol 1e-12
"""

import datetime
import importlib
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

import bench_classifier
import bench_regressor
from bench_classifier import classifier_alpha_max, make_problem
from bench_regressor import (QUIET_SECONDS, alpha_max, benchmark_parser, guarded_row,
                             machine_info, make_data, markdown_table, timed_fit, write_section)

RTOL = 1e-6  # accepted relative excess over the row's best objective
TOLS = [10.0**-k for k in range(2, 13)]  # tol search: 1e-2, ..., 1e-12
DIRECT = [None]  # a direct solver: one fit, tol not used
REF_TOL = 1e-12
# reference fit only if the setting's first (tol 1e-2) fit took <= this share of the budget
# (1e-12 can take 10-50x as long as 1e-2)
REF_BUDGET_SHARE = 0.02
MAX_ITER = 100_000
FIT_BUDGET = 60.0  # seconds per single fit (x QUICK_SCALE with --quick)
QUICK_SCALE = 0.05
REPEATS = 3
# Rows whose timed settings take at most SMALL_FIT_SECONDS (median over the settings, in the
# search) are timed SMALL_ROW_REPEATS times instead (unless --repeats asks for more, or is 1):
# a paused fit of a few ms varies up to 2x from one fit to the next on a noisy 2-core host, so
# that a median of 3 flipped T1 between runs (100 x 1000 rho 0 L1 / 10: 1.18 in a full run,
# 0.71 and 0.52 re-run), while the extra fits cost little beside the pauses.
SMALL_FIT_SECONDS = 0.05
SMALL_ROW_REPEATS = 7
# Within one library, a setting whose accepted search fit took more than SLOW_FACTOR x the
# library's fastest (and over SLOW_SECONDS) is not timed again: it cannot be the fastest.
SLOW_FACTOR = 3.0
SLOW_SECONDS = 0.5
T2_RATIO = 0.2
# Peers without an unpenalized intercept (celer's logistic regression, snapml) get a constant
# column of this value: their penalty on its weight w_c (intercept b = c w_c) is alpha |b| / c.
INTERCEPT_COLUMN = 1e4
GLUM_MAX_P = 5000  # glum's coordinate descent forms a dense p x p Hessian
CORES = len(os.sched_getaffinity(0))
SECTION = ("<!-- bench_peers:start -->", "<!-- bench_peers:end -->")


# ---------------------------------------------------------------------------------------------
# problems

def glmnet_design(n, p, rho, seed):
    """Friedman, Hastie & Tibshirani (2010)'s simulation: Gaussian X with equal pairwise
    correlation rho, beta_j = (-1)^j exp(-2 (j-1) / 20), y = X beta + k noise with SNR 3."""
    rng = np.random.default_rng(seed)
    X = np.sqrt(1 - rho) * rng.standard_normal((n, p))
    X += np.sqrt(rho) * rng.standard_normal((n, 1))
    j = np.arange(1, p + 1)
    signal = X @ ((-1.0) ** j * np.exp(-2 * (j - 1) / 20))
    noise = rng.standard_normal(n)
    return X, signal + signal.std() / (3 * noise.std()) * noise


@dataclass
class Problem:
    name: str  # stable across --quick (full shape), matched by --only
    loss: str  # "ls" or "log"
    full: tuple
    quick: tuple
    build: object  # (n, p) -> X, y
    rows: list  # (penalty label, r, alpha divisor)


L1_EN = [(pen, r, d) for d in (10, 100) for pen, r in (("L1", 1.0), ("EN 0.5", 0.5))]
GLMNET_SHAPES = [((1000, 100), (200, 25)), ((5000, 100), (1000, 25)), ((100, 1000), (50, 100)),
                 ((100, 5000), (50, 500)), ((100, 20000), (50, 2000))]
PROBLEMS = [
    Problem(f"glmnet {full[0]}x{full[1]} rho={rho}", "ls", full, quick,
            lambda n, p, rho=rho, seed=seed: glmnet_design(n, p, rho, seed), L1_EN)
    for seed, (rho, (full, quick)) in enumerate(
        (rho, shapes) for shapes in GLMNET_SHAPES for rho in (0.0, 0.5, 0.9))
] + [
    # bench_regressor's problems (same generator and seeds): correlated dense X with non-zero
    # means and y = X w + 3 + noise, sparse true w; CSR U[0, 1) with density 1e-3
    Problem("dense tall", "ls", (50_000, 500), (2_500, 500),
            lambda n, p: make_data("dense", n, p, 50, 0), L1_EN),
    Problem("sparse", "ls", (20_000, 50_000), (4_472, 11_180),
            lambda n, p: make_data("sparse", n, p, 500, 2), L1_EN + [("L2", 0.0, 10)]),
    Problem("ridge tall", "ls", (200_000, 300), (10_000, 300),
            lambda n, p: make_data("dense", n, p, 30, 3), [("L2", 0.0, 10)]),
    # bench_classifier's binary problems (same generator and seeds)
    Problem("logistic dense", "log", (50_000, 300), (2_500, 300),
            lambda n, p: make_problem("dense", 2, n, p, 30, 0),
            [("L1", 1.0, 10), ("L2", 0.0, 10)]),
    Problem("logistic sparse", "log", (20_000, 50_000), (4_472, 11_180),
            lambda n, p: make_problem("sparse", 2, n, p, 500, 2), [("L1", 1.0, 10)]),
]


@dataclass
class Task:
    """One row: data, loss, penalty mix r and alpha."""
    loss: str
    X: object
    y: np.ndarray
    r: float
    alpha: float

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def p(self):
        return self.X.shape[1]

    @property
    def sparse(self):
        return sp.issparse(self.X)

    @property
    def penalty(self):
        return {1.0: "l1", 0.0: "l2"}.get(self.r, "elasticnet")

    def score(self, w, b):
        """The row's objective at (w, b), float64."""
        fitted = SimpleNamespace(coef_=w, intercept_=np.atleast_1d(b))
        module = bench_regressor if self.loss == "ls" else bench_classifier
        return module.objective(fitted, self.X, self.y, self.alpha, self.r)


def row_alpha(loss, X, y, r, divisor):
    """alpha_max / divisor; L2 rows use the L1 alpha_max (as bench_regressor / classifier)."""
    if loss == "log":
        return classifier_alpha_max(X, y, 2) / divisor
    return alpha_max(X, y, r or 1.0) / divisor


# ---------------------------------------------------------------------------------------------
# peers: settings(task) -> {name: Setting} or a reason string (n/a); coef_intercept(est) -> w, b

@dataclass
class Setting:
    make: object  # tol -> fresh estimator
    tols: list = None  # TOLS, or DIRECT
    reference: bool = False  # also fitted at REF_TOL (untimed)


class ConstantColumn:
    """Fits ``est`` on [X, c 1]: for peers that fit no unpenalized intercept.  The stacking is
    part of the timed fit (it is the user's cost); b = c w_c, penalized by alpha |b| / c."""

    def __init__(self, est, c=INTERCEPT_COLUMN):
        self.est, self.c = est, c

    def fit(self, X, y):
        column = np.full((X.shape[0], 1), self.c)
        Xc = sp.hstack([X, column], format="csr") if sp.issparse(X) else np.hstack([X, column])
        self.est.fit(Xc, y)
        w = np.ravel(self.est.coef_)
        self.coef_, self.intercept_ = w[:-1], w[-1] * self.c
        return self


class GlmnetFit:
    """python-glmnet at one lambda (a two-point path ending there), coefficients read back.

    glmnet standardizes y internally for the Gaussian family, which rescales its L2 term: for
    r < 1 we fit y / s (s = std y) with L1 weight alpha r / s and L2 weight alpha (1 - r), then
    multiply w and b by s.  The rescaling is inside the timed fit.  LogitNet maps 1:1."""

    def __init__(self, task, tol):
        self.loss, self.r, self.alpha, self.tol = task.loss, task.r, task.alpha, tol

    def fit(self, X, y):
        import glmnet
        s = float(np.std(y)) if self.loss == "ls" and self.r < 1 else 1.0
        l1, l2 = self.alpha * self.r / s, self.alpha * (1 - self.r)
        lam = l1 + l2
        cls = glmnet.ElasticNet if self.loss == "ls" else glmnet.LogitNet
        est = cls(alpha=l1 / lam, lambda_path=[lam * 1.0001, lam], standardize=False,
                  n_splits=0, tol=self.tol, max_iter=MAX_ITER)
        est.fit(X, y / s if s != 1.0 else y)
        coef, icpt = est.coef_path_, np.asarray(est.intercept_path_)
        if coef.ndim == 3:  # LogitNet: (1, p, n_lambda)
            coef, icpt = coef[0], icpt[0]
        self.coef_, self.intercept_ = coef[:, -1] * s, icpt[-1] * s
        return self


class Peer:
    name = ""
    module = ""  # imported once; ImportError -> "not installed"
    jit = False  # compiles per kind of input (numba): warmed up on a small sample of each kind

    def __init__(self):
        try:
            importlib.import_module(self.module)
            self.missing = None
        except Exception as exc:  # ImportError, or a broken install
            self.missing = f"{type(exc).__name__}: {exc}"

    def settings(self, task):
        raise NotImplementedError

    @staticmethod
    def coef_intercept(est):
        return np.ravel(est.coef_), float(np.ravel(est.intercept_)[0])


class Sklreg(Peer):
    name, module = "sklreg", "sklreg"

    def settings(self, task):
        if task.loss == "ls":
            make = bench_regressor.sklreg_maker(task.penalty, task.alpha, task.r)
        else:
            make = with_max_iter(bench_classifier.sklreg_maker(task.penalty, task.alpha))
        return {"auto": Setting(make, TOLS, reference=True)}


def with_max_iter(make):
    """bench_classifier's makers take (tol, max_iter): fix max_iter at MAX_ITER."""
    return lambda tol: make(tol, MAX_ITER)


class Sklearn(Peer):
    name, module = "scikit-learn", "sklearn"

    def settings(self, task):
        n, p, r = task.n, task.p, task.r
        if task.loss == "ls":
            kind = "sparse" if task.sparse else "dense"
            options = bench_regressor.sklearn_candidates(kind, n, p, r)
            if r == 0 and task.sparse:
                options["sag"] = {"solver": "sag"}
            settings = {}
            for i, (name, opts) in enumerate(options.items()):
                make = bench_regressor.sklearn_maker(task.alpha, r, n, **opts)
                if opts.get("solver") == "cholesky":  # direct: tol not used
                    settings[name] = Setting(lambda tol, make=make: make(TOLS[0]), DIRECT)
                else:
                    settings[name] = Setting(make, TOLS, reference=i == 0)
            return settings
        # saga on the sparse problem: minutes per fit (see bench_classifier), left out
        solvers = [s for s in bench_classifier.sklearn_candidates(
            "sparse" if task.sparse else "dense", 2, r) if not (s == "saga" and task.sparse)]
        # liblinear's and saga's tol=1e-12 are no reference (unattainable / far too slow)
        return {s: Setting(with_max_iter(bench_classifier.sklearn_maker(s, task.alpha, r, n)),
                           TOLS, reference=s == "lbfgs") for s in solvers}


def lasso_or_enet(module, task, max_iter):
    """module.Lasso (L1) or module.ElasticNet, alpha and l1_ratio 1:1 (daal4py, skglm, celer;
    max_iter: iterations for daal4py, outer working-set iterations for skglm and celer)."""
    if task.r == 1:
        return {"Lasso": Setting(lambda tol: module.Lasso(
            alpha=task.alpha, tol=tol, max_iter=max_iter))}
    return {"ElasticNet": Setting(lambda tol: module.ElasticNet(
        alpha=task.alpha, l1_ratio=task.r, tol=tol, max_iter=max_iter))}


class Intelex(Peer):
    name, module = "intelex", "sklearnex"

    def settings(self, task):
        if task.sparse:
            return "dense X only"
        a, r, n = task.alpha, task.r, task.n
        if task.loss == "ls":
            if r == 0:  # oneDAL's Ridge: normal equations, tol not used
                from sklearnex.linear_model import Ridge
                return {"Ridge": Setting(lambda tol: Ridge(alpha=n * a), DIRECT)}
            from daal4py.sklearn import linear_model
            return lasso_or_enet(linear_model, task, MAX_ITER)
        if r != 0:
            return "no L1 logistic in oneDAL"
        from sklearnex.linear_model import LogisticRegression
        return {"lbfgs": Setting(lambda tol: LogisticRegression(
            C=1 / (n * a), tol=tol, max_iter=MAX_ITER))}


class Skglm(Peer):
    name, module, jit = "skglm", "skglm", True

    def settings(self, task):
        import skglm
        if task.loss == "log":
            return {"SparseLogisticRegression": Setting(lambda tol: skglm.SparseLogisticRegression(
                alpha=task.alpha, l1_ratio=task.r, tol=tol, max_iter=1000, max_epochs=MAX_ITER))}
        return lasso_or_enet(skglm, task, 1000)


class Celer(Peer):
    name, module = "celer", "celer"

    def settings(self, task):
        import celer
        if task.r == 0:
            return "no L2-only penalty"
        if task.loss == "log":
            if task.r != 1:
                return "logistic: L1 only"
            return {"LogisticRegression": Setting(lambda tol: ConstantColumn(
                celer.LogisticRegression(C=1 / (task.n * task.alpha), tol=tol, max_iter=1000)))}
        return lasso_or_enet(celer, task, 1000)


class Glum(Peer):
    name, module = "glum", "glum"

    def settings(self, task):
        if task.p >= GLUM_MAX_P:
            return f"p >= {GLUM_MAX_P}: dense p x p Hessian"
        from glum import GeneralizedLinearRegressor
        family = "normal" if task.loss == "ls" else "binomial"
        return {"auto": Setting(lambda tol: GeneralizedLinearRegressor(
            family=family, alpha=task.alpha, l1_ratio=task.r, gradient_tol=tol, max_iter=1000))}


class Glmnet(Peer):
    name, module = "glmnet", "glmnet"

    def settings(self, task):
        return {"path to lambda": Setting(lambda tol: GlmnetFit(task, tol))}


class Snapml(Peer):
    name, module = "snapml", "snapml"

    def settings(self, task):
        import snapml
        if 0 < task.r < 1:
            return "no elastic net"
        cls = snapml.LinearRegression if task.loss == "ls" else snapml.LogisticRegression
        # primal solver (dual=False): the dual one fails with the large constant column
        return {"primal": Setting(lambda tol: ConstantColumn(cls(
            penalty=task.penalty, regularizer=task.n * task.alpha, dual=False, tol=tol,
            max_iter=MAX_ITER, n_jobs=CORES)))}


PEERS = [Sklreg(), Sklearn(), Intelex(), Skglm(), Celer(), Glum(), Glmnet(), Snapml()]
PEER_NOTES = [
    "scikit-learn: Lasso / ElasticNet 1:1 (default, and precompute=True on dense tall X); Ridge "
    "alpha = n alpha (auto, cholesky, lsqr, sparse_cg on dense X; auto, lsqr, sparse_cg, sag on "
    "sparse X); LogisticRegression C = 1/(n alpha), l1_ratio = r (L2: lbfgs, newton-cholesky "
    "(dense), newton-cg; L1: liblinear with intercept_scaling=1e4, saga on dense X only).",
    "intelex: daal4py.sklearn.linear_model Lasso / ElasticNet 1:1, sklearnex Ridge alpha = n "
    "alpha (direct), sklearnex LogisticRegression (lbfgs) C = 1/(n alpha); dense X only.",
    "skglm: Lasso / ElasticNet / SparseLogisticRegression 1:1 (tol is a KKT-violation bound).",
    "celer: Lasso / ElasticNet 1:1 (l1_ratio > 0 only); LogisticRegression C = 1/(n alpha), L1 "
    f"only, no intercept: constant column {INTERCEPT_COLUMN:g} appended.",
    f"glum: GeneralizedLinearRegressor(family normal / binomial, alpha, l1_ratio) 1:1, tol = "
    f"gradient_tol; n/a for p >= {GLUM_MAX_P} (dense p x p Hessian).",
    "glmnet (python-glmnet): ElasticNet(alpha=r, lambda_path=[1.0001 lambda, lambda], "
    "standardize=False, n_splits=0); lambda = alpha for L1; for r < 1 it fits y/s (s = std y) "
    "with L1 weight alpha r/s and L2 weight alpha (1-r), w and b times s (inside the timed fit); "
    "LogitNet 1:1.",
    f"snapml: LinearRegression / LogisticRegression, regularizer = n alpha, primal solver, "
    f"n_jobs={CORES}, no elastic net; fit_intercept is ignored by the primal solver: constant "
    f"column {INTERCEPT_COLUMN:g} appended (stacking inside the timed fit).",
]


# ---------------------------------------------------------------------------------------------
# equal-quality search and timing

FIRST_FITS = {}  # peer -> its first fit in the process: seconds, same fit again, where
JIT_WARMUPS = {}  # jit peer -> {input kind: (row, first fit of that kind, same fit again)}


def search_fit(make, tol, X, y):
    """timed_fit without its QUIET_SECONDS pause: a search fit's time only decides the budget
    and the slow-setting cut, and the pauses would dominate the search on small rows."""
    pause = bench_regressor.QUIET_SECONDS
    bench_regressor.QUIET_SECONDS = 0.0
    try:
        return timed_fit(make, tol, X, y)
    finally:
        bench_regressor.QUIET_SECONDS = pause


def warmup_sample(task, rows=200, cols=200):
    """A few rows (both classes for logistic) and columns of the task's data, same layout."""
    if task.loss == "log":
        idx = np.concatenate([np.flatnonzero(task.y == c)[:rows // 2] for c in (0, 1)])
    else:
        idx = np.arange(min(rows, task.n))
    cols = np.arange(min(cols, task.p))
    X = task.X[idx][:, cols] if task.sparse else np.ascontiguousarray(task.X[np.ix_(idx, cols)])
    return X, task.y[idx]


class Ladder:
    """One setting's untimed tol search on one row (fresh estimator each fit)."""

    def __init__(self, peer, name, setting, task, budget, row):
        self.peer, self.name, self.setting, self.task = peer, name, setting, task
        self.budget, self.row = budget, row
        self.tols = setting.tols or TOLS
        self.fits, self.ref = [], None
        self.status = "searching"  # reached | exhausted | slow

    def fit(self, tol):
        """One search fit: tol, seconds, objective, ConvergenceWarning.

        A library's first fit in the process is made twice; the first time is recorded as its
        warm-up (lazy imports, compilation).  A jit peer first fits a small sample of each new
        kind of input twice, so that its compilation stays out of the search's times."""
        task = self.task
        kind = (task.loss, task.sparse, task.r == 0, self.name)
        warmups = JIT_WARMUPS.setdefault(self.peer.name, {}) if self.peer.jit else {}
        if self.peer.jit and kind not in warmups:
            Xs, ys = warmup_sample(task)
            warmups[kind] = self.twice(tol, Xs, ys, f"a {Xs.shape[0]} x {Xs.shape[1]} sample "
                                                    f"of {self.row}")[:3]
        seconds, est, warned = search_fit(self.setting.make, tol, task.X, task.y)
        if self.peer.name not in FIRST_FITS:
            _, _, seconds, est, warned = self.twice(tol, task.X, task.y, self.row, seconds)
        obj = task.score(*self.peer.coef_intercept(est))
        return dict(tol=tol, seconds=seconds, obj=obj, warned=warned)

    def twice(self, tol, X, y, where, first=None):
        """(where, first fit's seconds, the same fit again, its estimator, warned); the first
        fit of the library in the process is recorded in FIRST_FITS."""
        if first is None:
            first, _, _ = search_fit(self.setting.make, tol, X, y)
        again, est, warned = search_fit(self.setting.make, tol, X, y)
        where = f"{where}, {self.name}, tol {fmt_tol(tol)}"
        FIRST_FITS.setdefault(self.peer.name, (first, again, where))
        return where, first, again, est, warned

    def objectives(self):
        return [f["obj"] for f in self.fits + ([self.ref] if self.ref else [])]

    def advance(self, best):
        """Tighten tol until the last fit is within RTOL of best, or the search must stop: all
        tols tried, a fit over the budget, or the next fit projected over it (the last fit's
        time times the growth from the fit before)."""
        while True:
            if self.fits:
                last = self.fits[-1]
                if last["seconds"] > self.budget:
                    self.status = "slow"
                    return
                if last["obj"] <= best * (1 + RTOL):
                    self.status = "reached"
                    return
                if len(self.fits) == len(self.tols):
                    self.status = "exhausted"
                    return
                if len(self.fits) >= 2:
                    growth = last["seconds"] / max(self.fits[-2]["seconds"], 1e-9)
                    if last["seconds"] * max(growth, 1.0) > self.budget:
                        self.status = "slow"
                        return
            self.fits.append(self.fit(self.tols[len(self.fits)]))

    @property
    def last(self):
        return self.fits[-1]

    @property
    def non_monotone(self):
        """Objective rose (beyond RTOL) when tol was tightened."""
        objs = [f["obj"] for f in self.fits]
        return any(b > a + RTOL * abs(a) for a, b in zip(objs, objs[1:]))


def run_row(task, repeats, budget, row):
    ladders, na = {}, {}
    for peer in PEERS:
        if peer.missing:
            continue
        settings = peer.settings(task)
        if isinstance(settings, str):
            na[peer.name] = settings
            continue
        ladders[peer.name] = [Ladder(peer, name, s, task, budget, row)
                              for name, s in settings.items()]
    all_ladders = [lad for lads in ladders.values() for lad in lads]

    # first step of every search, the reference fits, then the searches to a fixpoint
    for lad in all_ladders:
        lad.fits.append(lad.fit(lad.tols[0]))
    for lad in all_ladders:  # skipped where even tol 1e-2 is slow: 1e-12 would take far longer
        if lad.setting.reference and lad.fits[0]["seconds"] <= REF_BUDGET_SHARE * lad.budget:
            lad.ref = lad.fit(REF_TOL)
    best = min(o for lad in all_ladders for o in lad.objectives())
    while True:
        for lad in all_ladders:
            lad.advance(best)
        lowest = min(o for lad in all_ladders for o in lad.objectives())
        if lowest >= best:
            break
        best = lowest
    for lad in all_ladders:
        print(f"    {lad.peer.name} / {lad.name}: {lad.status}; " + "; ".join(
            f"{fmt_tol(f['tol'])} {(f['obj'] - best) / best:+.1e} {f['seconds']:.3g} s"
            for f in lad.fits) + (f"; ref {(lad.ref['obj'] - best) / best:+.1e} "
                                  f"{lad.ref['seconds']:.3g} s" if lad.ref else ""),
            file=sys.stderr, flush=True)

    # timed: per peer, its settings that reached the best within the budget, except those far
    # slower than the peer's fastest; one round-robin order, rotated every repeat
    timed = []
    for lads in ladders.values():
        ok = [lad for lad in lads if lad.status == "reached"]
        if ok:
            fastest = min(lad.last["seconds"] for lad in ok)
            timed += [lad for lad in ok
                      if lad.last["seconds"] <= max(SLOW_FACTOR * fastest, SLOW_SECONDS)]
    times = {id(lad): [] for lad in timed}
    final = {}
    repeats = row_repeats(repeats, [lad.last["seconds"] for lad in timed])
    print(f"    timed: {len(timed)} settings x {repeats} repeats", file=sys.stderr, flush=True)
    for rep in range(repeats if timed else 0):
        for lad in timed[rep % len(timed):] + timed[:rep % len(timed)]:
            seconds, est, warned = timed_fit(lad.setting.make, lad.last["tol"], task.X, task.y)
            times[id(lad)].append(seconds)
            final[id(lad)] = dict(obj=task.score(*lad.peer.coef_intercept(est)),
                                  warned=warned or final.get(id(lad), {}).get("warned", False))
    # the timed fits' objectives may set a new best (refits are deterministic for all peers
    # here, so this only guards against a surprise): gaps are against the overall lowest
    best = min([best] + [f["obj"] for f in final.values()])

    out = {}
    for peer_name, lads in ladders.items():
        res = []
        for lad in lads:
            r = dict(setting=lad.name, status=lad.status, tol=lad.last["tol"],
                     obj=lad.last["obj"], seconds=lad.last["seconds"], median=None,
                     warned=any(f["warned"] for f in lad.fits), non_monotone=lad.non_monotone)
            if id(lad) in times:
                r.update(median=statistics.median(times[id(lad)]), obj=final[id(lad)]["obj"],
                         warned=r["warned"] or final[id(lad)]["warned"])
            r["gap"] = (r["obj"] - best) / best
            res.append(r)
        timed_res = [r for r in res if r["median"] is not None]
        out[peer_name] = dict(
            best=min(timed_res, key=lambda r: r["median"]) if timed_res else
            min(res, key=lambda r: (r["status"] != "reached", r["gap"])), settings=res)
    return dict(best=best, peers=out, na=na, repeats=repeats)


def row_repeats(repeats, search_seconds):
    """Timed fits per setting on a row whose timed settings took search_seconds each."""
    if repeats > 1 and search_seconds and statistics.median(search_seconds) <= SMALL_FIT_SECONDS:
        return max(repeats, SMALL_ROW_REPEATS)
    return repeats


# ---------------------------------------------------------------------------------------------
# table

def fmt_tol(tol):
    return "direct" if tol is None else f"{tol:.0e}"


def peer_cell(r, budget):
    flag = "w" if r["warned"] or r["non_monotone"] else ""
    if r["median"] is not None:
        return f"{r['median']:.3g} ({r['gap']:+.0e}){flag}"
    if r["status"] == "slow":
        return f"not timed (too slow: last fit {r['seconds']:.3g} s, gap {r['gap']:.0e}){flag}"
    return f"not timed (gap {r['gap']:.0e}){flag}"


def ratio(sk, other):
    """(sklreg time / a peer's time, text, exact?): exact when both are timed; an upper bound
    ("<") when the peer was too slow (its time is at least that of its last fit)."""
    if sk is None or sk["median"] is None or other is None:
        return None, "-", False
    if other["median"] is not None:
        value = sk["median"] / other["median"]
        return value, f"{value:.2f}", True
    if other["status"] == "slow":
        value = sk["median"] / other["seconds"]
        return value, f"< {value:.2f}", False
    return None, "-", False


NAMES = [peer.name for peer in PEERS]
COLUMNS = ["problem", "penalty", "n x p", "alpha", *[f"{n} time (s) (gap)" for n in NAMES],
           "sklreg / fastest peer", "sklreg / sklearn", "targets", "notes"]
OBJ_COLUMNS = ["problem", "penalty", "n x p", "alpha", "best objective",
               *[f"{n}: setting, tol, objective" for n in NAMES]]


def table_rows(problem, penalty, divisor, task, out, budget):
    """A row of the times table and the matching row of the objectives table, joined."""
    peers, notes = out["peers"], []
    head = [problem, penalty, f"{task.n} x {task.p}", f"alpha_max/{divisor} = {task.alpha:.3g}"]
    cells, objs = [], []
    for peer in PEERS:
        if peer.missing:
            cells.append("not installed")
            objs.append("-")
        elif peer.name in out["na"]:
            cells.append("n/a")
            objs.append("-")
            notes.append(f"{peer.name} n/a: {out['na'][peer.name]}")
        else:
            res = peers[peer.name]
            cells.append(peer_cell(res["best"], budget))
            objs.append("; ".join(
                f"{r['setting']} {fmt_tol(r['tol'])}"
                + ("" if r["status"] == "reached" else f" ({r['status']})")
                + ("" if r["median"] is not None or r["status"] != "reached" else " (1 fit)")
                + f": {r['obj']:.12g}" for r in res["settings"]))
            if res["best"]["non_monotone"]:
                notes.append(f"{peer.name}: objective rose as tol tightened")
            if len(res["settings"]) > 1 and res["best"]["median"] is not None:
                notes.append(f"{peer.name}: {res['best']['setting']}")
    sk = peers.get("sklreg", {}).get("best")
    others = [peers[n]["best"] for n in peers if n != "sklreg" and peers[n]["best"]["median"]]
    fastest = min(others, key=lambda r: r["median"], default=None)
    r1, fastest_text, _ = ratio(sk, fastest)
    if fastest is not None:
        fastest_text += f" ({next(n for n in peers if peers[n]['best'] is fastest)})"
    r2, sklearn_text, exact = ratio(sk, peers.get("scikit-learn", {}).get("best"))
    fails = []
    if sk is None or sk["median"] is None:
        fails.append("sklreg not timed")
    if r1 is not None and r1 > 1.0:
        fails.append("FAIL T1")
    if (task.sparse or task.n < task.p) and (r2 is None or r2 > T2_RATIO):
        fails.append("FAIL T2" if exact else "T2 unknown")
    return (head + cells + [fastest_text, sklearn_text, ", ".join(fails) or "ok",
                            "; ".join(notes) or "-"]
            + [f"{out['best']:.12g}"] + objs)


# small problems for --check-mappings: loss, label, build, r values
CHECK_PROBLEMS = [
    ("ls", "dense 200 x 30", lambda: make_data("dense", 200, 30, 10, 0), (1.0, 0.5, 0.0)),
    ("ls", "sparse 3000 x 2000", lambda: make_data("sparse", 3000, 2000, 10, 0), (1.0, 0.5, 0.0)),
    ("log", "dense 300 x 20", lambda: make_problem("dense", 2, 300, 20, 5, 0), (1.0, 0.0)),
    ("log", "sparse 3000 x 2000", lambda: make_problem("sparse", 2, 3000, 2000, 5, 0),
     (1.0, 0.0)),
]
PENALTY_LABELS = {1.0: "L1", 0.5: "EN 0.5", 0.0: "L2"}


def check_mappings():
    """Each library setting at tol 1e-12 (direct solvers: once) against sklreg at tol 1e-12 on
    small problems, alpha = alpha_max / 10: the relative objective difference of each mapping."""
    rows = []
    for loss, label, build, rs in CHECK_PROBLEMS:
        X, y = build()
        for r in rs:
            task = Task(loss, X, y, r, row_alpha(loss, X, y, r, 10))
            cells, ref = [], None
            for peer in PEERS:  # sklreg first: the reference
                settings = "not installed" if peer.missing else peer.settings(task)
                if isinstance(settings, str):
                    cells.append(f"n/a ({settings})" if not peer.missing else settings)
                    continue
                parts = []
                for name, setting in settings.items():
                    tol = None if setting.tols is DIRECT else REF_TOL
                    _, est, warned = search_fit(setting.make, tol, X, y)
                    obj = task.score(*peer.coef_intercept(est))
                    ref = obj if ref is None else ref
                    parts.append(f"{name}: {(obj - ref) / ref:+.1e}" + ("w" if warned else ""))
                cells.append("; ".join(parts))
            rows.append([label, PENALTY_LABELS[r], f"{ref:.12g}", *cells[1:]])
            print(f"checked {label} / {PENALTY_LABELS[r]}", file=sys.stderr, flush=True)
    print(markdown_table(rows, ["problem", "penalty", "sklreg objective (tol 1e-12)",
                                *[f"{peer.name}: (objective - sklreg's) / sklreg's"
                                  for peer in PEERS[1:]]]))


def main():
    parser = benchmark_parser(__doc__)
    parser.set_defaults(repeats=None)
    parser.add_argument("--budget", type=float, default=None,
                        help=f"max seconds per single fit (default {FIT_BUDGET:g}, "
                             f"x{QUICK_SCALE:g} with --quick)")
    parser.add_argument("--check-mappings", action="store_true",
                        help="only compare every library with sklreg at tol 1e-12 on small "
                             "problems (prints a table, writes nothing)")
    args = parser.parse_args()
    if args.check_mappings:
        check_mappings()
        return
    budget = args.budget or FIT_BUDGET * (QUICK_SCALE if args.quick else 1.0)
    args.repeats = args.repeats or (1 if args.quick else REPEATS)
    command = shlex.join([sys.executable] + sys.argv)
    info = machine_info()  # load average before we add to it
    started = time.perf_counter()
    for peer in PEERS:
        if peer.missing:
            print(f"{peer.name}: not installed ({peer.missing})", file=sys.stderr)

    def report(rows, final):
        """Write the section (after every row, so a long run that is stopped keeps its rows)."""
        width = len(COLUMNS)
        table = markdown_table([row[:width] for row in rows], COLUMNS)
        obj_table = markdown_table([row[:4] + row[width:] for row in rows], OBJ_COLUMNS)
        elapsed = time.perf_counter() - started
        fails = {label: sum(label in row[width - 2] for row in rows)
                 for label in ("FAIL T1", "FAIL T2", "T2 unknown", "sklreg not timed")}
        first = "; ".join(f"{name} {s:.3g} s, again {again:.3g} s ({where})"
                          for name, (s, again, where) in FIRST_FITS.items())
        jit = "; ".join(f"{name}: " + ", ".join(f"{s:.3g} s then {again:.3g} s ({where})"
                                                for where, s, again in kinds.values())
                        for name, kinds in JIT_WARMUPS.items() if kinds)
        notes = [
            "Objective (float64, from the returned coef / intercept): regression 1/(2n)||y - Xw - "
            "b||^2 + alpha (r||w||_1 + (1-r)/2 ||w||^2); logistic mean log(1 + exp(-t (x.w + b))) "
            "+ alpha (same penalty), t = +-1. alpha = alpha_max / 10 or / 100 (regression: "
            "max|X_c^T (y - ybar)| / (n r), L2 rows the L1 value; logistic: max|X^T (y - ybar)| / "
            "n). gap = (objective - best) / best, best = the lowest objective of any fit on the row.",
            f"Equal quality: each setting uses the loosest of tol {fmt_tol(TOLS[0])} ... "
            f"{fmt_tol(TOLS[-1])} (its own units; direct solvers: one fit) whose objective is "
            f"within {RTOL:g} of the best; sklreg and scikit-learn's first setting (Lasso / "
            f"ElasticNet / Ridge default, lbfgs) also fit at tol={REF_TOL:g} as references "
            f"(unless their tol-{fmt_tol(TOLS[0])} fit took over "
            f"{REF_BUDGET_SHARE:g} x the budget). \"not timed (gap g)\": never got within {RTOL:g}; "
            f"\"too slow\": a fit took longer than the {budget:g} s budget, or the next tol's fit "
            f"was projected to (last time x its growth over the previous tol); its ratio is then a "
            f"bound, \"<\". w: ConvergenceWarning, or the objective rose when tol was tightened.",
            f"Times: median of {args.repeats} fit(s) ({row_repeats(args.repeats, [0.0])} on rows "
            f"whose timed settings took at most {SMALL_FIT_SECONDS:g} s in the search, median over "
            f"the settings), fresh estimator each, fit() only, all timed "
            f"settings round-robin (order rotated each repeat), {QUIET_SECONDS} s pause before each "
            f"fit. A library's column is its fastest setting (the objectives table lists all); a "
            f"setting more than {SLOW_FACTOR:g}x slower than the library's fastest in the search is "
            f"not re-timed. Targets: T1 sklreg / fastest peer <= 1; T2 sklreg / sklearn <= "
            f"{T2_RATIO:g} on wide (n < p) and sparse rows.",
            "Problems: glmnet = Friedman, Hastie & Tibshirani (2010)'s design (equicorrelated "
            "Gaussian X, beta_j = (-1)^j exp(-2(j-1)/20), SNR 3, no intercept in the truth); dense "
            "tall / sparse = bench_regressor's problems; ridge tall = bench_regressor's dense "
            "generator; logistic = bench_classifier's binary problems. saga is not run on the "
            "sparse logistic problem (minutes per fit).",
            *PEER_NOTES,
            f"First fit of each library in this process (lazy imports, compilation), then the "
            f"same fit again: {first}."
            + (f" skglm (numba) compiles for each kind of input (loss, sparse X, L2-only); its "
               f"first fit of each kind is made on a small sample, then again: {jit}." if jit
               else ""),
            f"Targets missed: {fails['FAIL T1']} rows T1, {fails['FAIL T2']} rows T2 "
            f"({fails['T2 unknown']} T2 unknown, {fails['sklreg not timed']} sklreg not timed), "
            f"of {len(rows)} rows.",
            f"Total wall time: {elapsed:.1f} s." if final else
            f"**Partial: {len(rows)} rows done after {elapsed:.1f} s; the run is still going "
            f"(or was stopped).**",
        ]
        quick = ["**--quick smoke run: problems ~20x smaller, 1 timed fit; not a timing result.**"]
        if final:
            print(f"{table}\n\n{obj_table}")
        date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        section = "\n".join([f"## bench_peers — {date}", "", *info, f"- command: `{command}`", "",
                             table, "", "Objectives (every setting's last fit):", "", obj_table, "",
                             *[f"- {note}" for note in (quick if args.quick else []) + notes]])
        write_section(args.output, section, SECTION)
        if final:
            print(f"\nwrote {args.output} (total {elapsed:.1f} s)", file=sys.stderr)

    rows = []
    for prob in PROBLEMS:
        selected = [(pen, r, d) for pen, r, d in prob.rows
                    if args.only in f"{prob.name} / {pen} / alpha_max/{d}"]
        if not selected:
            continue
        X, y = prob.build(*(prob.quick if args.quick else prob.full))
        for pen, r, d in selected:
            task = Task(prob.loss, X, y, r, row_alpha(prob.loss, X, y, r, d))
            row = f"{prob.name} / {pen} / alpha_max/{d}"
            rows.append(guarded_row(
                prob.name, pen, X.shape, COLUMNS + OBJ_COLUMNS[4:],
                lambda: table_rows(prob.name, pen, d, task,
                                   run_row(task, args.repeats, budget, row), budget)))
            report(rows, final=False)
        del X, y

    report(rows, final=True)


if __name__ == "__main__":
    main()
