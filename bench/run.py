"""`make bench`: converge N integrations with equal-work approaches against the local cluster and compare.

Rows, each measured in the same run (first deploy into a fresh namespace, then a no-op re-run):
  octo.platform.integrations, one task, with wait: false and with wait: true;
  kubectl apply -f dir, alone and followed by kubectl wait --for=condition=Available on every Deployment;
  kubernetes.core.k8s, one task with every object, with its default (strategic-merge PATCH), apply: true and
  server_side_apply, each with and without wait.
Fair order: the approaches run in a random order per N; before every measured run the cluster settles (no
namespace terminating, every pod Running and Ready, every Deployment and ReplicaSet at its desired replicas).
A row is the median of 3 runs when its first run takes under 30 s, else the one run (marked). Each run reports
wall time, CPU seconds of the whole process tree, the peak RSS of its largest process, the load average at its
start, and the admin user's API reads and writes from the API server's audit log (the node stand-in's excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))
sys.path.insert(0, str(ROOT / "bench"))

from report import write_report

from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    TlsSettings,
    render,
)

CLUSTER_DIR = Path(os.environ.get("OCTO_CLUSTER_DIR", Path.home() / ".cache/octo-platform/cluster"))
KUBECONFIG = str(CLUSTER_DIR / "kubeconfig")
AUDIT_LOG = CLUSTER_DIR / "logs" / "audit.log"
IMAGE = "registry.local/octo:1.0"
BASE_DOMAIN = "octo.example.com"
REPLICAS = 2  # as the local inventory's samples: 2,000 pods at N=1000
SAMPLES = {
    "http-orders": ({"API_KEY": "k"}, True),
    "fulfilment": ({"WAREHOUSE_DSN": "pg://x"}, False),
    "nightly-report": ({"REPORT_BUCKET": "b"}, False),
}
READ_VERBS = {"get", "list", "watch"}
REPEAT_BELOW_SECONDS = 30
RUNS = 3
SETTLE_TIMEOUT = 900
WAIT_TIMEOUT = 900
APPROACHES = {
    "ours": "octo.platform.integrations, one task, wait: false",
    "ours-wait": "octo.platform.integrations, one task, wait: true",
    "kubectl": "kubectl apply -f dir",
    "kubectl-wait": "kubectl apply -f dir + kubectl wait Available",
    "k8s": "kubernetes.core.k8s, one task (strategic-merge PATCH)",
    "k8s-wait": "kubernetes.core.k8s, one task (strategic-merge PATCH), wait",
    "k8s-apply": "kubernetes.core.k8s, one task, apply: true",
    "k8s-apply-wait": "kubernetes.core.k8s, one task, apply: true, wait",
    "k8s-ssa": "kubernetes.core.k8s, one task, server_side_apply",
    "k8s-ssa-wait": "kubernetes.core.k8s, one task, server_side_apply, wait",
}
# The equal-work kubectl row of each approach, for the ratio column.
BASELINE = {a: ("kubectl-wait" if a.endswith("-wait") else "kubectl") for a in APPROACHES}


def items(count: int) -> list[dict]:
    """The same mix as the tests: exposed HTTP, private HTTP, worker."""
    names = list(SAMPLES)
    made = []
    for index in range(count):
        sample = names[index % 3]
        env, expose = SAMPLES[sample]
        made.append(
            {
                "slug": f"{sample}-{index}",
                "deployment_id": f"d{index}",
                "definition": (ROOT / "samples" / f"{sample}.yaml").read_text(),
                "env": env,
                "expose": expose,
                "replicas": REPLICAS,
            }
        )
    return made


def rendered_objects(item: dict, namespace: str) -> list[dict]:
    request = IntegrationRequest(
        name=item["slug"],
        slug=item["slug"],
        deployment_id=item["deployment_id"],
        definition=item["definition"],
        image=IMAGE,
        namespace=namespace,
        replicas=item["replicas"],
        bindings={k: {"value": v} for k, v in item["env"].items()},
        expose=item["expose"],
        base_domain=BASE_DOMAIN,
        tls=TlsSettings(mode="none"),
    )
    return render(request).objects


def playbook(work: Path, name: str, task: dict) -> Path:
    play = [{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": [{"name": name, **task}]}]
    path = work / f"{name}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def ansible_playbook() -> list[str]:
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local"]
    return [*command, "-e", f"ansible_python_interpreter={sys.executable}"]


def command(work: Path, approach: str, count: int, namespace: str) -> list[str]:
    """The command of one approach; it writes its inputs (vars, manifests) into work."""
    batch = items(count)
    wait = approach.endswith("-wait")
    if approach.startswith("ours"):
        (work / "vars.json").write_text(json.dumps({"batch": batch}))
        args = {"kubeconfig": KUBECONFIG, "namespace": namespace, "image": IMAGE, "base_domain": BASE_DOMAIN}
        args.update(tls_mode="none", wait=wait, wait_timeout=WAIT_TIMEOUT, integrations="{{ batch }}")
        task = {"octo.platform.integrations": args}
        return [*ansible_playbook(), "-e", f"@{work / 'vars.json'}", str(playbook(work, approach, task))]
    objects = [obj for item in batch for obj in rendered_objects(item, namespace)]
    if approach.startswith("k8s"):
        (work / "vars.json").write_text(json.dumps({"objects": objects}))
        args = {
            "kubeconfig": KUBECONFIG,
            "definition": "{{ objects }}",
            "wait": wait,
            "wait_timeout": WAIT_TIMEOUT,
        }
        if approach.startswith("k8s-apply"):
            args["apply"] = True
        if approach.startswith("k8s-ssa"):
            args["server_side_apply"] = {"field_manager": "bench"}
        task = {"kubernetes.core.k8s": args}
        return [*ansible_playbook(), "-e", f"@{work / 'vars.json'}", str(playbook(work, approach, task))]
    manifests = work / "manifests"
    manifests.mkdir(exist_ok=True)
    (manifests / "all.yaml").write_text(yaml.safe_dump_all(objects))
    apply = f"{kubectl()} --kubeconfig {KUBECONFIG} apply -f {manifests} >/dev/null"
    if wait:
        apply += (
            f" && {kubectl()} --kubeconfig {KUBECONFIG} wait --for=condition=Available deployment --all"
            f" -n {namespace} --timeout={WAIT_TIMEOUT}s >/dev/null"
        )
    return ["sh", "-c", apply]


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        raise SystemExit(
            "Failed to run the kubectl rows: kubectl is not on PATH (apt-get install kubernetes-client)"
        )
    return found


def audit_position() -> tuple[int, int]:
    """Where the audit log ends now: its inode (kept by the rotated file, which the API server renames) and size."""
    stat = AUDIT_LOG.stat()
    return stat.st_ino, stat.st_size


def audit_files_since(position: tuple[int, int]) -> list[tuple[Path, int]]:
    """The audit files holding the requests written after ``position``, oldest first, each with the offset to
    read from: the file that was current then (renamed if the log rotated meanwhile), and every newer one."""
    inode, offset = position
    files = sorted(AUDIT_LOG.parent.glob("audit*.log"), key=lambda path: path.stat().st_mtime)
    inodes = [path.stat().st_ino for path in files]
    if inode not in inodes:
        raise SystemExit(
            "bench: the audit log rotated more than once during one run, so its request counts are lost; "
            "raise --audit-log-maxsize in tests/cluster/cluster.py"
        )
    first = inodes.index(inode)
    return [(path, offset if index == first else 0) for index, path in enumerate(files) if index >= first]


def requests_since(position: tuple[int, int], began: str) -> tuple[int, int]:
    """Reads and writes of the admin user received since ``began`` (UTC, RFC 3339), read from ``position`` on
    across a rotation; the timestamp keeps out the settle loop's late-written reads."""
    reads = writes = 0
    for path, offset in audit_files_since(position):
        with path.open() as log:
            log.seek(offset)
            for line in log:
                event = json.loads(line)
                if event["user"]["username"] != "octo-admin" or event.get("userAgent") == "octo-node-standin":
                    continue
                if event["requestReceivedTimestamp"] < began:
                    continue
                if event["verb"] in READ_VERBS:
                    reads += 1
                else:
                    writes += 1
    return reads, writes


def measure(argv: list[str]) -> dict:
    position = audit_position()
    began = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "measure.py"), *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])} failed:\n{result.pop('tail')}")
    result.pop("tail")
    result["reads"], result["writes"] = requests_since(position, began)
    return result


def unsettled(kube: Kube) -> str | None:
    """Why the cluster is still reconciling (None when settled). The pods of a terminating namespace are
    deleted at once (its controllers can no longer create any): the stand-in node would take minutes to
    finish 2,000 graceful deletions."""
    for ns in kube.list(res.NAMESPACE):
        if ns.get("status", {}).get("phase") == "Terminating":
            name = ns["metadata"]["name"]
            kube.request("DELETE", res.POD.path(name), query={"gracePeriodSeconds": "0"}, what="pods")
            return f"namespace {name} terminating"
    for pod in kube.list(res.POD):
        ready = any(
            c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
        )
        if pod["metadata"].get("deletionTimestamp") or pod["status"].get("phase") != "Running" or not ready:
            return f"pod {pod['metadata']['name']} not Running and Ready"
    for dep in kube.list(res.DEPLOYMENT):
        spec, status = dep["spec"].get("replicas", 1), dep.get("status", {})
        counts = [
            status.get(k, 0) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
        ]
        if counts != [spec] * 4 or status.get("observedGeneration", 0) < dep["metadata"]["generation"]:
            return f"deployment {dep['metadata']['name']} rolling"
    for rs in kube.list(res.REPLICA_SET):
        if rs.get("status", {}).get("replicas", 0) != rs["spec"].get("replicas", 0):
            return f"replicaset {rs['metadata']['name']} scaling"
    return None


def settle(kube: Kube) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (reason := unsettled(kube)) is not None:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: the cluster did not settle in {SETTLE_TIMEOUT}s: {reason}")
        time.sleep(2)


def one_run(kube: Kube, work: Path, approach: str, count: int) -> dict[str, dict]:
    """First deploy into a fresh namespace, then a no-op re-run; the namespace is deleted afterwards."""
    namespace = f"bench-{approach}-{count}-{secrets.token_hex(2)}"
    argv = command(work, approach, count, namespace)
    settle(kube)
    if not approach.startswith("ours"):  # ours create the namespace; the others need it first
        kube.apply(res.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    first = measure(argv)
    settle(kube)
    noop = measure(argv)
    kube.delete(res.NAMESPACE, namespace)
    return {"first deploy": first, "no-op re-run": noop}


def bench_row(kube: Kube, tmp: Path, approach: str, count: int) -> list[dict]:
    runs = []
    while len(runs) < RUNS:
        work = tmp / f"{approach}-{count}-{len(runs)}"
        work.mkdir()
        runs.append(one_run(kube, work, approach, count))
        first = runs[0]["first deploy"]
        print(f"bench: N={count} {approach} run {len(runs)}: " + summary(runs[-1]), flush=True)
        if first["wall"] >= REPEAT_BELOW_SECONDS:
            break
    return [
        {
            "n": count,
            "approach": approach,
            "phase": phase,
            "runs": len(runs),
            **median([r[phase] for r in runs]),
        }
        for phase in ("first deploy", "no-op re-run")
    ]


def summary(run: dict) -> str:
    return "; ".join(
        f"{phase} {m['wall']:.2f}s wall {m['cpu']:.2f}s CPU {m['peak_mb']:.0f} MB {m['reads']}r/{m['writes']}w"
        for phase, m in run.items()
    )


def median(measurements: list[dict]) -> dict:
    return {key: statistics.median(m[key] for m in measurements) for key in measurements[0]}


def git_commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "plugins", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    return head.stdout.strip() + (" (plus uncommitted changes)" if dirty.stdout.strip() else "")


def included(approach: str, count: int, args: argparse.Namespace) -> bool:
    if not approach.startswith("k8s"):
        return True
    return count <= (args.k8s_wait_max if approach.endswith("-wait") else args.k8s_max)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 1000])
    parser.add_argument("--approaches", nargs="+", default=list(APPROACHES), choices=list(APPROACHES))
    parser.add_argument(
        "--k8s-max", type=int, default=200, help="largest N for kubernetes.core (minutes beyond)"
    )
    parser.add_argument(
        "--k8s-wait-max",
        type=int,
        default=200,
        help="largest N for kubernetes.core with wait (it waits for each object in turn)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="order of the approaches (default: a random one)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)  # before the run, not after an hour of it
    os.environ.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), K8S_AUTH_KUBECONFIG=KUBECONFIG)
    kube = Kube({"kubeconfig": KUBECONFIG})
    seed = random.SystemRandom().randrange(10_000) if args.seed is None else args.seed
    shuffle = random.Random(seed)
    rerun = [] if args.seed is not None else ["--seed", str(seed)]
    context = {
        "command": "python bench/run.py " + " ".join([*sys.argv[1:], *rerun]),
        "commit": git_commit(),
        "load": os.getloadavg(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="octo-bench-") as tmp:
        settle(kube)
        floor_task = {"ansible.builtin.debug": {"msg": "x"}}
        context["floor"] = measure([*ansible_playbook(), str(playbook(Path(tmp), "floor", floor_task))])
        for count in args.sizes:
            order = [a for a in args.approaches if included(a, count, args)]
            shuffle.shuffle(order)
            print(f"bench: N={count}, order {' '.join(order)}", flush=True)
            for approach in order:
                rows.extend(bench_row(kube, Path(tmp), approach, count))
                write_report(args.out, rows, context, APPROACHES, BASELINE)
    settle(kube)
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
