"""The execution environment definition: ansible-builder accepts it and writes the right build context.

There is no container engine here, so the image is not built; the build's own steps that need none run
on the context instead: the galaxy stage's collection install and the builder stage's introspection.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.playbook import REPO_ROOT, ansible_bin

GALAXY = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
TARBALL = f"octo-platform-{GALAXY['version']}.tar.gz"


def run(command: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    """Run outside the checkout's ansible.cfg, which resolves octo.platform from the working tree."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return subprocess.run(
        command, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def requirement_lines(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    """``ansible-builder create`` run as the README says, on a copy of the definition and the built tarball."""
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(REPO_ROOT / name, work / name)
    built = run(
        [ansible_bin("ansible-galaxy"), "collection", "build", str(REPO_ROOT), "--output-path", "build"], work
    )
    assert built.returncode == 0, built.stderr
    created = run(
        [
            ansible_bin("ansible-builder"),
            "create",
            "-f",
            "execution-environment.yml",
            "-c",
            "context",
            "--output-filename",
            "Containerfile",
        ],
        work,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    return work / "context"


def test_the_definition_is_version_3_with_the_collection_at_galaxy_version():
    definition = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert definition["dependencies"]["galaxy"]["collections"] == [
        {"name": f"collections/{TARBALL}", "type": "file"}
    ]
    assert definition["additional_build_files"] == [{"src": f"build/{TARBALL}", "dest": "collections"}]


def test_containerfile_installs_python_ansible_and_the_collection(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.12"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19.0 ansible-runner>=2.4"' in containerfile
    assert (
        "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml"
        in containerfile
    )
    assert "--user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile


def test_build_context_holds_the_requirements_and_the_tarball(context):
    build = context / "_build"
    assert requirement_lines((build / "requirements.txt").read_text()) == requirement_lines(
        (REPO_ROOT / "requirements.txt").read_text()
    )
    assert (build / "bindep.txt").read_text() == (REPO_ROOT / "bindep.txt").read_text()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": f"collections/{TARBALL}", "type": "file"}]
    }
    assert (build / "collections" / TARBALL).is_file()


def test_galaxy_and_introspection_stages_run_on_the_context(context, tmp_path):
    """The image build's steps, run here: install from requirements.yml in _build, then introspect."""
    collections = tmp_path / "collections"
    installed = run(
        [
            ansible_bin("ansible-galaxy"),
            "collection",
            "install",
            "-r",
            "requirements.yml",
            "-p",
            str(collections),
        ],
        context / "_build",
        ANSIBLE_COLLECTIONS_PATH=str(collections),  # as in the image: a copy in ~/.ansible does not count
    )
    assert installed.returncode == 0, installed.stderr
    root = collections / "ansible_collections" / "octo" / "platform"
    assert (root / "plugins" / "modules" / "integrations.py").is_file()
    assert not (root / ".venv").exists() and not (root / "tests" / "integration").exists()
    doc = run(
        [ansible_bin("ansible-doc"), "octo.platform.integrations"],
        tmp_path,
        ANSIBLE_COLLECTIONS_PATH=str(collections),
    )
    assert doc.returncode == 0 and "kubeconfig" in doc.stdout, doc.stderr
    pip, bindep = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    introspected = run(
        [
            sys.executable,
            str(context / "_build" / "scripts" / "introspect.py"),
            "introspect",
            str(collections),
            "--user-pip=requirements.txt",
            "--user-bindep=bindep.txt",
            f"--write-pip={pip}",
            f"--write-bindep={bindep}",
        ],
        context / "_build",
    )
    assert introspected.returncode == 0, introspected.stdout + introspected.stderr
    # Both the collection's own files (from the tarball) and the EE's are found: the same requirements.
    expected = set(requirement_lines((REPO_ROOT / "requirements.txt").read_text()))
    assert set(requirement_lines(pip.read_text())) == expected
    assert "from collection octo.platform" in pip.read_text()
    assert set(requirement_lines(bindep.read_text())) == set(
        requirement_lines((REPO_ROOT / "bindep.txt").read_text())
    )
