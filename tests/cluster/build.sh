#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler and kubelet once, from Debian's
# kubernetes source package, into the cache, and the real node's static `pause` binary (the pod
# sandbox process, from the same source). Installs etcd, the build tools and the real node's
# runtime (containerd, runc, CNI plugins) from Debian.
set -euo pipefail

cache=${OCTO_CACHE_DIR:-$HOME/.cache/octo-platform}
bin=$cache/bin
components=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
# Bump when the way of building changes, so binaries built the old way are rebuilt.
recipe=2
built_by_recipe() { [ "$(cat "$bin/.recipe" 2>/dev/null)" = "$recipe" ]; }

have_all() {
  for c in "${components[@]}"; do [ -x "$bin/$c" ] || return 1; done
  built_by_recipe || return 1
  [ -x "$bin/pause" ] || return 1
  for p in etcd containerd runc ctr gcc; do command -v "$p" >/dev/null || return 1; done
  [ -x /usr/lib/cni/bridge ]
}
if have_all; then exit 0; fi
# One build at a time per cache (concurrent test sessions run this script too).
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
if have_all; then exit 0; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

src_list=/etc/apt/sources.list.d/octo-platform-deb-src.sources
if [ ! -f "$src_list" ]; then
  echo "build: adding a deb-src entry for bookworm ($src_list)"
  as_root tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "build: installing Debian packages (golang-go, rsync, etcd-server, dpkg-dev, reflect2, gcc, containerd, runc, CNI plugins)"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go rsync etcd-server dpkg-dev \
  golang-github-modern-go-reflect2-dev gcc libc6-dev containerd runc containernetworking-plugins iproute2 \
  iptables >/dev/null

# Build only what is missing; everything when the recipe changed.
missing=()
for c in "${components[@]}"; do
  if ! built_by_recipe || [ ! -x "$bin/$c" ]; then missing+=("$c"); fi
done
[ ${#missing[@]} -gt 0 ] || [ ! -x "$bin/pause" ] || exit 0

mkdir -p "$cache/src" "$bin"
cd "$cache/src"
srcdir=$(find . -maxdepth 1 -type d -name 'kubernetes-1.20*' | head -n 1)
if [ -z "$srcdir" ]; then
  echo "build: fetching the kubernetes source package"
  apt-get source -qq kubernetes >/dev/null
  srcdir=$(find . -maxdepth 1 -type d -name 'kubernetes-1.20*' | head -n 1)
fi
cd "$srcdir"
# The vendored reflect2 v1.0.1 faults under Go >= 1.18 (mapiterinit), which kills the apiserver when it
# encodes a map, e.g. on creating a custom resource; use Debian's v1.0.2 instead.
reflect2=vendor/github.com/modern-go/reflect2
rm -f "$reflect2"/*.go "$reflect2"/*.s
cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "$reflect2"/
if [ ! -x "$bin/pause" ]; then
  echo "build: compiling pause (static)"
  gcc -Os -Wall -Werror -static -DVERSION=v3.4-octo -o "$bin/pause.tmp" build/pause/linux/pause.c
  mv "$bin/pause.tmp" "$bin/pause"
fi
[ ${#missing[@]} -gt 0 ] || { echo "build: done ($bin)"; exit 0; }
echo "build: compiling ${missing[*]} (several minutes on 2 cores)"
export GOFLAGS=-mod=vendor GO111MODULE=on KUBE_BUILD_PLATFORMS=linux/amd64
make WHAT="${missing[*]/#/cmd/}" >"$cache/build.log" 2>&1 || {
  tail -n 40 "$cache/build.log" >&2
  exit 1
}
for c in "${missing[@]}"; do
  install -m 0755 "$(find _output -type f -name "$c" | head -n 1)" "$bin/$c"
done
echo "$recipe" >"$bin/.recipe"
echo "build: done ($bin)"
