"""Every validation error: raised before anything is built, naming the field, never echoing bound values."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render.integration import TlsSettings, render

LITERAL = "s3cr3t-literal-value"
SECRET_KEY = "PRIVATE_KEY_NAME"


def failure(request) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        render(request)
    err = caught.value
    assert isinstance(err, OctoError)
    assert str(err).startswith(f"Failed to validate integration '{request.name}': {err.field}: ")
    assert err.details == {"field": err.field}
    return err


def assert_no_values(err: ValidationError, *values: str) -> None:
    text = f"{err} {err.details} {err.reason}"
    for value in values:
        assert value not in text


# --- definition ------------------------------------------------------------------------------------------


def test_malformed_yaml_names_the_line(network_request):
    definition = "name: x\nenv:\n  - { name: API_KEY\n  - oops: [\n"
    err = failure(network_request(definition=definition, bindings={}))
    assert err.field == "definition"
    assert "malformed YAML at line 4" in str(err)


def test_malformed_yaml_mapping_values(network_request):
    err = failure(network_request(definition="a: b\nc: d: e\n", bindings={}))
    assert "malformed YAML at line 2, column 5: mapping values are not allowed here" in str(err)


@pytest.mark.parametrize(
    ("definition", "field", "words"),
    [
        ("", "definition", "non-empty"),
        ("- a\n- b\n", "definition", "must be a YAML mapping, got a list"),
        ("just text\n", "definition", "must be a YAML mapping, got a string"),
        ("env: {API_KEY: x}\n", "definition.env", "must be a list"),
        ("env: [API_KEY]\n", "definition.env[0]", "must be a mapping"),
        ("env: [{required: true}]\n", "definition.env[0].name", "is required"),
        ("env: [{name: 12}]\n", "definition.env[0].name", "must be a string"),
        (
            "env: [{name: A}, {name: api_key}]\n",
            "definition.env[1].name",
            "'api_key' is not UPPER_SNAKE_CASE",
        ),
        ("env: [{name: A-B}]\n", "definition.env[0].name", "UPPER_SNAKE_CASE"),
        ("env: [{name: A, required: yes please}]\n", "definition.env[0].required", "true or false"),
        ("env: [{name: A, default: [1]}]\n", "definition.env[0].default", "string or a number, got a list"),
        ("env: [{name: A, default: true}]\n", "definition.env[0].default", "got a boolean"),
        ("env: [{name: A}, {name: B}, {name: A}]\n", "definition.env[2].name", "A is declared twice"),
        ("env: [{name: HTTP_PORT, default: 0}]\n", "definition.env[0].default", "1..65535"),
        ("env: [{name: HTTP_PORT, default: 65536}]\n", "definition.env[0].default", "1..65535"),
        ("env: [{name: X}, {name: HTTP_PORT, default: http}]\n", "definition.env[1].default", "1..65535"),
    ],
)
def test_definition_errors(network_request, definition, field, words):
    err = failure(network_request(definition=definition, bindings={}))
    assert err.field == field
    assert words in str(err)


def test_definition_too_large(network_request):
    definition = "name: big\n# " + "x" * 1_000_000 + "\n"
    err = failure(network_request(definition=definition, bindings={}))
    assert err.field == "definition"
    assert "ConfigMap limit" in str(err)


def test_other_top_level_keys_and_env_extras_are_opaque(network_request):
    definition = "whatever: {deep: [1, 2]}\nenv:\n  - { name: A, description: free text }\n"
    assert render(network_request(definition=definition, bindings={})).objects


# --- bindings ---------------------------------------------------------------------------------------------


def test_undeclared_binding_suggests_close_names(network_request):
    bindings = {"API_KEY": {"secret": SECRET_KEY}, "LOG_LEVLE": {"value": LITERAL}}
    err = failure(network_request(bindings=bindings))
    assert err.field == "env.LOG_LEVLE"
    assert "not declared" in str(err)
    assert "did you mean LOG_LEVEL?" in str(err)
    assert_no_values(err, LITERAL, SECRET_KEY)


def test_undeclared_binding_lists_declared_names_without_close_match(worker_request):
    err = failure(worker_request(bindings={"DSN": {"value": "x"}, "ZZZ": {"secret": SECRET_KEY}}))
    assert err.field == "env.ZZZ"
    assert "declared: DSN" in str(err)
    assert_no_values(err, SECRET_KEY)


def test_binding_without_env_section(network_request):
    err = failure(network_request(definition="name: plain\n", bindings={"TOKEN": {"value": LITERAL}}))
    assert err.field == "env.TOKEN"
    assert "it declares none" in str(err)
    assert_no_values(err, LITERAL)


def test_required_without_binding_or_default(network_request):
    definition = "env:\n  - { name: A, required: true }\n  - { name: B, required: true, default: x }\n"
    definition += "  - { name: C, required: true }\n"
    err = failure(network_request(definition=definition, bindings={}))
    assert err.field == "env"
    assert "required env var(s) without a binding or a default: A, C" in str(err)


@pytest.mark.parametrize("name", ["HTTP_PORT", "HTTP_HOST"])
def test_managed_vars_cannot_be_bound(network_request, name):
    bindings = {"API_KEY": {"secret": "K"}, name: {"value": "12345"}}
    err = failure(network_request(bindings=bindings))
    assert err.field == f"env.{name}"
    assert "managed" in str(err)
    assert_no_values(err, "12345")


@pytest.mark.parametrize(
    ("binding", "field", "words"),
    [
        ({"secret": SECRET_KEY, "valeu": LITERAL}, "env.API_KEY", "unknown key(s) valeu"),
        ({}, "env.API_KEY", "needs 'value' or 'secret'"),
        ({"value": None, "secret": None}, "env.API_KEY", "needs 'value' or 'secret'"),
        ([LITERAL], "env.API_KEY", "must be a string, a finite number or a boolean, or a mapping"),
        ({"value": [LITERAL]}, "env.API_KEY.value", "must be a string, a finite number or a boolean"),
        ({"value": {"text": LITERAL}}, "env.API_KEY.value", "must be a string, a finite number or a boolean"),
        ({"secret": "private_key_name"}, "env.API_KEY.secret", "UPPER_SNAKE_CASE"),
        ({"secret": LITERAL}, "env.API_KEY.secret", "UPPER_SNAKE_CASE"),
        ({"value": LITERAL, "secret": "my-key"}, "env.API_KEY.secret", "UPPER_SNAKE_CASE"),
    ],
)
def test_bad_binding(network_request, binding, field, words):
    err = failure(network_request(bindings={"API_KEY": binding}))
    assert err.field == field
    assert words in str(err)
    assert_no_values(err, LITERAL, SECRET_KEY, "private_key_name", "my-key")


def test_bindings_must_be_a_mapping_with_env_names(network_request):
    assert failure(network_request(bindings=[("API_KEY", {"secret": "K"})])).field == "env"
    err = failure(network_request(bindings={"api_key": {"value": LITERAL}}))
    assert err.field == "env"
    assert "UPPER_SNAKE_CASE" in str(err)
    assert_no_values(err, LITERAL)


def test_numeric_literal_is_accepted_as_text(network_request):
    bindings = {"API_KEY": {"secret": "K"}, "RETRIES": {"value": 5}}
    rendered = render(network_request(bindings=bindings))
    assert {"name": "RETRIES", "value": "5"} in rendered.objects[1]["spec"]["template"]["spec"]["containers"][
        0
    ]["env"]


# --- exposure ---------------------------------------------------------------------------------------------


def test_expose_needs_base_domain(network_request):
    err = failure(network_request(expose=True))
    assert err.field == "expose"
    assert "base_domain must be set" in str(err)
    assert "HTTP_PORT" not in str(err)


def test_expose_needs_http_port(worker_request):
    err = failure(worker_request(expose=True, base_domain="apps.example.com"))
    assert err.field == "expose"
    assert "must declare HTTP_PORT" in str(err)
    assert "base_domain" not in str(err)


def test_expose_names_both_missing(worker_request):
    err = failure(worker_request(expose=True))
    assert "must declare HTTP_PORT" in str(err)
    assert "base_domain must be set" in str(err)


# --- names and scalars ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": ""}, "name", "non-empty"),
        ({"name": "   "}, "name", "non-empty"),
        ({"slug": "Orders"}, "slug", "RFC 1123"),
        ({"slug": "orders_eu"}, "slug", "RFC 1123"),
        ({"slug": "-orders"}, "slug", "RFC 1123"),
        ({"slug": "orders-"}, "slug", "RFC 1123"),
        ({"slug": ""}, "slug", "RFC 1123"),
        ({"slug": "a.b"}, "slug", "RFC 1123"),
        ({"slug": "s" * 55}, "slug", "at most 54 characters"),
        ({"deployment_id": "D41"}, "deployment_id", "RFC 1123"),
        ({"deployment_id": None}, "deployment_id", "RFC 1123"),
        ({"deployment_id": "d" * 51}, "deployment_id", "at most 50 characters"),
        ({"namespace": "Octo"}, "namespace", "RFC 1123"),
        ({"namespace": "n" * 64}, "namespace", "RFC 1123"),
        ({"image": ""}, "image", "non-empty"),
        ({"image": "   "}, "image", "non-empty"),
        ({"image": " runtime:1"}, "image", "whitespace"),
        ({"replicas": -1}, "replicas", "integer >= 0"),
        ({"replicas": "2"}, "replicas", "integer >= 0"),
        ({"replicas": True}, "replicas", "integer >= 0"),
        ({"expose": "yes"}, "expose", "true or false"),
        ({"subdomain": "Shop"}, "subdomain", "RFC 1123"),
        ({"subdomain": "shop.eu"}, "subdomain", "RFC 1123"),
        ({"base_domain": "Example.com"}, "base_domain", "DNS name"),
        ({"base_domain": "example.com."}, "base_domain", "DNS name"),
        ({"base_domain": "*.example.com"}, "base_domain", "DNS name"),
        ({"base_domain": ".".join(["a" * 63] * 3 + ["b" * 58])}, "base_domain", "longer than 253"),
        ({"ingress_class": ""}, "ingress_class", "DNS name"),
        ({"tls": TlsSettings(mode="dns01")}, "tls.mode", "http01, wildcard, none"),
        ({"tls": TlsSettings(cluster_issuer="Lets Encrypt")}, "tls.cluster_issuer", "DNS name"),
        ({"tls": TlsSettings(wildcard_secret="")}, "tls.wildcard_secret", "DNS name"),
    ],
)
def test_request_errors(network_request, overrides, field, words):
    request = network_request(**overrides)
    with pytest.raises(ValidationError) as caught:
        render(request)
    assert caught.value.field == field
    assert f"{field}: " in str(caught.value)
    assert words in str(caught.value)


def test_longest_names_fit(network_request):
    rendered = render(network_request(slug="s" * 54, deployment_id="d" * 50, namespace="n" * 63))
    assert len(rendered.objects[3]["metadata"]["name"]) == 63
    assert len(rendered.objects[0]["metadata"]["name"]) == 59


def test_error_what_falls_back_when_name_is_missing(network_request):
    with pytest.raises(ValidationError) as caught:
        render(network_request(name=""))
    assert str(caught.value).startswith("Failed to validate integration: name: ")


# --- resources, probes, node selector, tolerations --------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "field", "words"),
    [
        ("1Gi", "resources", "must be a mapping with requests, limits"),
        ({"request": {"cpu": "1"}}, "resources", "unknown key(s) request; use requests, limits"),
        (
            {"requests": ["cpu"]},
            "resources.requests",
            "must be a mapping with cpu, memory, ephemeral-storage",
        ),
        (
            {"limits": {"gpu": 1}},
            "resources.limits",
            "unknown key(s) gpu; use cpu, memory, ephemeral-storage",
        ),
        ({"requests": {"cpu": "1K"}}, "resources.requests.cpu", "unknown unit"),
        ({"requests": {"cpu": "one"}}, "resources.requests.cpu", "must start with a number"),
        ({"requests": {"cpu": ""}}, "resources.requests.cpu", "must start with a number"),
        ({"requests": {"cpu": "1 m"}}, "resources.requests.cpu", "unknown unit"),
        ({"requests": {"memory": True}}, "resources.requests.memory", "must be a string"),
        ({"requests": {"memory": [1]}}, "resources.requests.memory", "must be a string"),
        ({"limits": {"memory": "-1Gi"}}, "resources.limits.memory", "must not be negative"),
        ({"limits": {"memory": "8Ei"}}, "resources.limits.memory", "out of range"),
        ({"limits": {"cpu": float("nan")}}, "resources.limits.cpu", "finite"),
        (
            {"requests": {"cpu": "1500m"}, "limits": {"cpu": 1}},
            "resources.requests.cpu",
            "1500m is more than the limit 1",
        ),
        (
            {"requests": {"memory": "1Gi"}, "limits": {"memory": "1000Mi"}},
            "resources.requests.memory",
            "1Gi is more than the limit 1000Mi",
        ),
    ],
)
def test_resource_errors(network_request, resources, field, words):
    err = failure(network_request(resources=resources))
    assert err.field == field
    assert words in str(err)


def test_requests_equal_to_limits_in_other_units_are_fine(network_request):
    resources = {"requests": {"cpu": "1000m", "memory": "1Gi"}, "limits": {"cpu": 1, "memory": "1024Mi"}}
    assert render(network_request(resources=resources)).objects[1]


@pytest.mark.parametrize(
    ("probes", "field", "words"),
    [
        ("/healthz", "probes", "must be a mapping with path"),
        ({"health_path": "/healthz"}, "probes", "unknown key(s) health_path"),
        ({"path": "healthz"}, "probes.path", "starting with '/'"),
        ({"path": "/health z"}, "probes.path", "without spaces"),
        ({"path": 5}, "probes.path", "HTTP path"),
        ({"period_seconds": 0}, "probes.period_seconds", "from 1 to 2147483647"),
        ({"failure_threshold": 0}, "probes.failure_threshold", "from 1 to"),
        ({"initial_delay_seconds": -1}, "probes.initial_delay_seconds", "from 0 to"),
        ({"initial_delay_seconds": True}, "probes.initial_delay_seconds", "integer"),
        ({"period_seconds": "10"}, "probes.period_seconds", "integer"),
        ({"period_seconds": 2**31}, "probes.period_seconds", "integer"),
    ],
)
def test_probe_errors(network_request, probes, field, words):
    err = failure(network_request(probes=probes))
    assert err.field == field
    assert words in str(err)


def test_worker_has_nothing_to_probe(worker_request):
    err = failure(worker_request(probes={"path": "/healthz"}))
    assert err.field == "probes"
    assert "a worker (no HTTP_PORT declared) serves nothing to probe" in str(err)
    unset = {"path": None, "initial_delay_seconds": None, "period_seconds": None, "failure_threshold": None}
    assert render(worker_request(probes=unset)).objects[1]  # all unset, as the argspec hands it over


@pytest.mark.parametrize(
    ("node_selector", "field", "words"),
    [
        (["kubernetes.io/os=linux"], "node_selector", "must be a mapping"),
        ({"-os": "linux"}, "node_selector.-os", "is not a label key"),
        ({"Example.com/os": "linux"}, "node_selector.Example.com/os", "is not a label key"),
        ({"a/b/c": "linux"}, "node_selector.a/b/c", "is not a label key"),
        ({"/os": "linux"}, "node_selector./os", "is not a label key"),
        ({"example.com/": "linux"}, "node_selector.example.com/", "is not a label key"),
        ({"os": "linux os"}, "node_selector.os", "must be a label value"),
        ({"os": "x" * 64}, "node_selector.os", "at most 63"),
        ({"os": ["linux"]}, "node_selector.os", "must be a label value"),
        ({"os": None}, "node_selector.os", "must be a label value"),
    ],
)
def test_node_selector_errors(network_request, node_selector, field, words):
    err = failure(network_request(node_selector=node_selector))
    assert err.field == field
    assert words in str(err)


@pytest.mark.parametrize(
    ("toleration", "field", "words"),
    [
        (
            "dedicated",
            "tolerations[1]",
            "must be a mapping with key, operator, value, effect, tolerationSeconds",
        ),
        (
            {"key": "a", "toleration_seconds": 5},
            "tolerations[1]",
            "unknown key(s) toleration_seconds; use key, operator, value, effect, tolerationSeconds",
        ),
        ({"key": "a b"}, "tolerations[1].key", "must be a label key"),
        ({"key": "a", "operator": "In"}, "tolerations[1].operator", "must be one of Equal, Exists"),
        ({"value": "x"}, "tolerations[1].operator", "must be Exists without a key"),
        (
            {"key": "a", "operator": "Exists", "value": "x"},
            "tolerations[1].value",
            "unset with operator Exists",
        ),
        ({"key": "a", "value": "x y"}, "tolerations[1].value", "must be a label value"),
        ({"key": "a", "effect": "Never"}, "tolerations[1].effect", "NoSchedule, PreferNoSchedule, NoExecute"),
        ({"key": "a", "tolerationSeconds": 5}, "tolerations[1].tolerationSeconds", "needs effect NoExecute"),
        (
            {"key": "a", "effect": "NoExecute", "tolerationSeconds": -5},
            "tolerations[1].tolerationSeconds",
            "integer >= 0",
        ),
    ],
)
def test_toleration_errors(network_request, toleration, field, words):
    err = failure(network_request(tolerations=[{"operator": "Exists"}, toleration]))
    assert err.field == field
    assert words in str(err)


def test_tolerations_must_be_a_list(network_request):
    err = failure(network_request(tolerations={"key": "a"}))
    assert err.field == "tolerations"
    assert "must be a list" in str(err)
