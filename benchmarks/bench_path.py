"""Benchmark regularization paths and cross-validated alpha choice against the peers.

Paths: the 100-alpha L1 path (alphas log-spaced from alpha_max down to EPS alpha_max, the same
grid for everybody) on the dense wide problem (glmnet's design, n=200, p=20000, rho=0.5) and
on bench_regressor's sparse problem (20000 x 50000, density 1e-3):

- sklreg.regularization_path;
- scikit-learn: lasso_path on X and y centred by the caller (dense only: it fits no
  intercept), and Lasso(warm_start=True) refitted along the grid (dense and sparse);
- python-glmnet (when installed): ElasticNet(alpha=1, lambda_path=grid, standardize=False).

Every path is scored by one float64 objective per alpha, 1/(2n)||y - Xw - b||^2 + alpha
||w||_1, from the returned coefficients and intercepts; a path's gap is its largest relative
excess over the best objective any fit reached at that alpha.  Each setting uses the loosest
tol of 1e-4, ..., 1e-12 (its own units) whose gap is at most 1e-6, as in bench_peers.py.

Cross-validation (same 5 folds, same grid): RegularizedRegressorCV(penalty="l1") against
LassoCV, GridSearchCV over RegularizedRegressor and over Lasso, and glmnet's own CV
(ElasticNet(n_splits=5)) when installed; each at the tol its path needed.  Reported: time,
chosen alpha and the largest relative difference of the mean held-out MSE curve from
sklreg's.  Then RegularizedRegressorCV and LassoCV with n_jobs=1 and n_jobs=2 (threads: the
kernels release the GIL) for the speed-up.

Times: median of --repeats fits, fresh estimator each, round-robin, 0.3 s pause before each.

Usage: python benchmarks/bench_path.py [--quick] [--repeats 3] [--budget SECONDS]
                                       [--only SUBSTRING] [--output FILE]
"""
import shlex
import statistics
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoCV, lasso_path
from sklearn.model_selection import GridSearchCV, KFold

from bench_peers import glmnet_design
from bench_regressor import (QUIET_SECONDS, benchmark_parser, machine_info, make_data,
                             markdown_table, write_section)
from sklreg import RegularizedRegressor, RegularizedRegressorCV, regularization_path

N_ALPHAS = 100
EPS = 1e-2  # glmnet's default lambda.min.ratio when n < p
TOLS = [10.0**-k for k in range(4, 13)]
RTOL = 1e-6
MAX_ITER = 100_000
FIT_BUDGET = 120.0
N_FOLDS = 5
SECTION = ("<!-- bench_path:start -->", "<!-- bench_path:end -->")

PROBLEMS = {
    # name: (full shape, quick shape, builder)
    "dense wide": ((200, 20_000), (50, 2_000),
                   lambda n, p: glmnet_design(n, p, 0.5, 100)),
    "sparse": ((20_000, 50_000), (2_000, 5_000),
               lambda n, p: make_data("sparse", n, p, 500, 2)),
}


def alpha_grid(X, y):
    Xm = np.asarray(X.mean(axis=0)).ravel()
    corr = np.asarray(X.T @ (y - y.mean())).ravel() - Xm * (y - y.mean()).sum()
    top = np.abs(corr).max() / X.shape[0]
    return np.geomspace(top, top * EPS, N_ALPHAS)


def path_objectives(X, y, alphas, coefs, intercepts):
    """Objective at each alpha; coefs (n_alphas, p), intercepts (n_alphas,)."""
    pred = np.asarray(X @ coefs.T) + intercepts[None, :]
    loss = 0.5 * np.mean((y[:, None] - pred) ** 2, axis=0)
    return loss + alphas * np.abs(coefs).sum(axis=1)


# --- path settings: make(tol) -> callable(X, y, alphas) -> (coefs, intercepts) -----------------
def sklreg_path(tol):
    def run(X, y, alphas):
        path = regularization_path(X, y, penalty="l1", alphas=alphas, tol=tol,
                                   max_iter=MAX_ITER)
        return path.coefs, path.intercepts
    return run


def sklearn_lasso_path(tol):
    def run(X, y, alphas):
        xm, ym = X.mean(axis=0), y.mean()
        _, coefs, _ = lasso_path(X - xm, y - ym, alphas=alphas, tol=tol, max_iter=MAX_ITER)
        coefs = coefs.T
        return coefs, ym - coefs @ xm
    return run


def sklearn_warm_lasso(tol):
    def run(X, y, alphas):
        est = Lasso(warm_start=True, tol=tol, max_iter=MAX_ITER)
        coefs, intercepts = [], []
        for alpha in alphas:
            est.set_params(alpha=alpha).fit(X, y)
            coefs.append(est.coef_.copy())
            intercepts.append(est.intercept_)
        return np.array(coefs), np.array(intercepts)
    return run


def glmnet_path(tol):
    def run(X, y, alphas):
        import glmnet
        est = glmnet.ElasticNet(alpha=1.0, lambda_path=alphas, standardize=False, n_splits=0,
                                tol=tol, max_iter=MAX_ITER).fit(X, y)
        coefs, icpt = est.coef_path_.T, np.asarray(est.intercept_path_)
        if coefs.shape[0] < len(alphas):
            raise RuntimeError(f"glmnet stopped its path after {coefs.shape[0]} of "
                               f"{len(alphas)} lambdas")
        return coefs, icpt
    return run


def glmnet_installed():
    try:
        import glmnet  # noqa: F401
        return True
    except ImportError:
        return False


def path_settings(sparse):
    settings = {"sklreg regularization_path": sklreg_path}
    if not sparse:
        settings["scikit-learn lasso_path (centred)"] = sklearn_lasso_path
    settings["scikit-learn Lasso warm-start loop"] = sklearn_warm_lasso
    if glmnet_installed():
        settings["glmnet path"] = glmnet_path
    return settings


def quiet_call(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        t0 = time.perf_counter()
        out = fn(*args)
        return time.perf_counter() - t0, out


def round_robin(calls, repeats):
    """{name: median seconds} over repeats, order rotated each repeat, pause before each call."""
    names = list(calls)
    times = {name: [] for name in names}
    for rep in range(repeats):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            time.sleep(QUIET_SECONDS)
            seconds, _ = quiet_call(calls[name])
            times[name].append(seconds)
    return {name: statistics.median(ts) for name, ts in times.items()}


def path_rows(name, X, y, alphas, repeats, budget):
    """Tol search per setting, then timing; one table row per setting."""
    settings = path_settings(sp.issparse(X))
    fits = {}  # (setting, tol) -> objectives, or an error string
    best = np.full(len(alphas), np.inf)
    slow = {}

    search_seconds = {}

    def fit(setting, tol):
        try:
            seconds, (coefs, icpt) = quiet_call(settings[setting](tol), X, y, alphas)
            search_seconds[setting] = seconds
        except Exception as exc:  # a peer failing must not stop the run
            fits[setting, tol] = f"{type(exc).__name__}: {exc}"
            return None
        obj = path_objectives(X, y, alphas, np.asarray(coefs, dtype=np.float64),
                              np.asarray(icpt, dtype=np.float64))
        fits[setting, tol] = obj
        np.minimum(best, obj, out=best)
        print(f"  {name} {setting} tol {tol:g}: {seconds:.3g} s", file=sys.stderr, flush=True)
        if seconds > budget:
            slow[setting] = seconds
        return seconds

    # Reference: sklreg at the tightest tol.
    fit("sklreg regularization_path", TOLS[-1])
    chosen = {}
    for setting in settings:
        for tol in TOLS:
            if setting in slow:
                break
            if (setting, tol) not in fits:
                fit(setting, tol)
            obj = fits[setting, tol]
            if isinstance(obj, str):
                break
            if np.max((obj - best) / best) <= RTOL:
                chosen[setting] = tol
                break
    # Re-check against the final best (a later fit may have lowered it).
    gaps = {}
    for setting, tol in list(chosen.items()):
        gap = float(np.max((fits[setting, tol] - best) / best))
        gaps[setting] = gap
        if gap > RTOL:
            del chosen[setting]
    timed = round_robin({s: (lambda s=s: settings[s](chosen[s])(X, y, alphas)) for s in chosen},
                        repeats)
    sk = timed.get("sklreg regularization_path")
    rows = []
    for setting in settings:
        if setting in timed:
            cell = f"{timed[setting]:.3g}"
            ratio = f"{sk / timed[setting]:.2f}" if sk else "-"
            tol, gap = f"{chosen[setting]:g}", f"{gaps[setting]:.1e}"
        else:
            errors = [v for (s, _), v in fits.items() if s == setting and isinstance(v, str)]
            last = [v for (s, _), v in fits.items() if s == setting and not isinstance(v, str)]
            why = errors[0] if errors else (
                f"too slow ({slow[setting]:.3g} s > {budget:g} s budget)" if setting in slow
                else "never within 1e-6")
            if last and not errors:
                why += f", gap {np.max((last[-1] - best) / best):.1e}"
            cell, ratio, tol, gap = f"not timed: {why}", "-", "-", "-"
        rows.append([name, f"{X.shape[0]} x {X.shape[1]}", setting, tol, gap, cell, ratio])
    # One path's time per setting: timed median, else the last search fit.
    return rows, chosen, {s: timed.get(s, search_seconds.get(s)) for s in settings}


PATH_COLUMNS = ["problem", "n x p", "setting", "tol", "max gap", "time (s)", "sklreg / this"]
CV_COLUMNS = ["problem", "n x p", "estimator", "tol", "time (s)", "sklreg / this",
              "chosen alpha", "max rel. diff of mean MSE curve vs sklreg"]


#: A CV fit is projected from one path: N_FOLDS paths on 1 - 1/N_FOLDS of the rows, and
#: about this many times a warm path for N_FOLDS x N_ALPHAS cold fits (GridSearchCV).
COLD_OVER_WARM = 3.0


def projected_cv_seconds(label, path_seconds):
    """The CV fit's projected time from the path timings, or None if unknown."""
    share = N_FOLDS * (1 - 1 / N_FOLDS)
    sklearn_paths = [path_seconds.get(s) for s in ("scikit-learn lasso_path (centred)",
                                                   "scikit-learn Lasso warm-start loop")]
    sklearn_paths = [t for t in sklearn_paths if t is not None]
    if label == "scikit-learn LassoCV":
        return share * min(sklearn_paths) if sklearn_paths else None
    if label == "GridSearchCV(Lasso)":
        warm = path_seconds.get("scikit-learn Lasso warm-start loop")
        return None if warm is None else share * COLD_OVER_WARM * warm
    if "glmnet" in label:
        t = path_seconds.get("glmnet path")
        return None if t is None else share * t
    return None


def cv_rows(name, X, y, alphas, tols, path_seconds, repeats, budget):
    folds = KFold(N_FOLDS, shuffle=True, random_state=0)
    tol_sk = tols.get("sklreg regularization_path", 1e-4)
    tol_lasso = min(tols.get("scikit-learn Lasso warm-start loop", 1e-4),
                    tols.get("scikit-learn lasso_path (centred)", 1e-4))
    makers = {
        "sklreg RegularizedRegressorCV": lambda n_jobs=None: RegularizedRegressorCV(
            penalty="l1", alphas=alphas, cv=folds, scoring="neg_mean_squared_error",
            tol=tol_sk, max_iter=MAX_ITER, n_jobs=n_jobs),
        "scikit-learn LassoCV": lambda n_jobs=None: LassoCV(
            alphas=alphas, cv=folds, tol=tol_lasso, max_iter=MAX_ITER, n_jobs=n_jobs),
        "GridSearchCV(RegularizedRegressor)": lambda n_jobs=None: GridSearchCV(
            RegularizedRegressor(penalty="l1", tol=tol_sk, max_iter=MAX_ITER),
            {"alpha": list(alphas)}, cv=folds, scoring="neg_mean_squared_error",
            n_jobs=n_jobs),
        "GridSearchCV(Lasso)": lambda n_jobs=None: GridSearchCV(
            Lasso(tol=tol_lasso, max_iter=MAX_ITER), {"alpha": list(alphas)}, cv=folds,
            scoring="neg_mean_squared_error", n_jobs=n_jobs),
    }
    if glmnet_installed() and "glmnet path" in tols:
        import glmnet

        class GlmnetCV:
            # glmnet's own CV: its folds are its own (n_splits=5, random_state=0).
            def __init__(self, n_jobs=None):
                self.est = glmnet.ElasticNet(alpha=1.0, lambda_path=alphas, standardize=False,
                                             n_splits=N_FOLDS, tol=tols["glmnet path"],
                                             max_iter=MAX_ITER, scoring="mean_squared_error",
                                             n_jobs=n_jobs or 1, random_state=0)

            def fit(self, X, y):
                self.est.fit(X, y)
                return self
        makers["glmnet ElasticNet(n_splits=5)"] = GlmnetCV
    # One untimed fit each (curves, chosen alpha; drops settings over budget), then timing.
    curves, chosen, over = {}, {}, {}
    for label, make in makers.items():
        projected = projected_cv_seconds(label, path_seconds)
        if projected is not None and projected > budget:
            over[label] = f"projected {projected:.3g} s from its path > {budget:g} s budget"
            curves[label], chosen[label] = None, float("nan")
            continue
        seconds, est = quiet_call(lambda: make().fit(X, y))
        print(f"  {name} {label}: {seconds:.3g} s", file=sys.stderr, flush=True)
        if isinstance(est, RegularizedRegressorCV):
            curves[label], chosen[label] = -est.scores_path_.mean(axis=1), est.alpha_
        elif isinstance(est, LassoCV):
            curves[label], chosen[label] = est.mse_path_.mean(axis=1), est.alpha_
        elif isinstance(est, GridSearchCV):
            order = np.argsort(-np.array([p["alpha"] for p in est.cv_results_["params"]]))
            curves[label] = -est.cv_results_["mean_test_score"][order]
            chosen[label] = est.best_params_["alpha"]
        else:
            curves[label] = None
            chosen[label] = est.est.lambda_max_
        if seconds > budget:
            over[label] = f"{seconds:.3g} s > {budget:g} s budget"
    timed = round_robin({label: (lambda m=make: m().fit(X, y)) for label, make in makers.items()
                         if label not in over}, repeats)
    sk = timed["sklreg RegularizedRegressorCV"]
    ref = curves["sklreg RegularizedRegressorCV"]
    rows = []
    for label in makers:
        tol = tol_sk if "RegularizedRegressor" in label else (
            tols.get("glmnet path") if "glmnet" in label else tol_lasso)
        cell = f"{timed[label]:.3g}" if label in timed else f"not timed: {over[label]}"
        diff = "-" if curves.get(label) is None else \
            f"{np.max(np.abs(curves[label] - ref) / ref):.1e}"
        if "glmnet" in label:
            diff = "(own folds)"
        rows.append([name, f"{X.shape[0]} x {X.shape[1]}", label, f"{tol:g}", cell,
                     f"{sk / timed[label]:.2f}" if label in timed else "-",
                     f"{chosen[label]:.4g}", diff])
    # Threads: the same CV fit with n_jobs=1 and n_jobs=2.
    threads = round_robin({
        f"{label} n_jobs={j}": (lambda m=makers[label], j=j: m(n_jobs=j).fit(X, y))
        for label in ("sklreg RegularizedRegressorCV", "scikit-learn LassoCV")
        if label not in over for j in (1, 2)}, repeats)
    for label in ("sklreg RegularizedRegressorCV", "scikit-learn LassoCV"):
        if f"{label} n_jobs=1" in threads:
            one, two = threads[f"{label} n_jobs=1"], threads[f"{label} n_jobs=2"]
            rows.append([name, f"{X.shape[0]} x {X.shape[1]}", f"{label}: n_jobs=1 vs 2",
                         "-", f"{one:.3g} / {two:.3g}", "-", f"speed-up {one / two:.2f}x", "-"])
    return rows


def main():
    parser = benchmark_parser(__doc__)
    parser.set_defaults(repeats=3)
    parser.add_argument("--budget", type=float, default=FIT_BUDGET,
                        help="a path setting stops tightening tol after a fit longer than "
                             "this (it is still timed if it met the gap); a CV estimator is "
                             "not run when its projected or measured time exceeds it")
    args = parser.parse_args()
    command = shlex.join([sys.executable] + sys.argv)
    info = machine_info()
    path_table, cv_table = [], []
    for name, (full, quick, build) in PROBLEMS.items():
        if args.only and args.only not in name:
            continue
        X, y = build(*(quick if args.quick else full))
        alphas = alpha_grid(X, y)
        rows, tols, path_seconds = path_rows(name, X, y, alphas, args.repeats, args.budget)
        path_table += rows
        cv_table += cv_rows(name, X, y, alphas, tols, path_seconds, args.repeats, args.budget)
    section = "\n".join([
        f"## bench_path — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"Command: `{command}`",
        "",
        *info,
        "",
        f"### {N_ALPHAS}-alpha L1 paths (alpha_max down to {EPS:g} alpha_max)",
        "",
        markdown_table(path_table, PATH_COLUMNS),
        "",
        f"### {N_FOLDS}-fold CV on the same grid",
        "",
        markdown_table(cv_table, CV_COLUMNS),
        "",
        "Notes: max gap = largest relative excess, over the grid, of a path's objective over the "
        "best objective any fit reached at that alpha; each setting at the loosest tol (1e-4 ... "
        "1e-12, its own units) with max gap <= 1e-6. CV estimators run at the tol their path "
        "needed; the last column compares mean held-out MSE curves on the same folds. Times: "
        f"median of {args.repeats}, round-robin, {QUIET_SECONDS} s pause before each fit.",
    ])
    print(section)
    if not args.quick:
        write_section(args.output, section, SECTION)


if __name__ == "__main__":
    main()
