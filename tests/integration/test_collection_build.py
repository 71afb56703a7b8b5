"""The collection builds into a tarball that installs, and ansible-doc renders every module from it."""

from __future__ import annotations

import os
import re
import subprocess

from support.playbook import REPO_ROOT, ansible_bin

MODULES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py"))


def run(command, cwd, **env):
    """Run outside the checkout's ansible.cfg, which resolves octo.platform from the working tree."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return subprocess.run(
        command, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def test_build_install_and_render_docs(tmp_path):
    built = run(
        [ansible_bin("ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path)], REPO_ROOT
    )
    assert built.returncode == 0, built.stderr
    [tarball] = tmp_path.glob("octo-platform-*.tar.gz")

    target = tmp_path / "installed"
    installed = run(
        [ansible_bin("ansible-galaxy"), "collection", "install", "--force", "-p", str(target), str(tarball)],
        tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    root = target / "ansible_collections" / "octo" / "platform"
    assert (root / "meta" / "runtime.yml").exists()
    assert not (root / ".venv").exists() and not (root / "Makefile").exists()
    # Of tests/, only the sanity ignore files ship: Automation Hub runs ansible-test sanity on the tarball.
    shipped_tests = sorted(str(p.relative_to(root)) for p in (root / "tests").rglob("*") if p.is_file())
    assert shipped_tests and all(re.fullmatch(r"tests/sanity/ignore-2\.\d+\.txt", p) for p in shipped_tests)
    # What galaxy-importer requires: a license file matching galaxy.yml's and a README in every role.
    assert "Apache License" in (root / "LICENSE").read_text()
    assert all((role / "README.md").is_file() for role in (root / "roles").iterdir())

    assert MODULES
    for module in MODULES:
        doc = run(
            [ansible_bin("ansible-doc"), f"octo.platform.{module}"],
            tmp_path,
            ANSIBLE_COLLECTIONS_PATH=str(target),
        )
        assert doc.returncode == 0 and "EXAMPLES" in doc.stdout and "RETURN VALUES" in doc.stdout, (
            module,
            doc.stderr,
        )
