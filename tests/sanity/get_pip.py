"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test downloads get-pip from ci-files.testing.ansible.com, which this machine cannot reach.
This does the same from what is available: ensurepip, then pip installs the pinned packages from the index.
"""

from __future__ import annotations

import subprocess
import sys

IGNORED = ("--no-setuptools", "--no-wheel")


def main() -> int:
    # A subprocess: ensurepip.bootstrap() in-process sets PIP_CONFIG_FILE=/dev/null, which would hide pip.conf
    # (the index and certificates) from the install below.
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True)
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    return subprocess.call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    sys.exit(main())
