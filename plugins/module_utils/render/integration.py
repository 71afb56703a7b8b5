"""Render the Kubernetes objects of one integration deployment, validating the whole request first.

A network service (the definition declares HTTP_PORT) gets a ConfigMap, a Deployment, its own ClusterIP
Service, the Service shared by every deployment of the slug and, when exposed, an Ingress. A worker (no
HTTP_PORT) gets only the ConfigMap and the Deployment: nothing listens, so there is nothing to route to,
no URL, no probe and no HTTP_PORT/HTTP_HOST env.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import kinds, names, urls
from ansible_collections.octo.platform.plugins.module_utils.render.definition import (
    HTTP_PORT,
    Definition,
    parse_definition,
)
from ansible_collections.octo.platform.plugins.module_utils.render.env import resolve_env, scalar_text
from ansible_collections.octo.platform.plugins.module_utils.render.quantity import canonical, resource_value

TLS_MODES = ("http01", "wildcard", "none")
CONTAINER_NAME = "octo"
PORT_NAME = "http"
DEFINITION_VOLUME = "definition"
RESOURCE_LISTS = ("requests", "limits")
RESOURCE_NAMES = ("cpu", "memory", "ephemeral-storage")
TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# probes option -> (probe field, least value); unset ones keep the Kubernetes defaults (0, 10, 3)
PROBE_TIMING = {
    "initial_delay_seconds": ("initialDelaySeconds", 0),
    "period_seconds": ("periodSeconds", 1),
    "failure_threshold": ("failureThreshold", 1),
}
PROBE_KEYS = ("path", *PROBE_TIMING)
MAX_INT32 = 2**31 - 1
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_HTTP_PATH = re.compile(r"/[\x21-\x7e]*")


@dataclass(frozen=True)
class TlsSettings:
    mode: str = "http01"  # http01 | wildcard | none
    cluster_issuer: str = "letsencrypt-prod"
    wildcard_secret: str = "octo-wildcard-tls"


@dataclass(frozen=True)
class IntegrationRequest:
    name: str
    slug: str
    deployment_id: str
    definition: str
    image: str
    namespace: str = "octo-dev"
    bindings: Mapping[str, object] = field(default_factory=dict)  # a literal or {value, secret} per var
    replicas: int = 1
    expose: bool = False
    subdomain: str | None = None
    base_domain: str | None = None
    tls: TlsSettings = TlsSettings()
    ingress_class: str = "traefik"
    resources: Mapping | None = None  # {requests: {cpu, memory, ephemeral-storage}, limits: {...}}
    node_selector: Mapping | None = None
    tolerations: list | None = None  # Kubernetes tolerations, camelCase keys
    probes: Mapping | None = None  # {path, initial_delay_seconds, period_seconds, failure_threshold}

    @property
    def object_name(self) -> str:
        return names.deployment_object_name(self.deployment_id)

    @property
    def host(self) -> str | None:
        if self.base_domain is None:
            return None
        return f"{self.subdomain or self.slug}.{self.base_domain}"


@dataclass(frozen=True)
class RenderedIntegration:
    request: IntegrationRequest
    objects: list[dict]  # ConfigMap, Deployment, Service dep, Service int, Ingress (those that apply)
    http_port: int | None
    internal_url: str | None  # http://octo-int-<slug>.<ns>:<port>
    public_url: str | None  # https://<host> (http:// when tls mode none)
    secret_keys: list[str]  # octo-secrets keys referenced
    selector: dict  # labels that find every object of this deployment (not the shared Service)
    definition_sha256: str = ""
    wildcard_tls_secret: str | None = None  # must exist in the namespace when set


def render(request: IntegrationRequest) -> RenderedIntegration:
    """Validate ``request`` and build its objects; raises ValidationError on bad input."""
    fail = _failer(request)
    _check_request(request, fail)
    definition = parse_definition(request.definition, fail)
    env = resolve_env(definition, request.bindings, fail)
    _check_exposure(request, definition, fail)

    port = definition.http_port
    objects = [_config_map(request, definition), _deployment(request, definition, env.entries)]
    internal_url = public_url = wildcard_secret = None
    if port is not None:
        shared = shared_service(request.namespace, request.slug, port)
        objects.extend([_deployment_service(request, port), shared])
        internal_url = urls.internal_url(shared)
    if request.expose:
        ingress = _ingress(request)
        objects.append(ingress)
        public_url = urls.public_url(ingress)
        if request.tls.mode == "wildcard":
            wildcard_secret = request.tls.wildcard_secret
    return RenderedIntegration(
        request=request,
        objects=objects,
        http_port=port,
        internal_url=internal_url,
        public_url=public_url,
        secret_keys=env.secret_keys,
        selector=deployment_selector(request.deployment_id),
        definition_sha256=definition.sha256,
        wildcard_tls_secret=wildcard_secret,
    )


def deployment_selector(deployment_id: str) -> dict:
    """Labels carried by every object (and pod, ReplicaSet) of one deployment, except the shared Service."""
    return {names.LABEL_DEPLOYMENT: deployment_id, names.LABEL_MANAGED_BY: names.MANAGED_BY}


def slug_selector(slug: str) -> dict:
    """Labels carried by every object of every deployment of a slug, the shared Service included."""
    return {names.LABEL_SLUG: slug, names.LABEL_MANAGED_BY: names.MANAGED_BY}


# --- validation -------------------------------------------------------------------------------------------


def _failer(request: IntegrationRequest):
    what = (
        f"integration '{request.name}'" if isinstance(request.name, str) and request.name else "integration"
    )

    def fail(field_name: str, reason: str) -> ValidationError:
        return ValidationError(what, field_name, reason)

    return fail


def _check_request(request: IntegrationRequest, fail) -> None:
    if not isinstance(request.name, str) or not request.name.strip():
        raise fail("name", "must be a non-empty string")
    _check_label(request.slug, "slug", names.integration_service_name, fail)
    _check_label(request.deployment_id, "deployment_id", names.tls_secret_name, fail)
    if not names.is_dns_label(request.namespace):
        raise fail("namespace", "must be an RFC 1123 label (lowercase a-z, 0-9, '-', at most 63 chars)")
    if not isinstance(request.image, str) or not request.image.strip():
        raise fail("image", "must be a non-empty container image reference")
    if request.image != request.image.strip():
        raise fail("image", "must not have leading or trailing whitespace")
    if isinstance(request.replicas, bool) or not isinstance(request.replicas, int) or request.replicas < 0:
        raise fail("replicas", "must be an integer >= 0")
    if not isinstance(request.expose, bool):
        raise fail("expose", "must be true or false")
    if request.subdomain is not None and not names.is_dns_label(request.subdomain):
        raise fail("subdomain", "must be an RFC 1123 label (lowercase a-z, 0-9, '-', at most 63 chars)")
    if request.base_domain is not None and not names.is_dns_name(request.base_domain):
        raise fail("base_domain", "must be a lowercase DNS name without a trailing dot")
    if request.host is not None and not names.is_dns_name(request.host):
        raise fail("base_domain", f"{request.host} is longer than {names.MAX_DNS_NAME} characters")
    if not names.is_dns_name(request.ingress_class):
        raise fail("ingress_class", "must be a lowercase DNS name")
    _check_tls(request.tls, fail)


def _check_label(value, field_name: str, longest_name, fail) -> None:
    if not names.is_dns_label(value):
        raise fail(
            field_name, "must be an RFC 1123 label (lowercase a-z, 0-9, '-', alphanumeric at both ends)"
        )
    if len(longest_name(value)) > names.MAX_LABEL:
        limit = names.MAX_LABEL - len(longest_name(""))
        raise fail(field_name, f"is too long: at most {limit} characters so that object names fit in 63")


def _check_tls(tls: TlsSettings, fail) -> None:
    if tls.mode not in TLS_MODES:
        raise fail("tls.mode", f"must be one of {', '.join(TLS_MODES)}")
    if not names.is_dns_name(tls.cluster_issuer):
        raise fail("tls.cluster_issuer", "must be a lowercase DNS name (a ClusterIssuer name)")
    if not names.is_dns_name(tls.wildcard_secret):
        raise fail("tls.wildcard_secret", "must be a lowercase DNS name (a Secret name)")


def _check_exposure(request: IntegrationRequest, definition: Definition, fail) -> None:
    if not request.expose:
        return
    missing = []
    if definition.http_port is None:
        missing.append(f"the definition must declare {HTTP_PORT} (a worker serves no HTTP)")
    if request.base_domain is None:
        missing.append("base_domain must be set")
    if missing:
        raise fail("expose", "cannot expose: " + " and ".join(missing))


# --- objects ------------------------------------------------------------------------------------------------


def _labels(request: IntegrationRequest, component: str) -> dict:
    return {
        names.LABEL_NAME: names.APP_NAME,
        names.LABEL_INSTANCE: request.object_name,
        names.LABEL_COMPONENT: component,
        names.LABEL_PART_OF: names.PART_OF,
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_SLUG: request.slug,
        names.LABEL_DEPLOYMENT: request.deployment_id,
    }


def _metadata(request: IntegrationRequest, name: str, labels: dict, **annotations: str) -> dict:
    return {
        "name": name,
        "namespace": request.namespace,
        "labels": labels,
        "annotations": {names.ANNOTATION_INTEGRATION: request.name, **annotations},
    }


def _http_port(port: int) -> dict:
    return {"name": PORT_NAME, "port": port, "targetPort": PORT_NAME, "protocol": "TCP"}


def _config_map(request: IntegrationRequest, definition: Definition) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(request, request.object_name, _labels(request, "definition")),
        "data": {f"{request.slug}.yaml": definition.text},
    }


def _deployment(request: IntegrationRequest, definition: Definition, env: list[dict]) -> dict:
    fail = _failer(request)
    container: dict = {
        "name": CONTAINER_NAME,
        "image": request.image,
        "env": env,
        "volumeMounts": [{"name": DEFINITION_VOLUME, "mountPath": names.DEFINITION_DIR, "readOnly": True}],
    }
    if resources := _resources(request.resources, fail):
        container["resources"] = resources
    if definition.http_port is not None:
        container["ports"] = [{"name": PORT_NAME, "containerPort": definition.http_port, "protocol": "TCP"}]
        container.update(_probes(request.probes, fail))
    elif _options(request.probes, "probes", PROBE_KEYS, fail):
        raise fail("probes", f"a worker (no {HTTP_PORT} declared) serves nothing to probe")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(request, request.object_name, _labels(request, "runtime")),
        "spec": {
            "replicas": request.replicas,
            "selector": {"matchLabels": {names.LABEL_DEPLOYMENT: request.deployment_id}},
            "template": {
                "metadata": {
                    "labels": _labels(request, "runtime"),
                    "annotations": {
                        names.ANNOTATION_INTEGRATION: request.name,
                        names.ANNOTATION_DEFINITION_SHA: definition.sha256,
                    },
                },
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": DEFINITION_VOLUME, "configMap": {"name": request.object_name}}],
                    **_scheduling(request, fail),
                },
            },
        },
    }


# --- pod options: resources, probes, scheduling -------------------------------------------------------------


def _options(value: object, field_name: str, allowed: tuple, fail) -> dict:
    """A mapping option without its unset (None) keys; another type or an unknown key is an error."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail(field_name, f"must be a mapping with {', '.join(allowed)}")
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise fail(field_name, f"unknown key(s) {', '.join(unknown)}; use {', '.join(allowed)}")
    return {key: item for key, item in value.items() if item is not None}


def _resources(resources: object, fail) -> dict:
    """Requests and limits in the canonical quantity form the API server stores; a request above its limit
    is an error."""
    rendered: dict = {}
    parsed = {}
    for list_name, quantities in _options(resources, "resources", RESOURCE_LISTS, fail).items():
        field_name = f"resources.{list_name}"
        for name, text in _options(quantities, field_name, RESOURCE_NAMES, fail).items():
            try:
                quantity = resource_value(text)
            except ValueError as err:
                raise fail(f"{field_name}.{name}", str(err)) from None
            if quantity.value < 0:
                raise fail(f"{field_name}.{name}", "must not be negative")
            parsed[list_name, name] = quantity
            rendered.setdefault(list_name, {})[name] = canonical(quantity)
    for name in RESOURCE_NAMES:
        request, limit = parsed.get(("requests", name)), parsed.get(("limits", name))
        if request is not None and limit is not None and request.value > limit.value:
            reason = f"{canonical(request)} is more than the limit {canonical(limit)}"
            raise fail(f"resources.requests.{name}", reason)
    return rendered


def _probes(probes: object, fail) -> dict:
    """Readiness on the http port (TCP, or HTTP GET of ``path``, which also adds a liveness probe)."""
    options = _options(probes, "probes", PROBE_KEYS, fail)
    timing = {
        probe_field: _integer(options[key], f"probes.{key}", least, fail)
        for key, (probe_field, least) in PROBE_TIMING.items()
        if key in options
    }
    path = options.get("path")
    if path is None:
        return {"readinessProbe": {"tcpSocket": {"port": PORT_NAME}, **timing}}
    if not isinstance(path, str) or not _HTTP_PATH.fullmatch(path):
        raise fail("probes.path", "must be an HTTP path starting with '/', without spaces")
    return {
        "readinessProbe": {"httpGet": {"path": path, "port": PORT_NAME}, **timing},
        "livenessProbe": {"httpGet": {"path": path, "port": PORT_NAME}, **timing},
    }


def _integer(value: object, field_name: str, least: int, fail) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_INT32:
        raise fail(field_name, f"must be an integer from {least} to {MAX_INT32}")
    return value


def _scheduling(request: IntegrationRequest, fail) -> dict:
    """``nodeSelector`` and ``tolerations`` of the pod spec, when set."""
    spec = {}
    if request.node_selector:
        spec["nodeSelector"] = _node_selector(request.node_selector, fail)
    if request.tolerations:
        if not isinstance(request.tolerations, list):
            raise fail("tolerations", "must be a list of tolerations")
        spec["tolerations"] = [
            _toleration(item, f"tolerations[{index}]", fail) for index, item in enumerate(request.tolerations)
        ]
    return spec


def _node_selector(selector: object, fail) -> dict:
    if not isinstance(selector, Mapping):
        raise fail("node_selector", "must be a mapping of node label to value")
    rendered = {}
    for key, value in selector.items():
        if not _is_label_key(key):
            raise fail(f"node_selector.{key}", "is not a label key such as kubernetes.io/os")
        rendered[key] = _label_value(value, f"node_selector.{key}", fail)
    return rendered


def _toleration(item: object, field_name: str, fail) -> dict:
    options = _options(item, field_name, TOLERATION_KEYS, fail)
    key, operator, effect = options.get("key"), options.get("operator", "Equal"), options.get("effect")
    if key is not None and not _is_label_key(key):
        raise fail(f"{field_name}.key", "must be a label key such as node.kubernetes.io/unreachable")
    if operator not in TOLERATION_OPERATORS:
        raise fail(f"{field_name}.operator", f"must be one of {', '.join(TOLERATION_OPERATORS)}")
    if key is None and operator != "Exists":
        raise fail(f"{field_name}.operator", "must be Exists without a key (it then tolerates every taint)")
    if "value" in options:
        if operator == "Exists":
            raise fail(f"{field_name}.value", "must be unset with operator Exists")
        options["value"] = _label_value(options["value"], f"{field_name}.value", fail)
    if effect is not None and effect not in TAINT_EFFECTS:
        raise fail(f"{field_name}.effect", f"must be one of {', '.join(TAINT_EFFECTS)}")
    if "tolerationSeconds" in options:
        if effect != "NoExecute":
            raise fail(f"{field_name}.tolerationSeconds", "needs effect NoExecute")
        seconds = options["tolerationSeconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise fail(f"{field_name}.tolerationSeconds", "must be an integer >= 0")
    return options


def _is_label_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    prefix, slash, name = key.rpartition("/")
    return bool(_LABEL_NAME.fullmatch(name)) and (not slash or names.is_dns_name(prefix))


def _label_value(value: object, field_name: str, fail) -> str:
    reason = "must be a label value: at most 63 of a-z A-Z 0-9 - _ ., alphanumeric at both ends"
    text = scalar_text(value, field_name, fail, reason)
    if text and not _LABEL_NAME.fullmatch(text):
        raise fail(field_name, reason)
    return text


def _deployment_service(request: IntegrationRequest, port: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(request, request.object_name, _labels(request, "service")),
        "spec": {
            "type": "ClusterIP",
            "selector": {names.LABEL_DEPLOYMENT: request.deployment_id},
            "ports": [_http_port(port)],
        },
    }


def shared_service(namespace: str, slug: str, port: int) -> dict:
    """The Service ``octo-int-<slug>`` shared by every deployment of a slug: it carries only slug-level fields,
    so every deployment of the slug renders the very same object."""
    labels = {
        names.LABEL_NAME: names.APP_NAME,
        names.LABEL_COMPONENT: "integration-service",
        names.LABEL_PART_OF: names.PART_OF,
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_SLUG: slug,
    }
    return {
        **kinds.SERVICE.header,
        "metadata": {"name": names.integration_service_name(slug), "namespace": namespace, "labels": labels},
        "spec": {"type": "ClusterIP", "selector": {names.LABEL_SLUG: slug}, "ports": [_http_port(port)]},
    }


def _ingress(request: IntegrationRequest) -> dict:
    tls = request.tls
    annotations = {names.ANNOTATION_CLUSTER_ISSUER: tls.cluster_issuer} if tls.mode == "http01" else {}
    backend = {"service": {"name": request.object_name, "port": {"name": PORT_NAME}}}
    spec: dict = {
        "ingressClassName": request.ingress_class,
        "rules": [
            {
                "host": request.host,
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
            }
        ],
    }
    if tls.mode != "none":
        secret = names.tls_secret_name(request.deployment_id) if tls.mode == "http01" else tls.wildcard_secret
        spec["tls"] = [{"hosts": [request.host], "secretName": secret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(request, request.object_name, _labels(request, "ingress"), **annotations),
        "spec": spec,
    }
