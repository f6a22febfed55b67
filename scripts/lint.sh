#!/usr/bin/env bash
# All lint, one command for developers and CI (.ci/run calls it): ruff's rules, ruff's format and
# mypy on the package and the tests. Needs the `lint` extra: pip install -e '.[dev]'.
#
#   scripts/lint.sh          check only (what CI runs)
#   scripts/lint.sh --fix    let ruff fix what it can (import order, format), then check
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
paths=(newsarc tests)

run() {
    printf '+ %s\n' "$*"
    "$@"
}

case "${1:-}" in
    "") ;;
    --fix)
        run "$python" -m ruff check --fix "${paths[@]}"
        run "$python" -m ruff format "${paths[@]}"
        ;;
    *)
        echo "usage: scripts/lint.sh [--fix]" >&2
        exit 2
        ;;
esac
run "$python" -m ruff check "${paths[@]}"
run "$python" -m ruff format --check "${paths[@]}"
run "$python" -m mypy "${paths[@]}"
