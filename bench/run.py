"""`make bench`: converge N integrations four ways against the local cluster and compare.

(a) octo.platform.integrations, one task for the whole set (waits for rollouts, as it does by default)
(b) octo.platform.integration in a loop, one task run per integration (wait: false)
(c) kubernetes.core.k8s in a loop, one task run per integration, on the same rendered objects (wait: false)
(d) kubectl apply -f on a directory of the same rendered objects
Each: first deploy into a fresh namespace, then a no-op re-run. Requests are counted from the API server's
audit log (requests of the admin user, without the node stand-in's). Ratios are against (a) in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))

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
SAMPLES = {
    "http-orders": ({"API_KEY": "k"}, True),
    "fulfilment": ({"WAREHOUSE_DSN": "pg://x"}, False),
    "nightly-report": ({"REPORT_BUCKET": "b"}, False),
}
READ_VERBS = {"get", "list", "watch"}


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
        bindings={k: {"value": v} for k, v in item["env"].items()},
        expose=item["expose"],
        base_domain=BASE_DOMAIN,
        tls=TlsSettings(mode="none"),
    )
    return render(request).objects


def playbook(work: Path, name: str, tasks: list[dict]) -> Path:
    play = [{"name": name, "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    path = work / f"{name}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def commands(work: Path, approach: str, count: int, namespace: str) -> list[str]:
    batch = items(count)
    (work / "vars.json").write_text(json.dumps({"batch": batch, "ns": namespace}))
    ansible = [*ansible_playbook(), "-e", f"@{work / 'vars.json'}"]
    common = {"kubeconfig": KUBECONFIG, "namespace": "{{ ns }}"}
    if approach == "a":
        task = {
            "octo.platform.integrations": {
                **common,
                "image": IMAGE,
                "base_domain": BASE_DOMAIN,
                "tls_mode": "none",
                "integrations": "{{ batch }}",
            }
        }
        return [*ansible, str(playbook(work, "bulk", [{"name": "bulk", **task}]))]
    if approach == "b":
        args = {
            **common,
            "image": IMAGE,
            "base_domain": BASE_DOMAIN,
            "tls_mode": "none",
            "wait": False,
            "slug": "{{ item.slug }}",
            "deployment_id": "{{ item.deployment_id }}",
            "definition": "{{ item.definition }}",
            "env": "{{ item.env }}",
            "expose": "{{ item.expose }}",
        }
        task = {"name": "single", "octo.platform.integration": args, "loop": "{{ batch }}"}
        return [*ansible, str(playbook(work, "single", [task]))]
    objects = [rendered_objects(item, namespace) for item in batch]
    if approach == "c":
        (work / "objects.json").write_text(json.dumps({"objects": objects}))
        task = {
            "name": "k8s",
            "kubernetes.core.k8s": {"kubeconfig": KUBECONFIG, "definition": "{{ item }}", "wait": False},
            "loop": "{{ objects }}",
        }
        return [*ansible, "-e", f"@{work / 'objects.json'}", str(playbook(work, "k8s", [task]))]
    manifests = work / "manifests"
    manifests.mkdir(exist_ok=True)
    for item, objs in zip(batch, objects, strict=True):
        (manifests / f"{item['deployment_id']}.yaml").write_text(yaml.safe_dump_all(objs))
    return [kubectl(), "--kubeconfig", KUBECONFIG, "apply", "-f", str(manifests)]


def ansible_playbook() -> list[str]:
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local"]
    return [*command, "-e", f"ansible_python_interpreter={sys.executable}"]


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        subprocess.run(["apt-get", "install", "-y", "-qq", "kubernetes-client"], check=True)
        found = shutil.which("kubectl")
    return found


def audit_size() -> int:
    return AUDIT_LOG.stat().st_size if AUDIT_LOG.exists() else 0


def requests_since(offset: int) -> tuple[int, int]:
    reads = writes = 0
    with AUDIT_LOG.open() as log:
        log.seek(offset)
        for line in log:
            event = json.loads(line)
            if event["user"]["username"] != "octo-admin" or event.get("userAgent") == "octo-node-standin":
                continue
            if event["verb"] in READ_VERBS:
                reads += 1
            else:
                writes += 1
    return reads, writes


def measure(command: list[str]) -> dict:
    offset = audit_size()
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "measure.py"), *command],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"bench: {' '.join(command[:3])} failed:\n{result['tail']}")
    result["reads"], result["writes"] = requests_since(offset)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--approaches", default="abcd")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md")
    args = parser.parse_args()
    os.environ.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), K8S_AUTH_KUBECONFIG=KUBECONFIG)
    kube = Kube({"kubeconfig": KUBECONFIG})
    rows, namespaces = [], []
    with tempfile.TemporaryDirectory(prefix="octo-bench-") as tmp:
        floor_task = {"name": "floor", "ansible.builtin.debug": {"msg": "x"}}
        floor = measure([*ansible_playbook(), str(playbook(Path(tmp), "floor", [floor_task]))])
        for count in args.sizes:
            for approach in args.approaches:
                work = Path(tmp) / f"{approach}{count}"
                work.mkdir()
                namespace = f"bench-{approach}{count}-{secrets.token_hex(2)}"
                namespaces.append(namespace)
                command = commands(work, approach, count, namespace)
                if approach in "cd":  # ours create the namespace; these need it first
                    kube.apply(
                        res.NAMESPACE,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                    )
                for phase in ("first deploy", "no-op re-run"):
                    result = measure(command)
                    rows.append({"n": count, "approach": approach, "phase": phase, **result})
                    print(
                        f"bench: N={count} ({approach}) {phase}: {result['wall']:.2f}s, {result['peak_mb']:.0f} MB, "
                        f"{result['reads']} reads, {result['writes']} writes",
                        flush=True,
                    )
    for namespace in namespaces:
        kube.delete(res.NAMESPACE, namespace)
    table = report(rows, floor)
    args.out.write_text(table)
    print(table)
    return 0


LABELS = {
    "a": "(a) octo.platform.integrations, one task",
    "b": "(b) octo.platform.integration, task per integration",
    "c": "(c) kubernetes.core.k8s, task per integration",
    "d": "(d) kubectl apply -f dir",
}


def report(rows: list[dict], floor: dict) -> str:
    lines = [
        "# Benchmark: converging N integrations",
        "",
        "Made by `make bench` on the local 1.20 control plane (2 cores). Requests are the admin user's, from the",
        "API server audit log. Ratios are wall time against (a) for the same N and phase, in the same run.",
        "(a) waits for the rollouts on first deploy (its default); (b), (c) and (d) do not wait.",
        f"Ansible's floor, a one-task playbook: {floor['wall']:.2f} s.",
        "",
        "| N | approach | phase | wall s | x (a) | peak MB | reads | writes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = {(r["n"], r["phase"]): r["wall"] for r in rows if r["approach"] == "a"}
    for r in rows:
        ratio = r["wall"] / base[(r["n"], r["phase"])] if (r["n"], r["phase"]) in base else float("nan")
        lines.append(
            f"| {r['n']} | {LABELS[r['approach']]} | {r['phase']} | {r['wall']:.2f} | {ratio:.1f} | "
            f"{r['peak_mb']:.0f} | {r['reads']} | {r['writes']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
