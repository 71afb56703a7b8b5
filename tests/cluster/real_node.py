"""The real node of the local cluster (`cluster.py up --node real`): containerd + kubelet + a CNI bridge.

Everything lives under `<state dir>/real` (containerd root/state/socket, the kubelet root dir, CNI config
and IPAM data), with names derived from the state dir so two clusters on one host never share them:
bridge `octo-br-<id>`, a 10.244.x.0/24 subnet, cgroup root `/octo-<id>` in every cgroup v1 hierarchy.
The kubelet changes host sysctls (`kernel.panic*`, `vm.*`, `kernel.keys.*`) and the CNI bridge turns on
`ip_forward`; their original values are recorded host-wide (`/run/octo-platform/real-node`) by the first
real node and restored when the last one goes down. No iptables rule is added: no masquerade, no
portmap, and the kubelet's own chains are off (`makeIPTablesUtilChains: false`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

HERE = Path(__file__).resolve().parent
if __package__:  # imported as cluster.real_node, with tests/ on the path (pytest)
    from . import cluster_pki
else:  # imported by the cluster.py script, a sibling
    sys.path.append(str(HERE.parent))  # for images.image_builder
    import cluster_pki
from images.image_builder import ImageError, build_image, import_image

NODE_NAME = "octo-real-1"
COMPONENTS = ("containerd", "kubelet")
PAUSE_IMAGE = "octo.local/pause:3.4"
CNI_BIN_DIR = Path("/usr/lib/cni")
# Fixed host paths where containerd 1.6, libcni and the kubelet 1.20 keep per-pod files.
SHIM_SOCKETS = Path("/run/containerd/s")
CNI_RESULTS = Path("/var/lib/cni/results")
POD_LOGS = Path("/var/log/pods")
CONTAINER_LOGS = Path("/var/log/containers")
CGROUP_ROOT = Path("/sys/fs/cgroup")
REGISTRY = Path(os.environ.get("OCTO_REAL_NODE_REGISTRY", "/run/octo-platform/real-node"))
# What the kubelet (setupKernelTunables) and the CNI bridge (ip_forward) may change.
SYSCTLS = (
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.bridge.bridge-nf-call-arptables",
)
SOCKET_TIMEOUT_SECONDS = 30
UNMOUNT_ROUNDS = 10
KILL_WAIT_SECONDS = 10


class RealNodeError(Exception):
    """The real node cannot run here or could not be set up or torn down."""


@dataclass(frozen=True)
class Layout:
    """Names and paths of one cluster's real node, all derived from its state dir."""

    state_dir: Path

    @property
    def node_id(self) -> str:
        return hashlib.sha256(str(self.state_dir.resolve()).encode()).hexdigest()[:8]

    @property
    def base(self) -> Path:
        return self.state_dir / "real"

    @property
    def socket(self) -> Path:
        return self.base / "containerd" / "containerd.sock"

    @property
    def bridge(self) -> str:
        return f"octo-br-{self.node_id[:6]}"

    @property
    def network(self) -> str:
        return f"octo-real-{self.node_id}"

    @property
    def cgroup_name(self) -> str:
        return f"octo-{self.node_id}"

    @property
    def kubelet_root(self) -> Path:
        return self.base / "kubelet"


# --- prerequisites and set-up -----------------------------------------------------------------


def check(bin_dir: Path) -> None:
    """Fail before anything is written when the real node cannot run on this machine."""
    if os.geteuid() != 0:
        raise RealNodeError("the real node needs root (containerd, mounts, cgroups, network links)")
    missing = [
        name
        for name in ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip")
        if not shutil.which(name)
    ]
    missing += [
        str(path)
        for path in (bin_dir / "kubelet", bin_dir / "pause", CNI_BIN_DIR / "bridge")
        if not path.exists()
    ]
    if missing:
        raise RealNodeError(f"{', '.join(missing)} missing: run tests/cluster/build.sh first")
    if not cgroup_hierarchies(("cgroup",)):
        raise RealNodeError(
            "no cgroup v1 hierarchy is mounted under /sys/fs/cgroup (the kubelet uses cgroupfs v1)"
        )


def prepare(layout: Layout, pki: Path, bin_dir: Path, ports: dict[str, int]) -> dict[str, list[str]]:
    """Record sysctls, create the cgroup root, write the configs; return the containerd and kubelet argv."""
    record_sysctls(layout)
    for hierarchy in cgroup_hierarchies():
        _make_cgroup(hierarchy / layout.cgroup_name)
    for directory in ("containerd", "cni/conf", "cni/ipam", "kubelet", "pki"):
        (layout.base / directory).mkdir(parents=True, exist_ok=True)
    _write_json(layout.base / "cni/conf/10-octo.conflist", _cni_config(layout))
    (layout.base / "containerd/config.toml").write_text(_containerd_config(layout))
    node_ip = host_ip()
    _write_node_credentials(layout, pki, ports["apiserver"])
    _write_json(layout.base / "kubelet-config.json", _kubelet_config(layout, pki, node_ip, ports))
    return {
        "containerd": [
            shutil.which("containerd") or "containerd",
            "--config",
            str(layout.base / "containerd/config.toml"),
        ],
        "kubelet": [
            str(bin_dir / "kubelet"),
            f"--config={layout.base / 'kubelet-config.json'}",
            f"--kubeconfig={layout.base / 'pki/kubelet.kubeconfig'}",
            f"--root-dir={layout.kubelet_root}",
            "--container-runtime=remote",
            f"--container-runtime-endpoint=unix://{layout.socket}",
            f"--pod-infra-container-image={PAUSE_IMAGE}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={node_ip}",
            "--node-labels=octo.dev/node=real",
            "--v=1",
        ],
    }


def import_pause_image(layout: Layout, bin_dir: Path, containerd) -> None:
    """Wait for containerd's socket, then import the locally built pause image."""
    deadline = time.monotonic() + SOCKET_TIMEOUT_SECONDS
    while not layout.socket.is_socket():
        if containerd.poll() is not None or time.monotonic() > deadline:
            raise RealNodeError(f"containerd did not open {layout.socket} (see its log)")
        time.sleep(0.1)
    try:
        tar = build_image(PAUSE_IMAGE, {"/pause": ((bin_dir / "pause").read_bytes(), 0o755)}, ["/pause"])
        import_image(tar, layout.socket)
    except ImageError as error:
        raise RealNodeError(str(error)) from error


def host_ip() -> str:
    """The address of the default route's interface (the kubelet refuses a loopback node IP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # UDP: no packet is sent
        return probe.getsockname()[0]


def subnet(layout: Layout) -> str:
    """A 10.244.x.0/24 derived from the node id, skipping subnets already routed on this host."""
    chosen = layout.base / "subnet"
    if chosen.exists():
        return chosen.read_text().strip()
    routes = subprocess.run(["ip", "-o", "-4", "route"], capture_output=True, text=True, check=True).stdout
    routed = [
        ipaddress.ip_network(line.split()[0], strict=False)
        for line in routes.splitlines()
        if "/" in line.split()[0]
    ]
    start = int(layout.node_id, 16) % 190
    for offset in range(190):
        candidate = ipaddress.ip_network(f"10.244.{64 + (start + offset) % 190}.0/24")
        if not any(candidate.overlaps(network) for network in routed):
            chosen.write_text(f"{candidate}\n")
            return str(candidate)
    raise RealNodeError("no free 10.244.x.0/24 subnet for the CNI bridge")


def _cni_config(layout: Layout) -> dict:
    return {
        "cniVersion": "0.4.0",
        "name": layout.network,
        "plugins": [
            {
                "type": "bridge",
                "bridge": layout.bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": subnet(layout)}]],
                    "dataDir": str(layout.base / "cni/ipam"),
                },
            }
        ],
    }


def _containerd_config(layout: Layout) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{layout.base / "containerd/root"}"
state = "{layout.base / "containerd/state"}"
[grpc]
  address = "{layout.socket}"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.base / "containerd/opt"}"
[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE every sandbox fails with "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{layout.base / "runc"}"
[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{layout.base / "cni/conf"}"
"""


def _kubelet_config(layout: Layout, pki: Path, node_ip: str, ports: dict[str, int]) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node_ip,
        "port": ports["kubelet"],
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports["kubelet_healthz"],
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{layout.cgroup_name}",
        "failSwapOn": False,
        "makeIPTablesUtilChains": False,
        "protectKernelDefaults": False,
        "clusterDomain": "cluster.local",
        "resolvConf": "/etc/resolv.conf",
        "serializeImagePulls": False,
        # The imported images cannot be pulled again: never garbage-collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "maxPods": 110,
        # The first status (right after registering) is NotReady; report Ready 3 s later, not 10 s.
        "nodeStatusUpdateFrequency": "3s",
    }


def _write_node_credentials(layout: Layout, pki: Path, apiserver_port: int) -> None:
    """A client certificate for system:node:<name> (group system:nodes, as the Node authorizer expects)."""
    ca_cert = x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    subject = cluster_pki._name(f"system:node:{NODE_NAME}", "system:nodes")
    cert, key = cluster_pki._leaf(ca_cert, ca_key, subject, ExtendedKeyUsageOID.CLIENT_AUTH)
    cluster_pki._write_private(layout.base / "pki/kubelet.key", cluster_pki._key_pem(key))
    (layout.base / "pki/kubelet.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "octo",
                "cluster": {
                    "server": f"https://127.0.0.1:{apiserver_port}",
                    "certificate-authority": str(pki / "ca.crt"),
                },
            }
        ],
        "users": [
            {
                "name": NODE_NAME,
                "user": {
                    "client-certificate": str(layout.base / "pki/kubelet.crt"),
                    "client-key": str(layout.base / "pki/kubelet.key"),
                },
            }
        ],
        "contexts": [{"name": "octo", "context": {"cluster": "octo", "user": NODE_NAME}}],
        "current-context": "octo",
    }
    path = layout.base / "pki/kubelet.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig, sort_keys=False))
    path.chmod(0o600)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


# --- cgroups ---------------------------------------------------------------------------------


def cgroup_hierarchies(types: tuple[str, ...] = ("cgroup", "cgroup2")) -> list[Path]:
    """Mount points of the cgroup hierarchies: v1 (the kubelet's cgroupfs driver) and, on hybrid hosts,
    the unified v2 one, where runc creates the same paths."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    return sorted(Path(fields[1]) for fields in (line.split() for line in mounts) if fields[2] in types)


def _make_cgroup(path: Path) -> None:
    path.mkdir(exist_ok=True)
    for name in ("cpuset.cpus", "cpuset.mems"):  # an empty cpuset cannot hold tasks
        if (path / name).exists() and not (path / name).read_text().strip():
            (path / name).write_text((path.parent / name).read_text())


def cgroup_dirs(layout: Layout) -> list[Path]:
    return [h / layout.cgroup_name for h in cgroup_hierarchies() if (h / layout.cgroup_name).exists()]


def _cgroup_pids(layout: Layout) -> set[int]:
    pids = set()
    for top in cgroup_dirs(layout):
        for procs in top.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(line) for line in procs.read_text().split())
    return pids


def _remove_cgroups(layout: Layout) -> list[str]:
    """rmdir the cgroup trees bottom-up (a cgroup dir is removed with rmdir, never rm -r)."""
    left = []
    for top in cgroup_dirs(layout):
        for directory in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                directory.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()
        if top.exists():
            left.append(str(top))
    return left


# --- sysctls ---------------------------------------------------------------------------------


def read_sysctls() -> dict[str, str]:
    values = {}
    for name in SYSCTLS:
        with contextlib.suppress(OSError):
            values[name] = _sysctl_path(name).read_text().strip()
    return values


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


@contextlib.contextmanager
def _registry():
    REGISTRY.mkdir(parents=True, exist_ok=True)
    (REGISTRY / "users").mkdir(exist_ok=True)
    with open(REGISTRY / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def record_sysctls(layout: Layout) -> None:
    """The first real node on the host records the original values; every node registers as a user."""
    with _registry():
        originals = REGISTRY / "sysctls.json"
        if not originals.exists():
            _write_json(originals, read_sysctls())
        (REGISTRY / "users" / layout.node_id).write_text(f"{layout.state_dir}\n")


def restore_sysctls(layout: Layout) -> str:
    """Unregister; the last real node restores the recorded values."""
    with _registry():
        (REGISTRY / "users" / layout.node_id).unlink(missing_ok=True)
        others = [
            u for u in (REGISTRY / "users").iterdir() if (Path(u.read_text().strip()) / "real").is_dir()
        ]
        originals = REGISTRY / "sysctls.json"
        if others or not originals.exists():
            return (
                f"sysctls kept ({len(others)} other real node(s) running)"
                if others
                else "no sysctls recorded"
            )
        changed = []
        for name, value in json.loads(originals.read_text()).items():
            if _sysctl_path(name).exists() and _sysctl_path(name).read_text().strip() != value:
                _sysctl_path(name).write_text(value)
                changed.append(f"{name}={value}")
        originals.unlink()
        for user in (REGISTRY / "users").iterdir():
            user.unlink()
        return f"restored sysctls {', '.join(changed)}" if changed else "sysctls unchanged"


# --- tear-down -------------------------------------------------------------------------------


def teardown(layout: Layout) -> list[str]:
    """Undo everything the real node did on the host; raise when a mount could not be removed."""
    done = []
    killed = _kill_leftovers(layout)
    if killed:
        done.append(f"killed {killed} container/shim process(es)")
    left = _unmount_all(layout.base)
    if left:
        raise RealNodeError(f"still mounted (state kept): {', '.join(left)}")
    links = _delete_links(layout)
    if links:
        done.append(f"deleted links {', '.join(links)}")
    left_cgroups = _remove_cgroups(layout)
    if left_cgroups:
        raise RealNodeError(f"cgroups still busy: {', '.join(left_cgroups)}")
    files = host_files(layout)
    for path in files:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if files:
        done.append(
            f"removed {len(files)} file(s) of its pods outside the state dir (logs, CNI cache, shim sockets)"
        )
    done.append(restore_sysctls(layout))
    shutil.rmtree(layout.base, ignore_errors=True)
    return done


def host_files(layout: Layout) -> list[Path]:
    """What containerd, CNI and the kubelet keep for this node's pods at fixed host paths: shim sockets
    (/run/containerd/s), CNI results (/var/lib/cni/results), pod logs (/var/log/pods, /var/log/containers)."""
    tasks = layout.base / "containerd/state/io.containerd.runtime.v2.task/k8s.io"
    ids = [p.name for p in tasks.iterdir()] if tasks.is_dir() else []
    pods = layout.kubelet_root / "pods"
    uids = [p.name for p in pods.iterdir()] if pods.is_dir() else []
    sockets = (hashlib.sha256(f"{layout.socket}/k8s.io/{i}".encode()).hexdigest() for i in ids)
    candidates = [SHIM_SOCKETS / name for name in sockets]
    candidates += [CNI_RESULTS / f"cni-loopback-{i}-lo" for i in ids]
    candidates += CNI_RESULTS.glob(f"{layout.network}-*")
    candidates += [path for uid in uids for path in POD_LOGS.glob(f"*_{uid}")]
    candidates += [path for i in ids for path in CONTAINER_LOGS.glob(f"*-{i}.log")]
    return [path for path in candidates if path.exists() or path.is_symlink()]


def container_pids(layout: Layout) -> set[int]:
    """The pods' processes (our cgroup tree) and the shims of our containerd (by their -address)."""
    return _cgroup_pids(layout) | _shim_pids(layout)


def _kill_leftovers(layout: Layout) -> int:
    pids = container_pids(layout)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while time.monotonic() < deadline and container_pids(layout):
        time.sleep(0.1)
    return len(pids)


def _shim_pids(layout: Layout) -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"containerd-shim" in argv[0] and str(layout.socket).encode() in argv:
                pids.add(int(proc.name))
    return pids


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path`, deepest first (octal escapes of mountinfo decoded)."""
    prefix = str(path.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=lambda p: (-p.count("/"), p))


def _unmount_all(base: Path) -> list[str]:
    """`umount -R` every mount under base, bounded retries; a lazy unmount as the last resort."""
    for round_number in range(UNMOUNT_ROUNDS):
        points = mounts_under(base)
        if not points:
            return []
        lazy = ["-l"] if round_number == UNMOUNT_ROUNDS - 1 else []
        for point in points:
            subprocess.run(["umount", "-R", *lazy, point], capture_output=True, check=False)
        time.sleep(0.2 * round_number)
    return mounts_under(base)


def bridge_links(layout: Layout) -> list[str]:
    """The bridge and the links enslaved to it (the pods' host-side veths)."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    names = []
    for line in out.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name == layout.bridge or f" master {layout.bridge} " in line:
            names.append(name)
    return names


def _delete_links(layout: Layout) -> list[str]:
    links = bridge_links(layout)
    for name in sorted(links, key=lambda n: n == layout.bridge):  # veths first, the bridge last
        subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)
    return links
