#!/usr/bin/env bash
# Builds the test host image once: a debootstrapped Debian bookworm (minbase + systemd, dbus, sshd, python3,
# sudo, iproute2) packed into $OCTO_CACHE_DIR/hosts/bookworm.tar (default ~/.cache/octo-platform). Needs root.
set -euo pipefail
cache="${OCTO_CACHE_DIR:-$HOME/.cache/octo-platform}/hosts"
image="$cache/bookworm.tar"
[ -f "$image" ] && exit 0
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
mkdir -p "$cache"
root="$(mktemp -d "$cache/root.XXXXXX")"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,openssh-server,python3,sudo,iproute2,ca-certificates \
  bookworm "$root" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1
rm -f "$root"/etc/ssh/ssh_host_* "$root"/etc/machine-id
touch "$root"/etc/machine-id
chroot "$root" systemctl enable ssh >/dev/null 2>&1 || true
# Host keys are generated per boot (tests/hosts/host.py).
tar -C "$root" -cf "$image.tmp" . && mv "$image.tmp" "$image"
