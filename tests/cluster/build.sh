#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager and kube-scheduler once, from Debian's
# kubernetes source package, into the cache. Installs etcd and the build tools from Debian.
set -euo pipefail

cache=${OCTO_CACHE_DIR:-$HOME/.cache/octo-platform}
bin=$cache/bin
components=(kube-apiserver kube-controller-manager kube-scheduler)
# Bump when the way of building changes, so binaries built the old way are rebuilt.
recipe=2
built_by_recipe() { [ "$(cat "$bin/.recipe" 2>/dev/null)" = "$recipe" ]; }

have_all() {
  for c in "${components[@]}"; do [ -x "$bin/$c" ] || return 1; done
  built_by_recipe || return 1
  command -v etcd >/dev/null || [ -x /usr/bin/etcd ]
}
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
echo "build: installing Debian packages (golang-go, rsync, etcd-server, dpkg-dev, reflect2)"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go rsync etcd-server dpkg-dev \
  golang-github-modern-go-reflect2-dev >/dev/null

for c in "${components[@]}"; do [ -x "$bin/$c" ] || missing=1; done
built_by_recipe || missing=1
[ -n "${missing:-}" ] || exit 0

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
echo "build: compiling ${components[*]} (several minutes on 2 cores)"
export GOFLAGS=-mod=vendor GO111MODULE=on KUBE_BUILD_PLATFORMS=linux/amd64
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >"$cache/build.log" 2>&1 || {
  tail -n 40 "$cache/build.log" >&2
  exit 1
}
for c in "${components[@]}"; do
  install -m 0755 "$(find _output -type f -name "$c" | head -n 1)" "$bin/$c"
done
echo "$recipe" >"$bin/.recipe"
echo "build: done ($bin)"
