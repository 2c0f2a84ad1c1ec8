#!/usr/bin/env bash
# Ensure a local PostgreSQL for the test suite: install (Debian), start, create role + database.
# Prints the database URL on stdout. Idempotent.
set -euo pipefail
DB_NAME="${1:-viva_test}"
PGUSER_NAME=viva
PGPASS=viva
PORT="${VIVA_PG_PORT:-5432}"

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "Installing PostgreSQL (Debian package)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
  cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
  if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    pg_createcluster "$version" main >&2
    cluster="$version main"
  fi
  pg_ctlcluster $cluster start >&2
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$PORT" && break; sleep 1; done
fi
run_psql() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q -p "$PORT" "$@"; }
if ! run_psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='$PGUSER_NAME'" | grep -q 1; then
  run_psql -c "CREATE ROLE $PGUSER_NAME LOGIN PASSWORD '$PGPASS' CREATEDB" >&2
fi
run_psql -c "DROP DATABASE IF EXISTS $DB_NAME" >&2
run_psql -c "CREATE DATABASE $DB_NAME OWNER $PGUSER_NAME" >&2
echo "postgresql://$PGUSER_NAME:$PGPASS@127.0.0.1:$PORT/$DB_NAME"
