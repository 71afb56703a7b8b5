#!/usr/bin/env bash
# Installs the ACME test servers once: pebble and pebble-challtestsrv (Let's Encrypt's ACME test server and its
# DNS/HTTP challenge server, Debian package `pebble`) and the `lego` ACME client. Needs root (apt).
set -euo pipefail
have() { command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null && command -v lego >/dev/null; }
have && exit 0
lock="${OCTO_CACHE_DIR:-$HOME/.cache/octo-platform}/acme-install.lock"
mkdir -p "$(dirname "$lock")"
exec 9>"$lock"
flock 9
have && exit 0
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble lego >/dev/null
have
