#!/usr/bin/env bash
# The main job from a fresh clone: venv, build, install, then benchmark sklreg
# against scikit-learn and print the tables (also written to
# benchmarks/RESULTS.md): first on the data sets bundled with scikit-learn,
# then the regressor, classifier and MLP benchmarks on larger synthetic problems.
# Extra arguments (e.g. --quick) go to every benchmark script.
# The comparison with every peer library (benchmarks/bench_peers.py, the
# peers come with the bench extra installed here) takes about two hours at
# full size, so it is its own command, after this one has built .venv:
#     .venv/bin/python benchmarks/bench_peers.py
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/venv.sh bench
for script in demo_datasets bench_regressor bench_classifier bench_mlp; do
    echo "== benchmarks/$script.py" >&2
    .venv/bin/python "benchmarks/$script.py" "$@"
done
