"""sklreg against scikit-learn on the data sets that ship with scikit-learn.

For each bundled data set (standardised features) and penalty, fit sklreg and the
scikit-learn estimator that defines the same objective (mapping as in README.md), both at
tight tolerance, and report both objectives, their relative difference and the median fit
times.  Regression (diabetes): Lasso / ElasticNet / Ridge; classification (breast cancer,
wine, digits): LogisticRegression with saga (L1, elastic net) or lbfgs (L2), C = 1/(n alpha).
alpha = alpha_max / 10 throughout (the L1 alpha_max, also for L2).

Usage: python benchmarks/demo_datasets.py [--quick] [--repeats 5] [--output FILE]
                                          [--only SUBSTRING]
"""

import datetime
import shlex
import statistics
import sys
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

import bench_classifier
import bench_regressor
from bench_regressor import (benchmark_parser, guarded_row, machine_info, markdown_table,
                             timed_fit, write_section)
from sklreg import RegularizedClassifier, RegularizedRegressor

TOL = 1e-8  # both libraries; their tol criteria differ, so objectives are compared too
MAX_ITER = 100_000
SECTION = ("<!-- demo_datasets:start -->", "<!-- demo_datasets:end -->")
DATASETS = [("diabetes", load_diabetes), ("breast cancer", load_breast_cancer),
            ("wine", load_wine), ("digits", load_digits)]
PENALTIES = [("L1", "l1", 1.0), ("EN 0.5", "elasticnet", 0.5), ("L2", "l2", 0.0)]
COLUMNS = ["data set", "n x p, classes", "penalty", "sklearn estimator", "sklreg objective",
           "sklearn objective", "rel. diff", "sklreg time (s)", "sklearn time (s)", "ratio"]


def sklearn_regressor(penalty, alpha, r, n):
    if penalty == "l2":
        return lambda tol: Ridge(alpha=alpha * n, tol=tol)
    cls = Lasso if penalty == "l1" else ElasticNet
    options = {} if penalty == "l1" else {"l1_ratio": r}
    return lambda tol: cls(alpha=alpha, tol=tol, max_iter=MAX_ITER, **options)


def sklearn_classifier(penalty, alpha, r, n):
    solver = "lbfgs" if penalty == "l2" else "saga"
    return lambda tol: LogisticRegression(C=1.0 / (n * alpha), l1_ratio=r, solver=solver,
                                          tol=tol, max_iter=MAX_ITER, random_state=0)


def run_row(X, y, K, penalty, r, repeats):
    n = X.shape[0]
    if K is None:  # regression
        alpha = bench_regressor.ALPHA_FRACTION * bench_regressor.alpha_max(X, y, 1.0)
        ours = lambda tol: RegularizedRegressor(penalty=penalty, alpha=alpha, l1_ratio=r,
                                                tol=tol, max_iter=MAX_ITER)
        theirs = sklearn_regressor(penalty, alpha, r, n)
        objective = bench_regressor.objective
    else:
        alpha = bench_classifier.ALPHA_FRACTION * bench_classifier.classifier_alpha_max(X, y, K)
        ours = lambda tol: RegularizedClassifier(penalty=penalty, alpha=alpha, l1_ratio=r,
                                                 tol=tol, max_iter=MAX_ITER)
        theirs = sklearn_classifier(penalty, alpha, r, n)
        objective = bench_classifier.objective
    times = {"sklreg": [], "sklearn": []}
    objs = {}
    for rep in range(repeats):  # alternate the order
        for name in (["sklreg", "sklearn"] if rep % 2 == 0 else ["sklearn", "sklreg"]):
            seconds, est, _ = timed_fit(ours if name == "sklreg" else theirs, TOL, X, y)
            times[name].append(seconds)
            objs[name] = objective(est, X, y, alpha, r)
            label = type(est).__name__ + (f" ({est.solver})" if K is not None else "")
            if name == "sklearn":
                sk_label = label
    med = {name: statistics.median(t) for name, t in times.items()}
    return [sk_label, f"{objs['sklreg']:.10g}", f"{objs['sklearn']:.10g}",
            f"{(objs['sklreg'] - objs['sklearn']) / abs(objs['sklearn']):+.1e}",
            f"{med['sklreg']:.4g}", f"{med['sklearn']:.4g}",
            f"{med['sklreg'] / med['sklearn']:.2f}"]


def main():
    args = benchmark_parser(__doc__, quick_help="one fit each (smoke test)").parse_args()
    if args.quick:
        args.repeats = 1
    command = shlex.join([sys.executable] + sys.argv)
    info = machine_info()
    started = time.perf_counter()
    rows = []
    for name, load in DATASETS:
        X, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        K = None if name == "diabetes" else len(np.unique(y))
        shape = f"{X.shape[0]} x {X.shape[1]}" + ("" if K is None else f", {K}")
        for label, penalty, r in PENALTIES:
            if args.only not in f"{name} / {label}":
                continue
            row = guarded_row(name, label, X.shape, COLUMNS, lambda: [
                name, shape, label, *run_row(X, y, K, penalty, r, args.repeats)])
            rows.append(row)
    elapsed = time.perf_counter() - started
    table = markdown_table(rows, COLUMNS)
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    notes = [
        f"Both at tol={TOL:g}, max_iter={MAX_ITER}; objectives in float64 from coef_ / "
        "intercept_ (sklreg's, with scikit-learn mapped onto it). alpha = alpha_max / 10; "
        "features standardised.",
        f"Times: median of {args.repeats} fits (fresh estimator, order alternated, "
        f"{bench_regressor.QUIET_SECONDS} s pause before each). ratio = sklreg / sklearn.",
        f"Total wall time: {elapsed:.1f} s.",
    ]
    write_section(args.output, "\n".join(
        [f"## demo_datasets — {date}", "", *info, f"- command: `{command}`", "", table, "",
         *[f"- {note}" for note in notes]]), SECTION)
    print(table)
    print(f"\nwrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
