#!/usr/bin/env bash
# Installs what RcmPitr needs beyond the .NET SDK: PostgreSQL server and client binaries (the tests and
# the local environment start real clusters). Idempotent; does nothing when they are present.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK 10 is required (dotnet not found on PATH)." >&2
  exit 1
fi

if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
  exit 0
fi

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_dump" >/dev/null; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. Install them (Debian: apt-get install postgresql) or set PG_BIN." >&2
  exit 1
fi

echo "Installing PostgreSQL (server and client tools) from Debian packages..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
# Debian's package starts a default cluster; RcmPitr starts its own, so stop that one.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] || continue
    version=$(basename "$(dirname "$cluster")")
    pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
  done
fi
