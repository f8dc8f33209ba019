#!/usr/bin/env bash
# The whole test suite from a fresh clone: venv, build, install, pytest.
# Extra arguments go to pytest (e.g. `bash tests/run.sh -x -k lasso`).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/venv.sh test
# Run from tests/ so that the source tree's sklreg/ cannot shadow the build.
cd tests
exec ../.venv/bin/python -m pytest -c ../pyproject.toml --rootdir .. "$@" .
