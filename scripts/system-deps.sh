#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only if something is missing.
set -euo pipefail
need=()
command -v pdftotext >/dev/null || need+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
# WeasyPrint renders with Pango.
ldconfig -p | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
