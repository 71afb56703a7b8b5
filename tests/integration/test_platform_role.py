"""The platform role against the local API server: check mode, apply, idempotence, rotation, RBAC, policies, bad input.

One module-scoped deployment (a platform namespace and an integrations namespace of its own, Postgres on a
hostPath PersistentVolume of its own storage class) is checked from the outside: the objects and pods read from
the API, the orchestrator's rights asked as SubjectAccessReviews, the NetworkPolicies evaluated against the real
pods' labels.
"""

from __future__ import annotations

import secrets

import pytest
from cluster import volumes
from kubernetes import client
from kubernetes.client.rest import ApiException
from support.playbook import run_tasks

IMAGE = {"repository": "octo.local/octo-runtime", "tag": "dev", "pull_policy": "IfNotPresent"}
ROLE_TASK = "Show what changed and where the editor is"  # ansible-core 2.19 names it without the role prefix


def credentials() -> dict:
    names = ("postgres_password", "session_secret", "encryption_key")
    return {name: secrets.token_urlsafe(32) for name in names}


def role_vars(ns: str, storage_class: str, creds: dict, **extra) -> dict:
    return {
        "platform_namespace": ns,
        "platform_integrations_namespace": f"{ns}-int",
        "platform_domain": "octo.localtest.me",
        "platform_tls_mode": "none",
        "platform_editor_image": IMAGE,
        "platform_editor_probe_path": "/healthz",
        "platform_editor_extra_env": {"HTTP_PORT": "3000"},
        "platform_orchestrator_image": IMAGE,
        "platform_orchestrator_extra_env": {"HTTP_PORT": "8080"},
        "platform_postgres_image": {**IMAGE, "repository": "octo.local/postgres", "tag": "15"},
        "platform_postgres_storage_class": storage_class,
        "platform_postgres_storage_size": "1Gi",
        "platform_wait_timeout": 120,
        "platform_credentials": creds,
        **extra,
    }


def run_role(variables: dict, **options):
    task = {"name": "platform", "ansible.builtin.include_role": {"name": "octo.platform.platform"}}
    return run_tasks([task], extra_vars=variables, **options)


def summary(run) -> dict:
    (shown,) = [r["result"] for r in run.results if r["task"].endswith(ROLE_TASK)]
    return shown


def changed_objects(run) -> list:
    assert run.rc == 0, run.output
    return sorted(
        (o["action"], o["kind"], o.get("namespace", ""), o["name"]) for o in summary(run)["msg"]["changed"]
    )


@pytest.fixture(scope="module")
def platform(kubeconfig, kube_client, tmp_path_factory):
    ns = f"tp-{secrets.token_hex(3)}"
    core = client.CoreV1Api(kube_client)
    volume = tmp_path_factory.mktemp("pv")
    volume.chmod(0o777)
    core.create_persistent_volume(volumes.volume(ns, volume, storage_class=ns))
    creds = credentials()
    variables = role_vars(ns, ns, creds)
    runs = {
        "check": run_role(variables, check=True, diff=True),
        "first": run_role(variables, diff=True, verbosity=3),
        "second": run_role(variables),
    }
    yield {"ns": ns, "int": f"{ns}-int", "vars": variables, "creds": creds, "runs": runs, "core": core}
    for name in (ns, f"{ns}-int"):
        try:
            core.delete_namespace(name)
        except ApiException as error:
            if error.status != 404:
                raise
    core.delete_persistent_volume(ns)


def test_check_mode_predicts_the_first_run_and_the_second_changes_nothing(platform):
    runs = platform["runs"]
    predicted, first = changed_objects(runs["check"]), changed_objects(runs["first"])
    assert predicted == first
    assert ("created", "StatefulSet", platform["ns"], "octo-postgres") in first
    assert ("created", "Role", platform["int"], "octo-orchestrator") in first
    assert changed_objects(runs["second"]) == []
    assert runs["second"].task("platform")["status"] == "ok"
    assert "changed=0" in runs["second"].stdout


def test_no_credential_in_any_output_at_vvv_with_diff(platform):
    output = "".join(run.output for run in platform["runs"].values())
    assert "octo-postgres" in output
    for value in platform["creds"].values():
        assert value not in output


def test_real_objects_and_pods(platform):
    apps = client.AppsV1Api(platform["core"].api_client)
    for name in ("octo-editor", "octo-orchestrator"):
        deployment = apps.read_namespaced_deployment(name, platform["ns"])
        assert deployment.status.ready_replicas == 1
    statefulset = apps.read_namespaced_stateful_set("octo-postgres", platform["ns"])
    assert statefulset.status.ready_replicas == 1
    claim = platform["core"].read_namespaced_persistent_volume_claim("data-octo-postgres-0", platform["ns"])
    assert claim.status.phase == "Bound" and claim.spec.volume_name == platform["ns"]
    service = platform["core"].read_namespaced_service("octo-orchestrator", platform["ns"])
    assert service.spec.type == "ClusterIP"
    endpoints = platform["core"].read_namespaced_endpoints("octo-postgres", platform["ns"])
    assert endpoints.subsets and endpoints.subsets[0].ports[0].port == 5432
    pods = platform["core"].list_namespaced_pod(platform["ns"]).items
    for pod in pods:
        assert pod.spec.security_context.run_as_non_root is True
        container = pod.spec.containers[0].security_context
        assert container.read_only_root_filesystem is True and container.capabilities.drop == ["ALL"]
    orchestrator = next(p for p in pods if p.metadata.labels["app.kubernetes.io/name"] == "octo-orchestrator")
    env = {
        e.name: e.value_from.secret_key_ref.name if e.value_from else e.value
        for e in orchestrator.spec.containers[0].env
    }
    assert env["DATABASE_URL"] == "octo-postgres" and env["BASE_DOMAIN"] == "octo.localtest.me"
    secret = platform["core"].read_namespaced_secret("octo-postgres", platform["ns"])
    assert set(secret.data) == {"DATABASE_URL", "POSTGRES_PASSWORD"}


def access(
    api_client, ns: str, account: str, verb: str, resource: str, group: str = "", name: str = ""
) -> bool:
    """`kubectl auth can-i` through the API: a SubjectAccessReview for the ServiceAccount."""
    attributes = {"namespace": ns, "verb": verb, "group": group, "resource": resource, "name": name}
    review = {"spec": {"user": f"system:serviceaccount:{account}", "resourceAttributes": attributes}}
    return client.AuthorizationV1Api(api_client).create_subject_access_review(review).status.allowed


def test_orchestrator_rights_exactly_as_granted(platform):
    api, ns, integrations = platform["core"].api_client, platform["ns"], platform["int"]
    orchestrator = f"{ns}:octo-orchestrator"
    managed = [
        ("configmaps", ""),
        ("services", ""),
        ("deployments", "apps"),
        ("ingresses", "networking.k8s.io"),
    ]
    for resource, group in managed:
        for verb in ("get", "list", "watch", "create", "update", "patch", "delete"):
            assert access(api, integrations, orchestrator, verb, resource, group), (verb, resource)
    for verb in ("get", "update", "patch"):
        assert access(api, integrations, orchestrator, verb, "secrets", name="octo-secrets")
    denied = [
        (integrations, "list", "secrets", "", ""),
        (integrations, "get", "secrets", "", "other"),
        (integrations, "delete", "secrets", "", "octo-secrets"),
        (integrations, "create", "roles", "rbac.authorization.k8s.io", ""),
        (integrations, "create", "pods", "", ""),
        (ns, "get", "secrets", "", "octo-postgres"),
        (ns, "create", "deployments", "apps", ""),
        ("", "list", "deployments", "apps", ""),
        ("", "create", "namespaces", "", ""),
        ("", "create", "clusterrolebindings", "rbac.authorization.k8s.io", ""),
    ]
    for namespace, verb, resource, group, name in denied:
        assert not access(api, namespace, orchestrator, verb, resource, group, name), (
            namespace,
            verb,
            resource,
        )
    for account in ("octo-editor", "octo-postgres"):
        assert not access(api, integrations, f"{ns}:{account}", "create", "deployments", "apps")


def selects(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector with matchLabels only (the role writes no matchExpressions; asserted below)."""
    assert not (selector or {}).get("match_expressions")
    return all(labels.get(k) == v for k, v in ((selector or {}).get("match_labels") or {}).items())


def peer_allows(peers, pod: dict, port: int) -> bool:
    """Whether one ingress `from` / egress `to` list and its ports let ``pod`` (labels, namespace) through."""
    rule_peers, rule_ports = peers
    port_ok = not rule_ports or any(p.port == port for p in rule_ports)
    if rule_peers is None:
        return port_ok
    for peer in rule_peers:
        namespace_ok = (
            selects(peer.namespace_selector.to_dict(), pod["namespace_labels"])
            if peer.namespace_selector
            else pod["same_ns"]
        )
        pods_ok = selects(peer.pod_selector.to_dict(), pod["labels"]) if peer.pod_selector else True
        if namespace_ok and pods_ok and port_ok:
            return True
    return False


def allowed(policies, source: dict, target: dict, port: int) -> bool:
    """Kubernetes NetworkPolicy semantics for one connection between pods of the platform namespace (or from
    the ingress controller, whose own namespace has no policy)."""
    ingress = [
        p
        for p in policies
        if "Ingress" in p.spec.policy_types and selects(p.spec.pod_selector.to_dict(), target["labels"])
    ]
    egress = [
        p
        for p in policies
        if "Egress" in p.spec.policy_types and selects(p.spec.pod_selector.to_dict(), source["labels"])
    ]
    seen_from = {**source, "same_ns": source["same_ns"]}
    ingress_ok = not ingress or any(
        peer_allows((rule._from, rule.ports), seen_from, port)
        for p in ingress
        for rule in p.spec.ingress or []
    )
    egress_ok = (
        not source["same_ns"]
        or not egress
        or any(
            peer_allows((rule.to, rule.ports), {**target, "same_ns": True}, port)
            for p in egress
            for rule in p.spec.egress or []
        )
    )
    return ingress_ok and egress_ok


def test_network_policies_match_the_real_pods_and_allow_exactly_the_intended_paths(platform):
    api, ns = platform["core"].api_client, platform["ns"]
    policies = client.NetworkingV1Api(api).list_namespaced_network_policy(ns).items
    ns_labels = {"kubernetes.io/metadata.name": ns}
    pods = {}
    for pod in platform["core"].list_namespaced_pod(ns).items:
        name = pod.metadata.labels["app.kubernetes.io/name"]
        port = pod.spec.containers[0].ports[0].container_port
        pods[name] = {
            "labels": pod.metadata.labels,
            "namespace_labels": ns_labels,
            "same_ns": True,
            "port": port,
        }
    assert sorted(pods) == ["octo-editor", "octo-orchestrator", "octo-postgres"]
    for policy in policies:
        selected = [n for n, p in pods.items() if selects(policy.spec.pod_selector.to_dict(), p["labels"])]
        assert selected, f"NetworkPolicy {policy.metadata.name} selects no real pod"
    controller = {
        "labels": {"app.kubernetes.io/name": "traefik"},
        "namespace_labels": {"kubernetes.io/metadata.name": "kube-system"},
        "same_ns": False,
    }
    sources = {**pods, "ingress-controller": controller}
    paths = {
        (source, target, target_pod["port"])
        for source, source_pod in sources.items()
        for target, target_pod in pods.items()
        if source != target and allowed(policies, source_pod, target_pod, target_pod["port"])
    }
    assert paths == {
        ("ingress-controller", "octo-editor", 3000),
        ("octo-editor", "octo-orchestrator", 8080),
        ("octo-orchestrator", "octo-postgres", 5432),
    }
    stranger = {**controller, "labels": {"app": "other"}}
    assert not allowed(policies, stranger, pods["octo-editor"], 3000)


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"platform_domain": ""}, "platform_domain"),
        ({"platform_postgres_mode": "external"}, "platform_postgres_url"),
        ({"platform_oidc_enabled": True, "platform_oidc_client_id": "octo"}, "platform_oidc_issuer"),
        (
            {"platform_oidc_enabled": True, "platform_oidc_issuer": "https://id.example.com"},
            "platform_oidc_client_id",
        ),
        ({"platform_editor_image": {**IMAGE, "tag": "latest"}}, "platform_editor_image.tag"),
        (
            {"platform_credentials": {"session_secret": "s" * 40, "encryption_key": ""}},
            "platform_credentials.encryption_key",
        ),
        ({"platform_editor_replicas": "two"}, "platform_editor_replicas"),
    ],
)
def test_bad_input_fails_in_preflight_naming_the_variable_and_writes_nothing(kube_client, extra, variable):
    ns = f"tp-bad-{secrets.token_hex(3)}"
    run = run_role(role_vars(ns, ns, credentials(), **extra))
    assert run.rc != 0
    assert variable in run.output
    writes = [r["task"] for r in run.results if "Apply" in r["task"]]
    assert writes == []
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(kube_client).read_namespace(ns)
    assert missing.value.status == 404


def test_rotating_a_credential_rolls_exactly_its_readers(platform):
    apps = client.AppsV1Api(platform["core"].api_client)
    ns = platform["ns"]

    def generations():
        owners = [apps.read_namespaced_deployment(n, ns) for n in ("octo-editor", "octo-orchestrator")]
        owners.append(apps.read_namespaced_stateful_set("octo-postgres", ns))
        return {o.metadata.name: o.metadata.generation for o in owners}

    before = generations()
    rotated = {**platform["creds"], "encryption_key": secrets.token_urlsafe(32)}
    run = run_role({**platform["vars"], "platform_credentials": rotated})
    changed = changed_objects(run)
    assert changed == [
        ("updated", "Deployment", ns, "octo-orchestrator"),
        ("updated", "Secret", ns, "octo-encryption"),
    ]
    after = generations()
    assert {name for name in before if before[name] != after[name]} == {"octo-orchestrator"}
