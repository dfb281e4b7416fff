#!/usr/bin/env bash
# Run the whole suite: lint, then every tox environment (Python 3.10-3.13, library versions).
# Tests that need PostgreSQL (127.0.0.1:5432, database "test") or Redis (127.0.0.1:6379)
# skip loudly when those are down, and fail under CI=true.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
python="${PYTHON:-python3}"
if command -v pyenv >/dev/null 2>&1; then
    # Put every CPython 3.10-3.13 that pyenv has on PATH itself: tox's interpreter
    # discovery does not see through pyenv's shims.
    root="$(pyenv root)"
    for version in $(pyenv versions --bare | grep -E '^3\.1[0-3]\.[0-9]+$'); do
        PATH="$root/versions/$version/bin:$PATH"
    done
    export PATH
fi
toolenv="$here/.venv-tox"
if [ ! -x "$toolenv/bin/tox" ]; then
    "$python" -m venv "$toolenv"
    "$toolenv/bin/python" -m pip install --quiet "tox>=4.20"
fi
exec "$toolenv/bin/tox" run-parallel --parallel auto --parallel-no-spinner "$@"
