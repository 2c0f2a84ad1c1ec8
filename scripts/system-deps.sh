#!/usr/bin/env bash
# Install what the test suite and benchmarks need outside Python, only if something is missing:
# Debian packages, and axe-core from the npm registry (tests/e2e/package-lock.json).
set -euo pipefail
need=()
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v chromium >/dev/null || need+=(chromium)  # browser tests (Playwright drives it)
command -v npm >/dev/null || need+=(npm)  # axe-core for the accessibility checks
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
# `make bench-stt` speaks its answers in other voices and reshapes them.
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
# WeasyPrint renders with Pango.
ldconfig -p | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi

if [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
