"""A booted Debian host for tests: systemd-nspawn --boot in a network namespace of its own, reached over SSH.

The image is built once by build_image.sh (cached tarball) and unpacked once next to it; every boot runs on it
with --volatile=overlay (writes go to a tmpfs and vanish at shutdown), the SSH host key of the boot and the run's
authorized key bound in read-only. The netns gets a
veth pair with a private /30: the host side is ``host_ip``, the container's sshd answers on ``ip``. Needs root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("OCTO_CACHE_DIR", Path.home() / ".cache/octo-platform")) / "hosts"
IMAGE = CACHE / "bookworm.tar"
ROOT = CACHE / "bookworm-root"


def sh(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout)


def ensure_root() -> Path:
    """The unpacked image (shared read-only lower layer of every boot), with sshd reading the bound host key."""
    if not ROOT.exists():
        subprocess.run([str(HERE / "build_image.sh")], check=True, timeout=900)
        staging = Path(tempfile.mkdtemp(prefix="bookworm-root.", dir=CACHE))
        sh("tar", "-C", str(staging), "-xf", str(IMAGE), timeout=300)
        (staging / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
        (staging / "etc/ssh/sshd_config.d/octo-test.conf").write_text(
            "HostKey /run/octo/ssh_host_ed25519_key\n"
        )
        staging.chmod(0o755)
        staging.rename(ROOT)
    return ROOT


class BootedHost:
    """One container: ``with BootedHost("k3s-a", 1, keydir) as host: host.ssh("systemctl is-system-running")``."""

    def __init__(self, name: str, index: int, keydir: Path):
        self.name = name
        self.index = index
        self.netns = f"octo-{name}"
        self.veth = f"vo{index}h"
        self.host_ip = f"10.213.{index}.1"
        self.ip = f"10.213.{index}.2"
        self.key = keydir / "id_ed25519"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"octo-host-{name}-"))
        self.hostkey = self.workdir / "ssh_host_ed25519_key"
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None  # set when another process booted it (state())
        self.log = None
        self.boot_seconds: float | None = None

    def __enter__(self) -> BootedHost:
        try:
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.hostkey))  # this boot's host key
            (self.workdir / "hostname").write_text(f"{self.name}\n")
            self._network()
            self._boot()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _network(self) -> None:
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        sh("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.veth)
        sh("ip", "link", "set", self.veth, "up")
        for cmd in (["addr", "add", f"{self.ip}/30", "dev", "eth0"], ["link", "set", "eth0", "up"]):
            sh("ip", "-n", self.netns, *cmd)
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        sh("ip", "-n", self.netns, "route", "add", "default", "via", self.host_ip)

    def _boot(self, timeout: float = 90) -> None:
        root = ensure_root()
        start = time.monotonic()
        self.log = open(self.workdir / "console.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--boot", "--quiet", f"--directory={root}", "--volatile=overlay",
             f"--machine={self.name}", f"--hostname={self.name}", f"--bind-ro={self.workdir}:/run/octo",
             f"--bind-ro={self.key}.pub:/root/.ssh/authorized_keys",
             f"--bind-ro={self.workdir}/hostname:/etc/hostname",
             "--register=no", "--keep-unit",
             f"--network-namespace-path=/run/netns/{self.netns}", "--resolv-conf=off", "--timezone=off"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "SYSTEMD_NSPAWN_LOCK": "0"},  # several boots share the read-only lower layer
            start_new_session=True,  # outlives a molecule create playbook (tests/hosts/molecule_host.py)
        )  # fmt: skip
        self.pid = self.process.pid
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited: {(self.workdir / 'console.log').read_text()[-2000:]}"
                )
            if self.ssh("true", check=False, timeout=5).returncode == 0:
                self.boot_seconds = time.monotonic() - start
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}: no SSH on {self.ip} within {timeout}s")

    def ssh_args(self) -> list[str]:
        return ["-i", str(self.key), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "ConnectTimeout=3", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]  # fmt: skip

    def ssh(self, command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ssh", *self.ssh_args(), f"root@{self.ip}", command],
            capture_output=True, text=True, check=check, timeout=timeout,
        )  # fmt: skip

    def link_to(self, other: BootedHost, subnet: str = "10.213.250") -> tuple[str, str]:
        """A direct veth between this netns and ``other``'s; returns (this side's IP, other side's IP)."""
        mine, theirs = f"{subnet}.1", f"{subnet}.2"
        sh("ip", "-n", self.netns, "link", "add", "peer0", "type", "veth", "peer", "name", "peer0",
           "netns", other.netns)  # fmt: skip
        for ns, addr in ((self.netns, mine), (other.netns, theirs)):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", "peer0")
            sh("ip", "-n", ns, "link", "set", "peer0", "up")
        return mine, theirs

    def state(self) -> dict:
        """What another process needs to stop this boot (``BootedHost.attach``)."""
        return {"name": self.name, "index": self.index, "ip": self.ip, "host_ip": self.host_ip, "key": str(self.key),
                "pid": self.pid, "workdir": str(self.workdir), "boot_seconds": self.boot_seconds}  # fmt: skip

    @classmethod
    def attach(cls, state: dict) -> BootedHost:
        host = cls(state["name"], state["index"], Path(state["key"]).parent)
        shutil.rmtree(host.workdir, ignore_errors=True)
        host.workdir, host.pid = Path(state["workdir"]), state["pid"]
        return host

    def _terminate_pid(self, timeout: float = 20) -> None:
        """Stop a boot started by another process (no Popen here): SIGTERM, bounded wait, SIGKILL."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and Path(f"/proc/{self.pid}").exists():
                time.sleep(0.2)

    def stop(self) -> None:
        """Power the machine off (its overlay goes with it), delete netns and veth and the boot's files."""
        if self.process is None and self.pid:
            self._terminate_pid()
        if self.process and self.process.poll() is None:
            self.process.terminate()  # nspawn asks the container's systemd to power off
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.log:
            self.log.close()
        sh("ip", "link", "del", self.veth, check=False)
        sh("ip", "netns", "del", self.netns, check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)


def new_key(directory: Path) -> Path:
    """An SSH key for this run only."""
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "id_ed25519"))
    return directory
