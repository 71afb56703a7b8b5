#!/usr/bin/env bash
# Install Debian's PostgreSQL 15 server and client tools for the backup/restore tests (idempotent; one
# install at a time). The tests start their own server in a temporary directory; the package's cluster is
# not used.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
have_all() { for t in initdb pg_ctl pg_dump pg_restore psql; do [ -x "$bin/$t" ] || return 1; done; }
if have_all; then exit 0; fi
cache=${OCTO_CACHE_DIR:-$HOME/.cache/octo-platform}
mkdir -p "$cache"
exec 9>"$cache/.postgres-install.lock"
flock 9
if have_all; then exit 0; fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "install_postgres: installing postgresql-15 from Debian"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15
have_all
