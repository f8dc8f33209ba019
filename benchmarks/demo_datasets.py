"""sklreg against scikit-learn on the data sets that ship with scikit-learn.

For each bundled data set (standardised features) and penalty, fit sklreg and the
scikit-learn estimator that defines the same objective (mapping as in README.md), both at
tight tolerance, and report both objectives, their relative difference and the median fit
times.  Regression (diabetes): Lasso / ElasticNet / Ridge; classification (breast cancer,
wine, digits): LogisticRegression with saga (L1, elastic net) or lbfgs (L2), C = 1/(n alpha).
alpha = alpha_max / 10 throughout (the L1 alpha_max, also for L2).

Then the multilayer perceptron: RegularizedMLPClassifier / RegularizedMLPRegressor against
MLPClassifier / MLPRegressor on digits and diabetes (70/30 split, standardised features and, for
diabetes, target), the same architecture, adam, batch size and epochs, scikit-learn's default
alpha_sk = 1e-4 mapped to alpha = alpha_sk / batch_size: test accuracy / R^2 (mean over 3 seeds)
and median fit times.

Usage: python benchmarks/demo_datasets.py [--quick] [--repeats 5] [--output FILE]
                                          [--only SUBSTRING]
"""

import datetime
import shlex
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import bench_classifier
import bench_regressor
from bench_regressor import (benchmark_parser, guarded_row, machine_info, markdown_table,
                             timed_fit, write_section)
from sklreg import (RegularizedClassifier, RegularizedMLPClassifier, RegularizedMLPRegressor,
                    RegularizedRegressor)

TOL = 1e-8  # both libraries; their tol criteria differ, so objectives are compared too
MAX_ITER = 100_000
SECTION = ("<!-- demo_datasets:start -->", "<!-- demo_datasets:end -->")
DATASETS = [("diabetes", load_diabetes), ("breast cancer", load_breast_cancer),
            ("wine", load_wine), ("digits", load_digits)]
PENALTIES = [("L1", "l1", 1.0), ("EN 0.5", "elasticnet", 0.5), ("L2", "l2", 0.0)]
# data set, loader, hidden layers, batch size, epochs
MLP_CASES = [("digits", load_digits, (64,), 64, 30), ("diabetes", load_diabetes, (32,), 32, 200)]
MLP_SEEDS = 3
MLP_COLUMNS = ["data set", "net", "sklreg test score", "sklearn test score", "sklreg time (s)",
               "sklearn time (s)", "ratio"]
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


def mlp_row(name, load, hidden, batch, epochs, repeats):
    """Test score (accuracy or R^2, mean over seeds) and median fit time of both MLPs."""
    X, y = load(return_X_y=True)
    regression = name == "diabetes"
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=None if regression else y)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if regression:
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    ours = RegularizedMLPRegressor if regression else RegularizedMLPClassifier
    theirs = MLPRegressor if regression else MLPClassifier
    common = dict(hidden_layer_sizes=hidden, batch_size=batch, max_iter=epochs)
    makers = {"sklreg": lambda seed: ours(**common, alpha=1e-4 / batch, random_state=seed),
              "sklearn": lambda seed: theirs(**common, alpha=1e-4, random_state=seed)}
    scores, times = {k: [] for k in makers}, {k: [] for k in makers}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for rep in range(max(repeats, MLP_SEEDS)):
            for key, make in makers.items():
                seconds, est, _ = timed_fit(make, rep % MLP_SEEDS, X_train, y_train)
                times[key].append(seconds)
                if rep < MLP_SEEDS:
                    scores[key].append(est.score(X_test, y_test))
    med = {k: statistics.median(t) for k, t in times.items()}
    return [name, f"{X.shape[1]}-{'-'.join(map(str, hidden))}, batch {batch}, {epochs} epochs",
            f"{np.mean(scores['sklreg']):.4f}", f"{np.mean(scores['sklearn']):.4f}",
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
    mlp_rows = []
    for name, load, hidden, batch, epochs in MLP_CASES:
        if args.only not in f"{name} / MLP":
            continue
        mlp_rows.append(guarded_row(name, "MLP", (0, 0), MLP_COLUMNS, lambda: mlp_row(
            name, load, hidden, batch, epochs, args.repeats)))
    elapsed = time.perf_counter() - started
    table = markdown_table(rows, COLUMNS)
    mlp_table = markdown_table(mlp_rows, MLP_COLUMNS)
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    notes = [
        f"Both at tol={TOL:g}, max_iter={MAX_ITER}; objectives in float64 from coef_ / "
        "intercept_ (sklreg's, with scikit-learn mapped onto it). alpha = alpha_max / 10; "
        "features standardised.",
        f"Times: median of {args.repeats} fits (fresh estimator, order alternated, "
        f"{bench_regressor.QUIET_SECONDS} s pause before each). ratio = sklreg / sklearn.",
        "MLP: test accuracy (digits) or R^2 (diabetes, standardised target), mean over "
        f"{MLP_SEEDS} seeds, 70/30 split; same net, adam, batch and epochs, alpha_sk = 1e-4 "
        "mapped to sklreg's alpha = alpha_sk / batch; times: median over the fits (seeds "
        "alternate).",
        f"Total wall time: {elapsed:.1f} s.",
    ]
    write_section(args.output, "\n".join(
        [f"## demo_datasets — {date}", "", *info, f"- command: `{command}`", "", table, "",
         mlp_table, "", *[f"- {note}" for note in notes]]), SECTION)
    print(table)
    print()
    print(mlp_table)
    print(f"\nwrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
