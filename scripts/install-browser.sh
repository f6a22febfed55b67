#!/usr/bin/env bash
# Install what the browser tests (tests/test_web_browser.py) need on a fresh Debian machine:
# Debian's chromium and chromedriver (apt) and the Selenium driver (PyPI; the `browser` extra).
# Playwright's own browser download is not used: Selenium drives Debian's chromedriver directly.
# Run as root. Idempotent: when everything is already there it only checks (about a second).
#
#   bash scripts/install-browser.sh                       # for python3
#   PYTHON=venv/bin/python bash scripts/install-browser.sh
set -euo pipefail

PYTHON=${PYTHON:-python3}

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-browser: run as root to apt-get install chromium chromium-driver" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # fonts-noto-cjk: Chinese text in screenshots as characters, not boxes
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk \
        >/dev/null
fi

if ! "$PYTHON" -c 'import selenium' 2>/dev/null; then
    "$PYTHON" -m pip install -q 'selenium>=4.10'
fi

chromedriver --version
