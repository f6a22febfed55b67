#!/usr/bin/env bash
# Install what the browser tests (tests/test_web_browser.py) need on a fresh Debian machine:
# Debian's chromium and chromedriver (apt) and the Selenium driver (PyPI, the `browser` extra).
# Run as root. Idempotent: when everything is already there it only checks and exits (< 1 s).
#
#   bash scripts/install-browser.sh            # system Python (pip install selenium)
#   PIP="venv/bin/pip" bash scripts/install-browser.sh
set -euo pipefail

PIP=${PIP:-"python3 -m pip"}

have_browser() {
    command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
}

if ! have_browser; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-browser: run as root to apt-get install chromium chromium-driver" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # fonts-noto-cjk: Chinese text in screenshots shows as characters, not boxes
    apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-noto-cjk \
        >/dev/null
fi

# Selenium talks to Debian's chromedriver directly: no browser download of its own
if ! $PIP show selenium >/dev/null 2>&1; then
    $PIP install -q 'selenium>=4.10'
fi

chromium --version
chromedriver --version
