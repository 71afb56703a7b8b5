"""Every field of the rendered objects, for workers, private network services and exposed ones."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    TlsSettings,
    render,
    slug_selector,
)
from ansible_collections.octo.platform.plugins.module_utils.render.plan import plan, stamp

COMMON_LABELS = {
    "app.kubernetes.io/name": "octo-integration",
    "app.kubernetes.io/part-of": "octo",
    "app.kubernetes.io/managed-by": "octo.platform",
}


def by_kind_and_name(rendered) -> dict:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in rendered.objects}


def container_of(rendered) -> dict:
    deployment = by_kind_and_name(rendered)["Deployment", "octo-dep-d41"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_network_service_objects_in_order(network_request):
    rendered = render(network_request())
    assert [(obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) for obj in rendered.objects] == [
        ("v1", "ConfigMap", "octo-dep-d41"),
        ("apps/v1", "Deployment", "octo-dep-d41"),
        ("v1", "Service", "octo-dep-d41"),
        ("v1", "Service", "octo-int-orders"),
    ]
    assert all(obj["metadata"]["namespace"] == "octo-dev" for obj in rendered.objects)
    assert rendered.http_port == 9090
    assert rendered.internal_url == "http://octo-int-orders.octo-dev:9090"
    assert rendered.public_url is None
    assert rendered.secret_keys == ["ORDERS_API_KEY"]
    assert rendered.selector == {
        "octo.dev/deployment": "d41",
        "app.kubernetes.io/managed-by": "octo.platform",
    }
    assert rendered.wildcard_tls_secret is None


def test_namespace_is_applied_everywhere(network_request):
    rendered = render(network_request(namespace="team-a"))
    assert {obj["metadata"]["namespace"] for obj in rendered.objects} == {"team-a"}
    assert rendered.internal_url == "http://octo-int-orders.team-a:9090"


def test_config_map_holds_the_definition(network_request):
    request = network_request()
    config_map = by_kind_and_name(render(request))["ConfigMap", "octo-dep-d41"]
    assert config_map["data"] == {"orders.yaml": request.definition}


def test_deployment_spec(network_request):
    deployment = by_kind_and_name(render(network_request(replicas=3)))["Deployment", "octo-dep-d41"]
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {"octo.dev/deployment": "d41"}}
    pod = spec["template"]
    assert pod["metadata"]["labels"]["octo.dev/deployment"] == "d41"
    assert pod["metadata"]["labels"]["octo.dev/slug"] == "orders"
    assert pod["metadata"]["annotations"]["octo.dev/integration"] == "Orders API"
    assert pod["spec"]["volumes"] == [{"name": "definition", "configMap": {"name": "octo-dep-d41"}}]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "ghcr.io/octo/runtime:0.1.4"
    assert container["volumeMounts"] == [
        {"name": "definition", "mountPath": "/etc/octo/integrations", "readOnly": True}
    ]
    assert container["ports"] == [{"name": "http", "containerPort": 9090, "protocol": "TCP"}]
    assert container["readinessProbe"] == {"tcpSocket": {"port": "http"}}


def test_env_literals_secrets_defaults_and_managed_vars(network_request):
    bindings = {"API_KEY": {"secret": "ORDERS_API_KEY"}, "LOG_LEVEL": {"value": "debug"}}
    env = container_of(render(network_request(bindings=bindings)))["env"]
    assert env == [
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "octo-secrets", "key": "ORDERS_API_KEY"}}},
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "RETRIES", "value": "3"},  # numeric default, as a string
        # REGION: not required, no default, not bound -> omitted
        {"name": "HTTP_PORT", "value": "9090"},
        {"name": "HTTP_HOST", "value": "0.0.0.0"},
    ]


def test_secret_wins_over_value(network_request):
    bindings = {"API_KEY": {"value": "literal-ignored", "secret": "ORDERS_API_KEY"}}
    rendered = render(network_request(bindings=bindings))
    api_key = container_of(rendered)["env"][0]
    assert api_key == {
        "name": "API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "octo-secrets", "key": "ORDERS_API_KEY"}},
    }
    assert "literal-ignored" not in repr(rendered.objects)


def test_empty_literal_is_rendered_without_value(network_request):
    bindings = {"API_KEY": {"secret": "K"}, "REGION": {"value": ""}}
    assert {"name": "REGION"} in container_of(render(network_request(bindings=bindings)))["env"]


def test_secret_keys_are_unique_and_sorted(network_request):
    bindings = {
        "API_KEY": {"secret": "SHARED"},
        "REGION": {"secret": "A_REGION"},
        "LOG_LEVEL": {"secret": "SHARED"},
    }
    assert render(network_request(bindings=bindings)).secret_keys == ["A_REGION", "SHARED"]


def test_http_port_defaults_to_8080(network_request):
    definition = "env:\n  - name: HTTP_PORT\n"
    rendered = render(network_request(definition=definition, bindings={}))
    assert rendered.http_port == 8080
    assert {"name": "HTTP_PORT", "value": "8080"} in container_of(rendered)["env"]
    services = [obj for obj in rendered.objects if obj["kind"] == "Service"]
    assert [svc["spec"]["ports"][0]["port"] for svc in services] == [8080, 8080]


def test_services(network_request):
    objects = by_kind_and_name(render(network_request()))
    port = {"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}
    assert objects["Service", "octo-dep-d41"]["spec"] == {
        "type": "ClusterIP",
        "selector": {"octo.dev/deployment": "d41"},
        "ports": [port],
    }
    assert objects["Service", "octo-int-orders"]["spec"] == {
        "type": "ClusterIP",
        "selector": {"octo.dev/slug": "orders"},
        "ports": [port],
    }


def test_labels_and_annotations(network_request):
    objects = by_kind_and_name(render(network_request(name="Orders API (EU)")))
    components = {
        ("ConfigMap", "octo-dep-d41"): "definition",
        ("Deployment", "octo-dep-d41"): "runtime",
        ("Service", "octo-dep-d41"): "service",
        ("Service", "octo-int-orders"): "integration-service",
    }
    for key, component in components.items():
        metadata = objects[key]["metadata"]
        expected = {**COMMON_LABELS, "app.kubernetes.io/component": component, "octo.dev/slug": "orders"}
        if key != ("Service", "octo-int-orders"):
            expected |= {"app.kubernetes.io/instance": "octo-dep-d41", "octo.dev/deployment": "d41"}
        assert metadata["labels"] == expected, key
        if key == ("Service", "octo-int-orders"):  # slug-level fields only: the same for every deployment
            assert "annotations" not in metadata
        else:
            assert metadata["annotations"]["octo.dev/integration"] == "Orders API (EU)"
    pod_labels = objects["Deployment", "octo-dep-d41"]["spec"]["template"]["metadata"]["labels"]
    assert pod_labels == objects["Deployment", "octo-dep-d41"]["metadata"]["labels"]


def test_selector_matches_every_object_but_the_shared_service(exposed_request):
    rendered = render(exposed_request())
    matching = [
        obj["metadata"]["name"] + "/" + obj["kind"]
        for obj in rendered.objects
        if rendered.selector.items() <= obj["metadata"]["labels"].items()
    ]
    assert matching == [
        "octo-dep-d41/ConfigMap",
        "octo-dep-d41/Deployment",
        "octo-dep-d41/Service",
        "octo-dep-d41/Ingress",
    ]
    pod_labels = rendered.objects[1]["spec"]["template"]["metadata"]["labels"]
    assert rendered.selector.items() <= pod_labels.items()


def test_worker_gets_config_map_and_deployment_only(worker_request):
    rendered = render(worker_request())
    assert [(obj["kind"], obj["metadata"]["name"]) for obj in rendered.objects] == [
        ("ConfigMap", "octo-dep-w7"),
        ("Deployment", "octo-dep-w7"),
    ]
    assert rendered.http_port is None
    assert rendered.internal_url is None
    assert rendered.public_url is None
    assert rendered.secret_keys == []
    (container,) = rendered.objects[1]["spec"]["template"]["spec"]["containers"]
    assert "ports" not in container
    assert "readinessProbe" not in container
    assert container["env"] == [{"name": "DSN", "value": "postgres://sync@db/sync"}]
    assert rendered.objects[0]["data"] == {"nightly-sync.yaml": worker_request().definition}


def ingress_of(rendered) -> dict:
    (ingress,) = [obj for obj in rendered.objects if obj["kind"] == "Ingress"]
    return ingress


def test_exposed_http01(exposed_request):
    rendered = render(exposed_request("http01"))
    assert [obj["kind"] for obj in rendered.objects][-1] == "Ingress"
    ingress = ingress_of(rendered)
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["metadata"]["name"] == "octo-dep-d41"
    assert ingress["metadata"]["labels"]["app.kubernetes.io/component"] == "ingress"
    assert ingress["metadata"]["annotations"] == {
        "octo.dev/integration": "Orders API",
        "cert-manager.io/cluster-issuer": "letsencrypt-prod",
    }
    assert ingress["spec"] == {
        "ingressClassName": "traefik",
        "rules": [
            {
                "host": "orders.apps.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "octo-dep-d41", "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ],
        "tls": [{"hosts": ["orders.apps.example.com"], "secretName": "octo-dep-d41-tls"}],
    }
    assert rendered.public_url == "https://orders.apps.example.com"
    assert rendered.wildcard_tls_secret is None


def test_exposed_http01_custom_issuer_class_and_subdomain(exposed_request):
    tls = TlsSettings(mode="http01", cluster_issuer="letsencrypt-staging")
    rendered = render(exposed_request(tls=tls, ingress_class="nginx", subdomain="shop"))
    ingress = ingress_of(rendered)
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-staging"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["host"] == "shop.apps.example.com"
    assert rendered.public_url == "https://shop.apps.example.com"


def test_exposed_wildcard(exposed_request):
    rendered = render(exposed_request("wildcard"))
    ingress = ingress_of(rendered)
    assert "cert-manager.io/cluster-issuer" not in ingress["metadata"]["annotations"]
    assert ingress["spec"]["tls"] == [
        {"hosts": ["orders.apps.example.com"], "secretName": "octo-wildcard-tls"}
    ]
    assert rendered.public_url == "https://orders.apps.example.com"
    assert rendered.wildcard_tls_secret == "octo-wildcard-tls"
    custom = render(exposed_request(tls=TlsSettings(mode="wildcard", wildcard_secret="star-tls")))
    assert ingress_of(custom)["spec"]["tls"][0]["secretName"] == "star-tls"
    assert custom.wildcard_tls_secret == "star-tls"


def test_exposed_without_tls(exposed_request):
    rendered = render(exposed_request("none"))
    ingress = ingress_of(rendered)
    assert "tls" not in ingress["spec"]
    assert "cert-manager.io/cluster-issuer" not in ingress["metadata"]["annotations"]
    assert rendered.public_url == "http://orders.apps.example.com"


def test_not_exposed_has_no_ingress_even_with_base_domain(network_request):
    rendered = render(network_request(base_domain="apps.example.com"))
    assert "Ingress" not in [obj["kind"] for obj in rendered.objects]
    assert rendered.public_url is None


def definition_sha(rendered) -> str:
    return rendered.objects[1]["spec"]["template"]["metadata"]["annotations"]["octo.dev/definition-sha256"]


def test_definition_checksum_follows_the_yaml_only(network_request):
    base = render(network_request())
    assert definition_sha(base) == hashlib.sha256(network_request().definition.encode()).hexdigest()
    assert base.definition_sha256 == definition_sha(base)
    unchanged = render(network_request(replicas=4, image="ghcr.io/octo/runtime:0.1.5", name="Renamed"))
    assert definition_sha(unchanged) == definition_sha(base)
    edited = render(network_request(definition=network_request().definition + "# a comment\n"))
    assert definition_sha(edited) != definition_sha(base)


def test_render_is_deterministic_and_yaml_safe(exposed_request):
    first, second = render(exposed_request()), render(exposed_request())
    assert first.objects == second.objects
    assert list(yaml.safe_load_all(yaml.safe_dump_all(first.objects))) == first.objects


@pytest.mark.parametrize("port", [1, 65535])
def test_port_bounds_accepted(network_request, port):
    definition = f"env:\n  - {{ name: HTTP_PORT, default: {port} }}\n"
    assert render(network_request(definition=definition, bindings={})).http_port == port


def test_managed_vars_declared_in_the_definition_are_never_taken_from_it(network_request, worker_request):
    definition = (
        "env:\n  - { name: HTTP_PORT, required: true }\n  - { name: HTTP_HOST, default: 127.0.0.1 }\n"
    )
    env = container_of(render(network_request(definition=definition, bindings={})))["env"]
    assert env == [{"name": "HTTP_PORT", "value": "8080"}, {"name": "HTTP_HOST", "value": "0.0.0.0"}]
    worker = render(
        worker_request(definition="env:\n  - { name: HTTP_HOST, default: 127.0.0.1 }\n", bindings={})
    )
    assert worker.objects[1]["spec"]["template"]["spec"]["containers"][0]["env"] == []


def test_slug_selector_matches_every_object_including_the_shared_service(exposed_request):
    rendered = render(exposed_request())
    selector = slug_selector("orders")
    assert all(selector.items() <= obj["metadata"]["labels"].items() for obj in rendered.objects)
    assert selector == {"octo.dev/slug": "orders", "app.kubernetes.io/managed-by": "octo.platform"}


# --- resources, probes, node selector, tolerations ---------------------------------------------------------


def pod_spec_of(rendered) -> dict:
    return by_kind_and_name(rendered)["Deployment", f"octo-dep-{rendered.request.deployment_id}"]["spec"][
        "template"
    ]["spec"]


def test_no_pod_options_renders_what_it_always_did(network_request):
    rendered = render(network_request())
    container = container_of(rendered)
    assert "resources" not in container and "livenessProbe" not in container
    assert container["readinessProbe"] == {"tcpSocket": {"port": "http"}}
    assert "nodeSelector" not in pod_spec_of(rendered) and "tolerations" not in pod_spec_of(rendered)


def test_resources_are_rendered_in_canonical_form(network_request):
    resources = {
        "requests": {"cpu": "1000m", "memory": "1024Mi", "ephemeral-storage": "1e3"},
        "limits": {"cpu": 2.5, "memory": "1.5Gi", "ephemeral-storage": 2048},
    }
    container = container_of(render(network_request(resources=resources)))
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1e3"},
        "limits": {"cpu": "2500m", "memory": "1536Mi", "ephemeral-storage": "2048"},
    }


def test_resources_unset_keys_as_the_argspec_fills_them_are_left_out(network_request):
    unset = {"cpu": None, "memory": None, "ephemeral-storage": None}
    resources = {"requests": {**unset, "cpu": "0.25"}, "limits": None}
    assert container_of(render(network_request(resources=resources)))["resources"] == {
        "requests": {"cpu": "250m"}
    }
    empty = {"requests": unset, "limits": None}
    assert "resources" not in container_of(render(network_request(resources=empty)))


def test_equal_quantities_render_the_same_deployment(network_request):
    first = render(network_request(resources={"requests": {"cpu": "1000m", "memory": "1024Mi"}}))
    second = render(network_request(resources={"requests": {"cpu": 1, "memory": "1Gi"}}))
    assert first.objects[1] == second.objects[1]


def test_health_path_adds_http_readiness_and_liveness(network_request):
    probes = {"path": "/healthz", "initial_delay_seconds": 5, "period_seconds": 20, "failure_threshold": 6}
    container = container_of(render(network_request(probes=probes)))
    expected = {
        "httpGet": {"path": "/healthz", "port": "http"},
        "initialDelaySeconds": 5,
        "periodSeconds": 20,
        "failureThreshold": 6,
    }
    assert container["readinessProbe"] == expected
    assert container["livenessProbe"] == expected
    assert container["readinessProbe"] is not container["livenessProbe"]
    assert "&id" not in yaml.safe_dump(container)  # no YAML aliases in diffs


def test_probe_timing_without_path_tunes_the_tcp_readiness_probe(network_request):
    probes = {"path": None, "initial_delay_seconds": None, "period_seconds": 5, "failure_threshold": None}
    container = container_of(render(network_request(probes=probes)))
    assert container["readinessProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 5}
    assert "livenessProbe" not in container


def test_node_selector_and_tolerations(network_request):
    tolerations = [
        {"key": "dedicated", "operator": "Equal", "value": "octo", "effect": "NoSchedule"},
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 30,
        },
        {"operator": "Exists", "key": None, "value": None, "effect": None, "tolerationSeconds": None},
        {"key": "gpu", "value": True},
    ]
    node_selector = {"kubernetes.io/os": "linux", "octo.dev/pool": "integrations", "ssd": True, "zone": 3}
    spec = pod_spec_of(render(network_request(node_selector=node_selector, tolerations=tolerations)))
    assert spec["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        "octo.dev/pool": "integrations",
        "ssd": "true",
        "zone": "3",
    }
    assert spec["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "octo", "effect": "NoSchedule"},
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 30,
        },
        {"operator": "Exists"},
        {"key": "gpu", "value": "true"},
    ]


def test_worker_takes_resources_and_scheduling(worker_request):
    rendered = render(
        worker_request(
            resources={"limits": {"memory": "512Mi"}},
            node_selector={"kubernetes.io/os": "linux"},
            tolerations=[{"operator": "Exists"}],
        )
    )
    spec = rendered.objects[1]["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"] == {"limits": {"memory": "512Mi"}}
    assert "readinessProbe" not in spec["containers"][0]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"] == [{"operator": "Exists"}]


def test_pod_options_read_back_from_the_server_plan_no_change(network_request, server_copy):
    request = network_request(
        resources={"requests": {"cpu": "1000m", "memory": "1024Mi"}, "limits": {"memory": "1.5Gi"}},
        probes={"path": "/healthz", "period_seconds": 15},
        node_selector={"kubernetes.io/os": "linux"},
        tolerations=[{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    )
    objects = render(request).objects
    actions = plan(objects, [server_copy(stamp(obj)) for obj in objects]).actions
    assert [action.op for action in actions] == ["none"] * len(objects)
