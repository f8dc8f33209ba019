# Sourced by tests/run.sh and benchmarks/run.sh: create ./.venv if needed and
# build + install sklreg into it from source with the given extra.
# Usage: . .ci/venv.sh EXTRA
set -euo pipefail
extra="$1"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# A regular (non-editable) install: the tests and benchmarks import the built
# package from site-packages, never the source tree.
.venv/bin/python -m pip install --quiet ".[$extra]"
