#!/usr/bin/env bash
# Install everything nianbao needs on a fresh Debian 12 machine: system packages (LibreOffice for
# .doc/.wps, CJK fonts, Chromium for JavaScript pages), a virtualenv in .venv, and the package.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libreoffice-writer-nogui fonts-noto-cjk poppler-utils chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# pip 23.2 (bundled) mis-resolves trafilatura's lxml extra: upgrade first.
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
echo "installed $(.venv/bin/nianbao --version) in .venv (try: .venv/bin/nianbao demo)"
