#!/usr/bin/env bash
# The collection as Galaxy and Automation Hub see it, with the ansible-core of one project venv:
#   1. ansible-test sanity on the built tarball, unpacked as ansible_collections/octo/platform (what Hub checks),
#      on the venv's Python plus the oldest module target Python found (import test only),
#   2. ansible-test units on the git tree (tests/unit),
#   3. galaxy-importer on the tarball (only with --importer).
# Usage: tests/sanity/run.sh VENV [--importer]     e.g. tests/sanity/run.sh .venv --importer
# No Docker and no internet beyond the package index: ansible-test runs with --venv, its get-pip download is
# replaced by tests/sanity/get_pip.py, and HOME points into .cache/sanity so that its virtualenvs, caches and
# ansible-galaxy's files stay inside the project.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$(cd "$root/${1:?usage: run.sh VENV [--importer]}" && pwd)
importer=${2:-}
py="$venv/bin/python"
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
work="$root/.cache/sanity/$(basename "$venv")"
user_pip_conf="$HOME/.config/pip/pip.conf"
export HOME="$work/home" PATH="$venv/bin:$PATH"
# ansible-test passes pip no environment but HOME: the user's pip configuration (index, certificates) comes along.
if [ -f "$user_pip_conf" ]; then
  mkdir -p "$HOME/.config/pip" && cp "$user_pip_conf" "$HOME/.config/pip/pip.conf"
fi
unset ANSIBLE_CONFIG  # the project's ansible.cfg is for playbooks, not for ansible-test

# ansible-test lists content with git; the project's .gitignore hides .cache, so each tree is its own repo.
# Its results (tests/output) are left out, or older ansible-test versions would check them too.
own_repo() { (cd "$1" && git init -q && echo /tests/output/ >>.git/info/exclude && git add -A); }

# Module target Pythons (README: 3.9+) found under pyenv: the import test runs on the oldest one too.
oldest=""
for v in 3.9 3.10; do
  for bin in "${PYENV_ROOT:-/root/.pyenv}"/versions/"$v".*/bin; do
    [ -x "$bin/python$v" ] && { PATH="$PATH:$bin"; oldest=${oldest:-$v}; }
  done
done

# ansible-test's pip bootstrap, offline: the version it asks for comes from its own source.
pip_version=$("$py" -c 'import re, ansible_test._internal.python_requirements as r, inspect
print(re.search(r"pip=.([0-9.]+).", inspect.getsource(r.get_venv_packages)).group(1))')
mkdir -p "$HOME/.ansible/test/cache"
cp "$root/tests/sanity/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

echo "== build: $(ansible --version | head -1), Python $pyver"
rm -rf "$work/tarball" "$work/src" "$work"/*.tar.gz
ansible-galaxy collection build --force --output-path "$work" "$root" >/dev/null
tarball=$(ls "$work"/octo-platform-*.tar.gz)
shipped="$work/tarball/ansible_collections/octo/platform"
mkdir -p "$shipped"
tar -xzf "$tarball" -C "$shipped"
own_repo "$shipped"

echo "== ansible-test sanity (on the tarball's content)"
(cd "$shipped" && ansible-test sanity --venv --requirements --python "$pyver" --color no)
if [ -n "$oldest" ]; then
  echo "== ansible-test sanity --test import on module target Python $oldest"
  (cd "$shipped" && ansible-test sanity --test import --venv --requirements --python "$oldest" --color no)
else
  echo "== no Python 3.9/3.10 under pyenv: the module target floor is checked only by the import test on $pyver"
fi

echo "== ansible-test units"
src="$work/src/ansible_collections/octo/platform"
mkdir -p "$src"
(cd "$root" && git ls-files -co --exclude-standard | grep -v '^collections/' | rsync -a --files-from=- . "$src/")
own_repo "$src"
(cd "$src" && ansible-test units --venv --requirements --python "$pyver" --color no)

if [ "$importer" = --importer ]; then
  echo "== galaxy-importer on $(basename "$tarball")"
  (cd "$work" && "$py" -m galaxy_importer.main "$tarball") | tee "$work/importer.log"  # + importer_result.json
  # The one expected warning lists the ignore files, which a Hub reviewer reads (each line says why).
  if grep -E '^(ERROR|WARNING)' "$work/importer.log" | grep -v '^WARNING: Ignore files skip ansible-test sanity tests'; then
    echo "galaxy-importer reported the lines above" >&2
    exit 1
  fi
fi
