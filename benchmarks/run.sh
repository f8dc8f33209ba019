#!/usr/bin/env bash
# The main job from a fresh clone: venv, build, install, then benchmark sklreg
# against scikit-learn and print the table (also written to
# benchmarks/RESULTS.md).  Extra arguments go to the benchmark script.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/venv.sh bench
exec .venv/bin/python benchmarks/bench_regressor.py "$@"
