"""Helpers for tests of the Kubernetes modules: params validated by the modules' own argspecs."""

from __future__ import annotations

import pathlib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH, WAIT
from ansible_collections.octo.platform.plugins.module_utils.common.integration_args import INTEGRATION
from ansible_collections.octo.platform.plugins.module_utils.kube import resources as res
from ansible_collections.octo.platform.plugins.module_utils.kube.client import Kube

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "samples"
TEST_IMAGE = "registry.local/octo:1.0"


def module_params(spec: dict, **params) -> dict:
    """Params as AnsibleModule would hand them to main(): validated, with defaults and env fallbacks."""
    result = ArgumentSpecValidator(spec).validate(params)
    if result.error_messages:
        raise ValueError(result.error_messages)
    return result.validated_parameters


def integration_params(kubeconfig: str, namespace: str, **overrides) -> dict:
    params = {"kubeconfig": kubeconfig, "namespace": namespace, "image": TEST_IMAGE, "wait_sleep": 1}
    params.update(overrides)
    return module_params({**INTEGRATION, **K8S_AUTH, **WAIT}, **params)


def orders_args(namespace: str, **overrides) -> dict:
    """Task args of the http-orders sample as deployment orders-1 (a literal API_KEY unless overridden)."""
    return {
        "namespace": namespace,
        "slug": "http-orders",
        "deployment_id": "orders-1",
        "definition_file": str(SAMPLES / "http-orders.yaml"),
        "image": TEST_IMAGE,
        "env": {"API_KEY": "literal-api-key"},
        "wait_sleep": 1,
        **overrides,
    }


def orders_params(kubeconfig: str, namespace: str, **overrides) -> dict:
    """The same deployment as module params for the operation functions."""
    args = orders_args(namespace, **overrides)
    del args["namespace"]
    return integration_params(kubeconfig, namespace, **args)


def sample(name: str) -> str:
    return (SAMPLES / f"{name}.yaml").read_text()


def managed_objects(kube: Kube, namespace: str) -> dict[tuple[str, str], dict]:
    """Every object the collection manages in a namespace, by (kind, name)."""
    found = {}
    for resource in (res.CONFIG_MAP, res.DEPLOYMENT, res.SERVICE, res.INGRESS):
        for obj in kube.list(
            resource, namespace, label_selector="app.kubernetes.io/managed-by=octo.platform"
        ):
            found[(obj["kind"], obj["metadata"]["name"])] = obj
    return found
