#!/usr/bin/env bash
# Install retrace into a fresh virtualenv and show a record -> replay round trip.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv-quickstart"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== installing retrace into $venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$here"

echo "== recording examples/quickstart.py (the clock, randomness, uuid, set order)"
"$venv/bin/retrace" record -o "$work/rec" "$here/examples/quickstart.py" | tee "$work/recorded.txt"

echo "== replaying it, offline, from $work/rec"
"$venv/bin/retrace" replay "$work/rec" | tee "$work/replayed.txt"

if cmp -s "$work/recorded.txt" "$work/replayed.txt"; then
    echo "== the replay printed exactly what the recording printed"
else
    echo "== MISMATCH between recording and replay:" >&2
    diff "$work/recorded.txt" "$work/replayed.txt" >&2
    exit 1
fi
"$venv/bin/retrace" inspect "$work/rec"
