"""Benchmark sklreg.RegularizedRegressor against scikit-learn Lasso / ElasticNet / Ridge.

Every fit is scored by the same float64 objective (sklreg's), computed from the
returned coef_/intercept_:

    1/(2n) ||y - Xw - b||^2 + alpha * (r ||w||_1 + (1-r)/2 ||w||^2)

scikit-learn's parameters are mapped onto it (Lasso/ElasticNet 1:1, Ridge alpha = n * alpha).
Equal quality: a reference objective per row is the best of both libraries fitted once at
tol=1e-12 (untimed).  Each timed configuration then uses the loosest tol in 1e-4, 1e-5, ...,
1e-12 whose objective is within 1e-6 relative of that reference.

Usage: python benchmarks/bench_regressor.py [--quick] [--repeats 5] [--output FILE] [--only SUBSTRING]
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from threadpoolctl import threadpool_info

import sklreg
from sklreg import RegularizedRegressor

SEED = 0
RTOL = 1e-6  # accepted relative excess over the reference objective
TOLS = [10.0**-k for k in range(4, 13)]  # tol search: 1e-4, 1e-5, ..., 1e-12
REF_TOL = 1e-12  # reference fits
MAX_ITER = 100_000  # large for every estimator: tol is the only knob
SECTION_START = "<!-- bench_regressor:start -->"
SECTION_END = "<!-- bench_regressor:end -->"

# name, kind, full (n, p), quick (n, p) (~20x fewer entries / non-zeros), nonzero true coefs
PROBLEMS = [
    ("dense tall", "dense", (50_000, 500), (2_500, 500), 50),
    ("dense wide", "dense", (200, 20_000), (200, 1_000), 50),
    ("sparse", "sparse", (20_000, 50_000), (4_472, 11_180), 500),
]
# label, sklreg penalty, r (weight of the L1 part in the objective)
PENALTIES = [("L1", "l1", 1.0), ("EN 0.5", "elasticnet", 0.5), ("L2", "l2", 0.0)]
SPARSE_DENSITY = 1e-3
RHO = 0.5  # equal pairwise correlation of the dense features
NOISE = 0.5  # noise std relative to the std of the noiseless signal
ALPHA_FRACTION = 0.1  # alpha = alpha_max / 10


def make_data(kind, n, p, n_nonzero, seed):
    """Float64 X (dense C-ordered or CSR) and y = X w + 3 + noise with a sparse true w."""
    rng = np.random.default_rng(seed)
    if kind == "dense":
        # equal correlation RHO through a common factor; non-zero column means
        X = rng.standard_normal((n, p))
        X *= np.sqrt(1 - RHO)
        X += np.sqrt(RHO) * rng.standard_normal((n, 1))
        X += rng.uniform(-1.0, 3.0, size=p)
    else:
        # values U[0, 1): non-zero column means.  A Generator (not random_state=int, whose
        # legacy sampler permutes all n*p cell indices: 8 GB at full size) samples in O(nnz).
        X = sp.random(n, p, density=SPARSE_DENSITY, format="csr", dtype=np.float64, rng=rng)
    w = np.zeros(p)
    w[rng.choice(p, size=n_nonzero, replace=False)] = rng.standard_normal(n_nonzero)
    signal = X @ w
    y = signal + 3.0 + NOISE * signal.std() * rng.standard_normal(n)
    return X, y


def alpha_max(X, y, r):
    """Smallest alpha giving w = 0: max_j |X_c^T (y - ybar)| / (n r).

    X_c^T (y - ybar) == X^T (y - ybar) because y - ybar sums to zero, so sparse X is never
    centred or densified.
    """
    return np.max(np.abs(X.T @ (y - y.mean()))) / (X.shape[0] * r)


def objective(est, X, y, alpha, r):
    """sklreg's objective in float64 from a fitted estimator's coef_ / intercept_."""
    w = np.asarray(est.coef_, dtype=np.float64).ravel()
    b = float(np.ravel(est.intercept_)[0])
    resid = y - X @ w - b
    return resid @ resid / (2 * len(y)) + alpha * (r * np.abs(w).sum() + (1 - r) / 2 * w @ w)


# numpy and scipy each ship their own OpenBLAS; after a call, a pool's idle
# threads spin for a while and slow down the *other* pool's next call (measured
# here: a 26 ms fit took 44 ms right after a numpy-BLAS-heavy fit).  A short
# pause before every timed fit lets the previous fit's threads go to sleep, so
# each library is timed on its own, whichever ran before it.
QUIET_SECONDS = 0.3


def timed_fit(make, tol, X, y):
    """Fit a fresh estimator; return (seconds spent in fit, estimator, hit ConvergenceWarning)."""
    est = make(tol)
    time.sleep(QUIET_SECONDS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - t0
    return seconds, est, any(issubclass(c.category, ConvergenceWarning) for c in caught)


def guarded_row(name, label, shape, columns, compute):
    """compute() -> one table row; on an error, a row saying so (the run goes on).

    One failing row must not hide the others; the time per row goes to stderr.
    """
    t0 = time.perf_counter()
    try:
        row = compute()
    except Exception as exc:
        traceback.print_exc()
        row = [name, label, f"{shape[0]} x {shape[1]}", f"ERROR: {type(exc).__name__}: {exc}"]
        row += ["-"] * (len(columns) - len(row))
    print(f"[{time.perf_counter() - t0:7.1f} s] {name} / {label} done", file=sys.stderr,
          flush=True)
    return row


def search_tol(make, X, y, alpha, r, best):
    """Loosest tol in TOLS whose objective is within RTOL of best; (tol, reached?)."""
    for tol in TOLS:
        _, est, _ = timed_fit(make, tol, X, y)
        if objective(est, X, y, alpha, r) <= best * (1 + RTOL):
            return tol, True
    return tol, False


def sklreg_maker(penalty, alpha, r):
    return lambda tol: RegularizedRegressor(penalty=penalty, alpha=alpha, l1_ratio=r, tol=tol,
                                            max_iter=MAX_ITER)


def sklearn_maker(alpha, r, n, **options):
    if r == 0:  # Ridge minimises ||y - Xw - b||^2 + A ||w||^2  ->  A = n * alpha
        return lambda tol: Ridge(alpha=n * alpha, tol=tol, max_iter=MAX_ITER, **options)
    if r == 1:
        return lambda tol: Lasso(alpha=alpha, tol=tol, max_iter=MAX_ITER, **options)
    return lambda tol: ElasticNet(alpha=alpha, l1_ratio=r, tol=tol, max_iter=MAX_ITER, **options)


def sklearn_candidates(kind, n, p, r):
    """scikit-learn settings competing for "sklearn best"; the first one is the default."""
    if r == 0:  # cholesky cannot fit an intercept on sparse X
        solvers = ["auto", "lsqr", "sparse_cg"] if kind == "sparse" else [
            "auto", "cholesky", "lsqr", "sparse_cg"]
        return {s: {"solver": s} for s in solvers}
    if kind == "dense" and n >= 2 * p:
        return {"default": {}, "precompute=True": {"precompute": True}}
    return {"default": {}}


def run_row(X, y, penalty, r, kind, repeats):
    n, p = X.shape
    alpha = ALPHA_FRACTION * alpha_max(X, y, r or 1.0)  # L2 uses the L1 alpha_max / 10
    makers = {"sklreg": sklreg_maker(penalty, alpha, r)}
    makers.update({name: sklearn_maker(alpha, r, n, **opts)
                   for name, opts in sklearn_candidates(kind, n, p, r).items()})
    default = list(makers)[1]

    # reference: both libraries once at a very tight tol (untimed)
    best = min(objective(timed_fit(makers[name], REF_TOL, X, y)[1], X, y, alpha, r)
               for name in ("sklreg", default))
    tols = {name: search_tol(make, X, y, alpha, r, best) for name, make in makers.items()}

    # timed fits: fresh estimator each time, peers alternated (rotated order) within each repeat
    times = {name: [] for name in makers}
    last, warned = {}, set()
    names = list(makers)
    for rep in range(repeats):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            seconds, last[name], conv = timed_fit(makers[name], tols[name][0], X, y)
            times[name].append(seconds)
            if conv:
                warned.add(name)
    med = {name: statistics.median(t) for name, t in times.items()}
    best_name = min((name for name in makers if name != "sklreg"), key=med.get)
    obj = {name: objective(est, X, y, alpha, r) for name, est in last.items()}
    return dict(alpha=alpha, best=best, tols=tols, med=med, obj=obj, warned=warned,
                default=default, best_name=best_name, solver=last["sklreg"].solver_,
                sklearn_solver=getattr(last[default], "solver_", None))


def fmt_tol(name, res):
    tol, reached = res["tols"][name]
    return f"{tol:.0e}" + ("" if reached else "!") + ("" if name not in res["warned"] else "w")


COLUMNS = ["problem", "penalty", "n x p", "sklreg solver", "sklreg tol", "sklreg time (s)",
           "sklearn tol", "sklearn default time (s)", "sklearn best (s)", "ratio vs default",
           "ratio vs best", "sklreg objective", "sklearn objective", "rel. objective diff"]


def table_row(problem, penalty, shape, res):
    med, obj, d, b = res["med"], res["obj"], res["default"], res["best_name"]
    default_name = f"{d}→{res['sklearn_solver']}" if res["sklearn_solver"] else d
    return [problem, penalty, f"{shape[0]} x {shape[1]}", res["solver"], fmt_tol("sklreg", res),
            f"{med['sklreg']:.4g}", f"{fmt_tol(d, res)} ({default_name})", f"{med[d]:.4g}",
            f"{b} (tol {fmt_tol(b, res)}): {med[b]:.4g}",
            f"{med['sklreg'] / med[d]:.2f}", f"{med['sklreg'] / med[b]:.2f}",
            f"{obj['sklreg']:.12g}", f"{obj[d]:.12g}",
            f"{(obj['sklreg'] - obj[d]) / obj[d]:+.1e}"]


def markdown_table(rows, columns=None):
    columns = columns or COLUMNS
    lines = [columns, ["---"] * len(columns), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def machine_info():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('user_api')}, "
                     f"{i.get('threading_layer', '-')}, {i.get('num_threads')} threads, "
                     f"{i.get('architecture', '-')})" for i in threadpool_info()) or "none found"
    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                "sklreg": getattr(sklreg, "__version__", "unknown")}
    threads_env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                "MKL_NUM_THREADS") if k in os.environ}
    return [f"- platform: {platform.platform()}",
            f"- CPU: {cpu}; nproc: {len(os.sched_getaffinity(0))} (cpu_count {os.cpu_count()});"
            f" load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
            "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            f"- BLAS: {blas}" + (f"; env {threads_env}" if threads_env else "")]


def write_section(path, section, markers=(SECTION_START, SECTION_END)):
    """Replace the section between ``markers`` in path (or append it), keep the rest."""
    path = Path(path)
    start, end = markers
    text = path.read_text() if path.exists() else "# sklreg benchmark results\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def benchmark_parser(doc, quick_help="problems ~20x smaller (smoke test)"):
    """The command-line options every benchmark script shares."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per estimator (median)")
    parser.add_argument("--output", default=str(Path(__file__).with_name("RESULTS.md")))
    parser.add_argument("--only", default="", help='run rows whose "problem / penalty" contains this')
    return parser


def main():
    args = benchmark_parser(__doc__).parse_args()
    command = shlex.join([sys.executable] + sys.argv)
    info = machine_info()  # load average before we add to it
    started = time.perf_counter()

    rows = []
    for seed, (name, kind, full, quick, n_nonzero) in enumerate(PROBLEMS, start=SEED):
        selected = [pen for pen in PENALTIES if args.only in f"{name} / {pen[0]}"]
        if not selected:
            continue
        n, p = quick if args.quick else full
        X, y = make_data(kind, n, p, n_nonzero, seed)
        for label, penalty, r in selected:
            rows.append(guarded_row(
                name, label, X.shape, COLUMNS,
                lambda: table_row(name, label, X.shape, run_row(X, y, penalty, r, kind,
                                                               args.repeats))))

    table = markdown_table(rows)
    elapsed = time.perf_counter() - started
    notes = [
        "Objective: 1/(2n)||y - Xw - b||^2 + alpha (r||w||_1 + (1-r)/2 ||w||^2), float64, from "
        "coef_/intercept_. alpha = alpha_max/10 with alpha_max = max|X_c^T (y - ybar)| / (n r) "
        "(L2 uses the L1 value, r = 1; sklearn Ridge alpha = n * alpha).",
        f"tol: loosest of 1e-4 ... 1e-12 whose objective is within {RTOL:g} relative of the "
        f"best of both libraries at tol={REF_TOL:g}; `!` = not reached even at 1e-12, "
        f"`w` = ConvergenceWarning in the timed fits. Direct solvers (cholesky) ignore tol.",
        f"Times: median of {args.repeats} fits (fresh estimator, fit() only, peers alternated, "
        f"{QUIET_SECONDS} s pause before each fit so the other library's BLAS threads are idle). "
        f"ratio = sklreg time / sklearn time (< 1: sklreg faster). rel. objective diff = "
        f"(sklreg - sklearn default) / sklearn default.",
        f"Total wall time: {elapsed:.1f} s.",
    ]
    if args.quick:
        notes.insert(0, "**--quick smoke run: problems ~20x smaller; not a timing result.**")
    print(table)
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    section = "\n".join([f"## bench_regressor — {date}", "", *info, f"- command: `{command}`", "",
                         table, "", *[f"- {note}" for note in notes]])
    write_section(args.output, section)
    print(f"\nwrote {args.output} (total {elapsed:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
