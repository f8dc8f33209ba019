"""Benchmark sklreg.RegularizedClassifier against scikit-learn LogisticRegression.

Every fit is scored by the same float64 objective (sklreg's), computed from the
returned coef_/intercept_:

    1/n sum_i logloss_i + alpha * (r ||W||_1 + (1-r)/2 ||W||_F^2)

binary: one coefficient row, logloss = log(1 + exp(-t (x.w + b))), t = +-1; K >= 3: multinomial
(softmax) loss with a (K, p) coefficient matrix.  The softmax is over-parametrised, but with the
penalty the optimal objective is unique: only objectives are compared.  scikit-learn is mapped
onto it with C = 1 / (n alpha) and l1_ratio = r (no sample weights).

Equal quality: each estimator fits at tol 1e-4, 1e-5, ..., 1e-12 (the tol search; these fits
are not part of the medians) and uses the loosest tol whose objective is within 1e-6 relative of
the reference, the lowest objective seen on the row (sklreg and lbfgs / newton-cholesky at
tol=1e-12, plus every tol-search fit).  Time budget (--budget seconds per fit): after an
estimator's first fit (tol 1e-4, max_iter 100000), its max_iter is capped at the iterations the
budget allows at its measured per-iteration time; its search ends ("!b") when a fit hits that
cap or when the cap is no more than the iterations its last fit used.  saga (slow on unscaled
data) and liblinear (its stopping test is unattainable at tight tols) may therefore never reach
the target: they are shown, flagged, and excluded from "sklearn best".

Usage: python benchmarks/bench_classifier.py [--quick] [--repeats 5] [--output FILE]
                                             [--only SUBSTRING] [--budget SECONDS]
"""

import datetime
import shlex
import statistics
import sys
import time

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.linear_model import LogisticRegression

from bench_regressor import (QUIET_SECONDS, alpha_max, benchmark_parser, guarded_row,
                             machine_info, make_data, markdown_table, timed_fit, write_section)
from sklreg import RegularizedClassifier

SEED = 0
RTOL = 1e-6  # accepted relative excess over the reference objective
TOLS = [10.0**-k for k in range(4, 13)]  # tol search: 1e-4, 1e-5, ..., 1e-12
REF_TOL = 1e-12  # reference fits
MAX_ITER = 100_000  # large for every estimator: tol is the only knob (within the time budget)
FIT_BUDGET = 120.0  # seconds per single fit at full size (x QUICK_SCALE under --quick)
QUICK_SCALE = 0.05  # --quick problems have ~20x fewer entries / non-zeros
MIN_CAP = 10  # never cap max_iter below this
# A non-default scikit-learn solver whose tol-search fit at its accepted tol took more than
# SLOW_FACTOR x that of the fastest solver that reached the target (and more than SLOW_SECONDS)
# cannot be "sklearn best": it is reported with that single fit's time instead of a median.
SLOW_FACTOR = 10.0
SLOW_SECONDS = 2.0
SECTION_START = "<!-- bench_classifier:start -->"
SECTION_END = "<!-- bench_classifier:end -->"

# name, kind, classes K, full (n, p), quick (n, p) (~20x fewer entries / non-zeros),
# non-zero true coefficients per coefficient row
PROBLEMS = [
    ("dense binary", "dense", 2, (50_000, 300), (2_500, 300), 30),
    ("dense 5-class", "dense", 5, (20_000, 100), (1_000, 100), 10),
    ("sparse binary", "sparse", 2, (20_000, 50_000), (4_472, 11_180), 500),
]
# label, sklreg penalty, r (weight of the L1 part in the objective)
PENALTIES = [("L1", "l1", 1.0), ("L2", "l2", 0.0)]
ALPHA_FRACTION = 0.1  # alpha = alpha_max / 10, for L2 too (the L1 alpha_max, r = 1)
SIGNAL_STD = 2.0  # std of the true (centred) linear predictor
BINARY_INTERCEPT = 0.5  # true intercept (binary); multiclass: N(0, 0.5^2) per class
# liblinear penalizes the intercept: it appends a constant column of this value whose weight
# is penalized like the others; large -> the intercept's penalty is negligible.
LIBLINEAR_INTERCEPT_SCALING = 1e4
REF_SOLVERS = ("lbfgs", "newton-cholesky")  # scikit-learn solvers also fitted at REF_TOL


def make_problem(kind, K, n, p, n_nonzero, seed):
    """Float64 X (bench_regressor's: dense equicorrelated with non-zero means, or CSR U[0, 1))
    and labels 0..K-1 drawn from a logistic (K = 2) / multinomial model with sparse true
    coefficients, a centred predictor of std SIGNAL_STD and an intercept."""
    X, _ = make_data(kind, n, p, n_nonzero, seed)  # its regression y is not used
    rng = np.random.default_rng([seed, 1])
    rows = 1 if K == 2 else K
    W = np.zeros((rows, p))
    for k in range(rows):
        W[k, rng.choice(p, size=n_nonzero, replace=False)] = rng.standard_normal(n_nonzero)
    Z = np.asarray(X @ W.T)
    Z -= Z.mean(axis=0)
    Z *= SIGNAL_STD / Z.std()
    if K == 2:
        return X, (rng.random(n) < expit(Z[:, 0] + BINARY_INTERCEPT)).astype(np.int64)
    P = softmax(Z + 0.5 * rng.standard_normal(K), axis=1)
    y = (P.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return X, np.minimum(y, K - 1).astype(np.int64)


def classifier_alpha_max(X, y, K):
    """Smallest L1 alpha giving W = 0: the largest |gradient| at the intercept-only optimum.

    Binary: max_j |X^T (y - ybar)|_j / n; multiclass: the same for each one-hot column of y
    (softmax gradient X^T (pi - Y) / n with pi the class frequencies), maximised over classes.
    """
    if K == 2:
        return alpha_max(X, y.astype(np.float64), 1.0)
    return max(alpha_max(X, (y == k).astype(np.float64), 1.0) for k in range(K))


def objective(est, X, y, alpha, r):
    """sklreg's objective in float64 from a fitted estimator's coef_ / intercept_."""
    W = np.asarray(est.coef_, dtype=np.float64).reshape(-1, X.shape[1])
    b = np.asarray(est.intercept_, dtype=np.float64).ravel()
    Z = np.asarray(X @ W.T) + b
    if W.shape[0] == 1:  # binary: classes_ == [0, 1], t = +1 for class 1
        loss = -log_expit(np.where(y == 1, 1.0, -1.0) * Z[:, 0])
    else:
        loss = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    return loss.mean() + alpha * (r * np.abs(W).sum() + (1 - r) / 2 * np.sum(W * W))


def sklreg_maker(penalty, alpha):
    return lambda tol, max_iter: RegularizedClassifier(penalty=penalty, alpha=alpha, tol=tol,
                                                       max_iter=max_iter)


def sklearn_maker(solver, alpha, r, n):
    # `penalty` is deprecated in scikit-learn 1.8+: l1_ratio=1 is L1, l1_ratio=0 is L2
    options = {"C": 1.0 / (n * alpha), "l1_ratio": r, "solver": solver}
    if solver == "liblinear":
        options["intercept_scaling"] = LIBLINEAR_INTERCEPT_SCALING
    if solver in ("liblinear", "saga"):
        options["random_state"] = SEED
    return lambda tol, max_iter: LogisticRegression(tol=tol, max_iter=max_iter, **options)


def sklearn_candidates(kind, K, r):
    """scikit-learn solvers competing for "sklearn best"; the first one is the "default"."""
    if r == 0:
        # newton-cholesky forms a dense (K p)^2 Hessian: not on the 50000-feature sparse problem
        return ["lbfgs", "newton-cholesky", "newton-cg"] if kind == "dense" else [
            "lbfgs", "newton-cg"]
    return (["liblinear"] if K == 2 else []) + ["saga"]  # liblinear: binary only


class Ladder:
    """One estimator's untimed tol search, TOLS[0], TOLS[1], ... (fresh estimator each fit)."""

    def __init__(self, make, X, y, alpha, r, budget):
        self.make, self.X, self.y, self.alpha, self.r, self.budget = make, X, y, alpha, r, budget
        self.fits = []  # ladder fits, in tol order
        self.ref = None  # fit at REF_TOL, if any
        self.status = "searching"  # "reached" | "exhausted" | "max_iter" | "budget"

    def max_iter(self):
        """MAX_ITER, or fewer if the budget allows fewer (per-iteration time of the longest fit)."""
        done = self.fits + ([self.ref] if self.ref else [])
        if not done:
            return MAX_ITER
        longest = max(done, key=lambda f: f["n_iter"])
        per_iter = longest["seconds"] / max(longest["n_iter"], 1)
        return int(min(MAX_ITER, max(MIN_CAP, self.budget / per_iter)))

    def fit(self, tol):
        max_iter = self.max_iter()
        seconds, est, warned = timed_fit(lambda t: self.make(t, max_iter), tol, self.X, self.y)
        n_iter = int(np.max(est.n_iter_))
        obj = objective(est, self.X, self.y, self.alpha, self.r)
        return dict(tol=tol, seconds=seconds, obj=obj, n_iter=n_iter, max_iter=max_iter,
                    hit_cap=n_iter >= max_iter, warned=warned, solver=getattr(est, "solver_", None))

    def objectives(self):
        return [f["obj"] for f in self.fits + ([self.ref] if self.ref else [])]

    def advance(self, best):
        """Tighten tol until the last fit is within RTOL of best, or the search has to stop."""
        while True:
            last = self.fits[-1] if self.fits else None
            if last is not None:
                if last["obj"] <= best * (1 + RTOL):
                    self.status = "reached"
                    return
                if last["hit_cap"]:
                    self.status = "budget" if last["max_iter"] < MAX_ITER else "max_iter"
                    return
                if len(self.fits) == len(TOLS):
                    self.status = "exhausted"
                    return
                if self.max_iter() <= last["n_iter"]:  # a tighter tol would hit the cap
                    self.status = "budget"
                    return
            self.fits.append(self.fit(TOLS[len(self.fits)]))

    @property
    def accepted(self):
        return self.fits[-1]


def run_row(X, y, K, penalty, r, kind, repeats, budget):
    n, p = X.shape
    alpha = ALPHA_FRACTION * classifier_alpha_max(X, y, K)
    makers = {"sklreg": sklreg_maker(penalty, alpha)}
    makers.update({s: sklearn_maker(s, alpha, r, n) for s in sklearn_candidates(kind, K, r)})
    sk_names = list(makers)[1:]
    default = sk_names[0]
    ladders = {name: Ladder(make, X, y, alpha, r, budget) for name, make in makers.items()}

    # first ladder step (tol 1e-4, max_iter uncapped: it measures the per-iteration time), then
    # the reference fits at REF_TOL (budget-capped), then the searches; whenever some fit
    # lowers the reference, every estimator is re-checked against it (a fixpoint).
    for lad in ladders.values():
        lad.fits.append(lad.fit(TOLS[0]))
    for name in ["sklreg", *(s for s in sk_names if s in REF_SOLVERS)]:
        ladders[name].ref = ladders[name].fit(REF_TOL)
    best = min(o for lad in ladders.values() for o in lad.objectives())
    while True:
        for lad in ladders.values():
            lad.advance(best)
        lowest = min(o for lad in ladders.values() for o in lad.objectives())
        if lowest >= best:
            break
        best = lowest

    for name, lad in ladders.items():  # the search, for the log
        fits = [*lad.fits, *([dict(lad.ref, tol=f"ref {lad.ref['tol']:.0e}")] if lad.ref else [])]
        print(f"    {name}: {lad.status}; " + "; ".join(
            f"{f['tol'] if isinstance(f['tol'], str) else format(f['tol'], '.0e')} "
            f"{(f['obj'] - best) / best:+.1e} {f['n_iter']}/{f['max_iter']} it {f['seconds']:.3g} s"
            for f in fits), file=sys.stderr, flush=True)

    # timed fits: sklreg and every scikit-learn solver that reached the target, except those far
    # slower than the fastest of them (their single ladder fit is reported instead) other than
    # the default
    reached = [s for s in sk_names if ladders[s].status == "reached"]
    fastest = min((ladders[s].accepted["seconds"] for s in reached), default=None)
    timed = ["sklreg"] + [s for s in reached if s == default or ladders[s].accepted["seconds"]
                          <= max(SLOW_FACTOR * fastest, SLOW_SECONDS)]
    times = {name: [] for name in timed}
    objs, warned, solver_used = {}, set(), None
    for rep in range(repeats):  # fresh estimator each time, rotated order within each repeat
        for name in timed[rep % len(timed):] + timed[:rep % len(timed)]:
            tol, max_iter = ladders[name].accepted["tol"], ladders[name].accepted["max_iter"]
            seconds, est, conv = timed_fit(lambda t: makers[name](t, max_iter), tol, X, y)
            times[name].append(seconds)
            objs[name] = objective(est, X, y, alpha, r)
            warned |= {name} if conv else set()
            if name == "sklreg":
                solver_used = est.solver_

    res = {}
    for name, lad in ladders.items():
        fit = lad.accepted
        res[name] = dict(
            tol=fit["tol"], status=lad.status, median=name in times,
            time=statistics.median(times[name]) if name in times else fit["seconds"],
            obj=objs.get(name, fit["obj"]),
            warned=name in warned or (name not in times and fit["warned"]))
    best_name = min(reached, key=lambda s: res[s]["time"], default=None)
    return dict(alpha=alpha, best=best, res=res, default=default, best_name=best_name,
                solver=solver_used or ladders["sklreg"].accepted["solver"], sk_names=sk_names)


FLAGS = {"reached": "", "exhausted": "!", "max_iter": "!i", "budget": "!b"}


def fmt_tol(r):
    return f"{r['tol']:.0e}" + FLAGS[r["status"]] + ("w" if r["warned"] else "")


def fmt_time(r):
    return f"{r['time']:.4g}" + ("" if r["median"] else " (1 fit)")


def fmt_solver(name, r, best):
    gap = "" if r["status"] == "reached" else f", {(r['obj'] - best) / best:+.1e}"
    return f"{name} {fmt_tol(r)}: {fmt_time(r)}{gap}"


COLUMNS = ["problem", "penalty", "n x p", "sklreg solver", "sklreg tol", "sklreg time (s)",
           "sklearn solver", "sklearn tol", "sklearn default time (s)", "sklearn best (s)",
           "ratio vs default", "ratio vs best", "sklreg objective", "sklearn objective",
           "rel. objective diff", "all sklearn solvers: tol, time (s)"]


def table_row(problem, penalty, shape, out):
    res, d, b = out["res"], out["default"], out["best_name"]
    sk, ref = res["sklreg"], res[b or d]
    return [problem, f"{penalty} (alpha {out['alpha']:.3g})", f"{shape[0]} x {shape[1]}",
            str(out["solver"]), fmt_tol(sk), fmt_time(sk),
            d, fmt_tol(res[d]), fmt_time(res[d]),
            f"{b} (tol {fmt_tol(res[b])}): {fmt_time(res[b])}" if b else "none reached",
            f"{sk['time'] / res[d]['time']:.2f}" + ("" if res[d]["status"] == "reached" else " !"),
            f"{sk['time'] / res[b]['time']:.2f}" if b else "-",
            f"{sk['obj']:.12g}", f"{ref['obj']:.12g}",
            f"{(sk['obj'] - ref['obj']) / ref['obj']:+.1e}",
            "; ".join(fmt_solver(s, res[s], out["best"]) for s in out["sk_names"])]


def write_results(path, section, table_rows):
    table = markdown_table(table_rows, COLUMNS)
    write_section(path, section(table), (SECTION_START, SECTION_END))
    return table


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--budget", type=float, default=None,
                        help=f"max seconds per single fit (default {FIT_BUDGET:g}, "
                             f"x{QUICK_SCALE:g} with --quick)")
    args = parser.parse_args()
    budget = args.budget or FIT_BUDGET * (QUICK_SCALE if args.quick else 1.0)
    command = shlex.join([sys.executable] + sys.argv)
    info = machine_info()  # load average before we add to it
    started = time.perf_counter()

    rows = []
    for seed, (name, kind, K, full, quick, n_nonzero) in enumerate(PROBLEMS, start=SEED):
        selected = [pen for pen in PENALTIES if args.only in f"{name} / {pen[0]}"]
        if not selected:
            continue
        n, p = quick if args.quick else full
        X, y = make_problem(kind, K, n, p, n_nonzero, seed)
        for label, penalty, r in selected:
            rows.append(guarded_row(
                name, label, X.shape, COLUMNS,
                lambda: table_row(name, label, X.shape, run_row(X, y, K, penalty, r, kind,
                                                               args.repeats, budget))))

    elapsed = time.perf_counter() - started
    notes = [
        "Objective: 1/n sum logloss + alpha (r||W||_1 + (1-r)/2 ||W||_F^2), float64, from "
        "coef_/intercept_ (binary: one coefficient row; 5-class: multinomial softmax). "
        "alpha = alpha_max/10 with alpha_max = max |X^T (Y - Ybar)| / n, the largest gradient "
        "at the intercept-only optimum (over one-hot columns for 5-class); L2 uses the same "
        "alpha. scikit-learn LogisticRegression: C = 1/(n alpha), l1_ratio = r; liblinear with "
        f"intercept_scaling={LIBLINEAR_INTERCEPT_SCALING:g} (it penalizes the intercept), "
        f"liblinear and saga with random_state={SEED}.",
        f"tol: loosest of 1e-4 ... 1e-12 whose objective is within {RTOL:g} relative of the "
        f"reference, the lowest objective seen on the row (sklreg and "
        f"{'/'.join(REF_SOLVERS)} at tol={REF_TOL:g}, and every tol-search fit). "
        f"Flags: `!` not reached at 1e-12; `!i` stopped at max_iter={MAX_ITER}; `!b` stopped "
        f"by the {budget:g} s per-fit budget (after the first fit at 1e-4, max_iter is capped at "
        f"the iterations the budget allows; the search stops when a fit hits the cap or the cap "
        f"is no more than the last fit's iterations); "
        f"`w` ConvergenceWarning. Flagged solvers are excluded from \"sklearn best\"; "
        f"the relative objective excess of a flagged solver's last fit follows its time.",
        f"Times: median of {args.repeats} fits (fresh estimator, fit() only, peers alternated, "
        f"{QUIET_SECONDS} s pause before each fit, max_iter={MAX_ITER}). `(1 fit)`: the time of "
        f"one fit from the tol search instead (flagged solvers, and non-default solvers "
        f">{SLOW_FACTOR:g}x slower than the fastest scikit-learn solver that reached the "
        f"target). sklearn solver = the \"default\" one (lbfgs for L2, liblinear for binary L1, "
        f"saga for 5-class L1). "
        f"ratio = sklreg time / sklearn time (< 1: sklreg faster; ` !` = that solver did not "
        f"reach the target). sklearn objective and rel. objective diff: against sklearn best "
        f"(the default if none reached).",
        f"Total wall time: {elapsed:.1f} s.",
    ]
    if args.quick:
        notes.insert(0, "**--quick smoke run: problems ~20x smaller; not a timing result.**")
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    table = write_results(args.output, lambda table: "\n".join(
        [f"## bench_classifier — {date}", "", *info, f"- command: `{command}`", "", table, "",
         *[f"- {note}" for note in notes]]), rows)
    print(table)
    print(f"\nwrote {args.output} (total {elapsed:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
