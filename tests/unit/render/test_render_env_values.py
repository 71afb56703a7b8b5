"""Env values of any scalar type become Kubernetes text; other shapes are refused naming the field, never echoed.

Numbers and booleans reach the module from plain YAML (``LOG_LEVEL: 5``) and from templates, which
ansible-core 2.19+ keeps native (``"{{ 2 + 3 }}"`` is the int 5), bare or inside ``{value: ...}``.
"""

from __future__ import annotations

import math

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.common.integration_args import INTEGRATION
from ansible_collections.octo.platform.plugins.module_utils.kube.integration import build_request
from ansible_collections.octo.platform.plugins.module_utils.kube.integrations import render_all
from ansible_collections.octo.platform.plugins.module_utils.render.integration import render
from ansible_collections.octo.platform.plugins.modules.integrations import ARGUMENT_SPEC as BULK_SPEC

SENTINEL = "sentinel-9f3a"

SCALARS = [
    (5, "5"),
    (0, "0"),
    (-3, "-3"),
    (12345678901234567890, "12345678901234567890"),
    (True, "true"),
    (False, "false"),
    (1.5, "1.5"),
    (0.1, "0.1"),
    (2.0, "2.0"),
    (-0.25, "-0.25"),
    (1e20, "1e+20"),
    ("debug", "debug"),
    ("5", "5"),
    ("True", "True"),
]


def env_of(rendered) -> dict:
    [container] = rendered.objects[1]["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry.get("value") for entry in container["env"]}


@pytest.mark.parametrize(("value", "text"), SCALARS)
@pytest.mark.parametrize("form", ["bare", "value"])
def test_scalar_is_rendered_as_text(network_request, value, text, form):
    binding = value if form == "bare" else {"value": value}
    rendered = render(network_request(bindings={"API_KEY": {"secret": "K"}, "LOG_LEVEL": binding}))
    assert env_of(rendered)["LOG_LEVEL"] == text
    assert isinstance(env_of(rendered)["LOG_LEVEL"], str)


def test_every_rendered_env_value_is_a_string(network_request):
    bindings = {"API_KEY": {"secret": "K"}, "LOG_LEVEL": True, "RETRIES": 7, "REGION": {"value": 0.5}}
    values = env_of(render(network_request(bindings=bindings)))
    assert values == {
        "API_KEY": None,
        "LOG_LEVEL": "true",
        "RETRIES": "7",
        "REGION": "0.5",
        "HTTP_PORT": "9090",
        "HTTP_HOST": "0.0.0.0",
    }


@pytest.mark.parametrize(
    ("binding", "field"),
    [
        ([SENTINEL], "env.LOG_LEVEL"),
        ((SENTINEL,), "env.LOG_LEVEL"),
        ({SENTINEL}, "env.LOG_LEVEL"),
        (math.nan, "env.LOG_LEVEL"),
        (math.inf, "env.LOG_LEVEL"),
        ({"value": [SENTINEL]}, "env.LOG_LEVEL.value"),
        ({"value": {"nested": SENTINEL}}, "env.LOG_LEVEL.value"),
        ({"value": -math.inf}, "env.LOG_LEVEL.value"),
    ],
)
def test_non_scalars_are_refused_naming_the_field(network_request, binding, field):
    with pytest.raises(ValidationError) as caught:
        render(network_request(bindings={"API_KEY": {"secret": "K"}, "LOG_LEVEL": binding}))
    err = caught.value
    assert err.field == field
    assert "must be a string, a finite number or a boolean" in str(err)
    assert SENTINEL not in f"{err} {err.details}"


def test_a_mapping_other_than_the_binding_form_is_refused(network_request):
    with pytest.raises(ValidationError) as caught:
        render(network_request(bindings={"API_KEY": {"secret": "K"}, "LOG_LEVEL": {"level": SENTINEL}}))
    assert caught.value.field == "env.LOG_LEVEL"
    assert "unknown key(s) level; use 'value' and/or 'secret'" in str(caught.value)
    assert SENTINEL not in str(caught.value)


def test_null_binding_still_needs_a_value(network_request):
    with pytest.raises(ValidationError) as caught:
        render(network_request(bindings={"API_KEY": {"secret": "K"}, "LOG_LEVEL": None}))
    assert caught.value.field == "env.LOG_LEVEL"
    assert "needs 'value' or 'secret'" in str(caught.value)


# --- the module paths: params as the argspec hands them over (the old code raised "'int' object is not iterable")


def test_single_form_params(network_request):
    env = {"API_KEY": {"secret": "K"}, "LOG_LEVEL": 5, "RETRIES": True, "REGION": {"value": 1.5}}
    params = {
        "slug": "orders",
        "deployment_id": "d41",
        "definition": network_request().definition,
        "env": env,
    }
    result = ArgumentSpecValidator(INTEGRATION).validate(params)
    assert not result.error_messages
    values = env_of(render(build_request(result.validated_parameters)))
    assert (values["LOG_LEVEL"], values["RETRIES"], values["REGION"]) == ("5", "true", "1.5")


def test_bulk_form_params(network_request):
    envs = (
        {"API_KEY": {"secret": "K"}, "LOG_LEVEL": False},
        {"API_KEY": {"secret": "K"}, "RETRIES": {"value": 0}, "LOG_LEVEL": 2.5},
    )
    definition = network_request().definition
    items = [
        {"slug": "orders", "id": f"d{index}", "definition": definition, "env": env}
        for index, env in enumerate(envs)
    ]
    result = ArgumentSpecValidator(BULK_SPEC).validate({"integrations": items})
    assert not result.error_messages
    first, second = (env_of(rendered) for rendered in render_all(result.validated_parameters))
    assert first["LOG_LEVEL"] == "false"
    assert (second["RETRIES"], second["LOG_LEVEL"]) == ("0", "2.5")


def test_bulk_form_names_the_item_and_field(network_request):
    env = {"API_KEY": {"secret": "K"}, "LOG_LEVEL": [SENTINEL]}
    item = {"slug": "orders", "id": "d1", "definition": network_request().definition, "env": env}
    result = ArgumentSpecValidator(BULK_SPEC).validate({"integrations": [item]})
    with pytest.raises(OctoError) as caught:
        render_all(result.validated_parameters)
    assert "integrations[0] (orders/d1)" in str(caught.value)
    assert "env.LOG_LEVEL" in str(caught.value)
    assert SENTINEL not in str(caught.value)
