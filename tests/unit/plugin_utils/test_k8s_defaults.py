"""Which group/kubernetes.core.k8s module defaults reach this collection's Kubernetes modules (no cluster)."""

from __future__ import annotations

from types import SimpleNamespace

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.octo.platform.plugins.plugin_utils.k8s_defaults import with_kubernetes_core_defaults

GROUP = "group/kubernetes.core.k8s"


def completed(args: dict, *module_defaults: dict, variables: dict | None = None) -> dict:
    task = SimpleNamespace(args=args, module_defaults=list(module_defaults))
    return with_kubernetes_core_defaults(task, Templar(loader=DataLoader(), variables=variables or {}))


def test_only_connection_options_and_namespace_are_taken():
    group = {"namespace": "apps", "host": "https://k8s:6443", "state": "absent", "persist_config": True}
    assert completed({"slug": "s"}, {GROUP: group}) == {
        "slug": "s",
        "namespace": "apps",
        "host": "https://k8s:6443",
    }


def test_an_option_set_under_any_of_its_names_is_kept():
    group = {"verify_ssl": False, "cert_file": "/certs/client.pem", "namespace": "apps"}
    args = {"validate_certs": True, "namespace": "mine"}
    assert completed(args, {GROUP: group}) == {**args, "cert_file": "/certs/client.pem"}


def test_inner_module_defaults_win_and_values_are_templated():
    outer = {GROUP: {"namespace": "play", "context": trust_as_template("{{ cluster }}")}}
    inner = {GROUP: {"namespace": trust_as_template("{{ team }}-ns")}}  # as a playbook's strings are
    result = completed({}, outer, inner, variables={"team": "billing", "cluster": "prod"})
    assert result == {"namespace": "billing-ns", "context": "prod"}


def test_other_groups_and_modules_are_left_to_ansible_core():
    defaults = {
        "group/octo.platform.k8s": {"namespace": "ours"},
        "kubernetes.core.k8s_info": {"namespace": "x"},
    }
    assert completed({"wait": False}, defaults) == {"wait": False}
