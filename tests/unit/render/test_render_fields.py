"""fields: the managedFields fieldsV1 encoding, who owns a field or a list entry, paths as text."""

from __future__ import annotations

import pytest

from ansible_collections.octo.platform.plugins.module_utils.render import fields

OCTO = ("k", (("name", "octo"),))
CONTAINERS = (("f", "spec"), ("f", "template"), ("f", "spec"), ("f", "containers"))
EXTRA_ENV = (*CONTAINERS, OCTO, ("f", "env"), ("k", (("name", "EXTRA"),)))

# As a Kubernetes 1.20 API server records them (copied from a real Deployment after `kubectl set env` and a
# merge patch of spec.replicas by another manager).
DEPLOYMENT = {
    "metadata": {
        "managedFields": [
            {
                "manager": "octo.platform",
                "operation": "Apply",
                "fieldsV1": {
                    "f:spec": {
                        "f:selector": {},
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"octo"}': {
                                        ".": {},
                                        "f:image": {},
                                        "f:env": {
                                            'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}, "f:value": {}}
                                        },
                                        "f:ports": {
                                            'k:{"containerPort":8080,"protocol":"TCP"}': {
                                                ".": {},
                                                "f:containerPort": {},
                                                "f:name": {},
                                            }
                                        },
                                    }
                                }
                            }
                        },
                    }
                },
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "fieldsV1": {"f:status": {"f:conditions": {".": {}, 'k:{"type":"Available"}': {".": {}}}}},
            },
            {"manager": "kubectl-scale", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {
                "manager": "kubectl-set",
                "operation": "Update",
                "fieldsV1": {
                    "f:spec": {
                        "f:template": {
                            "f:spec": {
                                "f:containers": {
                                    'k:{"name":"octo"}': {
                                        "f:env": {
                                            'k:{"name":"EXTRA"}': {".": {}, "f:name": {}, "f:value": {}}
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            },
            {
                "manager": "octo.platform",
                "operation": "Update",
                "fieldsV1": {"f:metadata": {"f:finalizers": {}}},
            },
        ]
    }
}


@pytest.mark.parametrize(
    ("segment", "decoded"),
    [
        ("f:spec", ("f", "spec")),
        ('k:{"name":"octo"}', ("k", (("name", "octo"),))),
        ('k:{"protocol":"TCP","port":8080}', ("k", (("port", 8080), ("protocol", "TCP")))),
        ('v:"example.com/finalizer"', ("v", '"example.com/finalizer"')),
        ("i:3", ("i", 3)),
        (".", fields.SELF),
    ],
)
def test_decode(segment, decoded):
    assert fields.decode(segment) == decoded


def test_unknown_segments_match_nothing():
    owned = fields.owned_paths({"f:spec": {"x:new": {}, "f:replicas": {}}})
    assert owned == {(("f", "spec"), ("?", "x:new")), (("f", "spec"), ("f", "replicas"))}


def test_owned_paths_are_leaves_and_marked_entries():
    owned = fields.owned_paths(
        {"f:spec": {"f:replicas": {}, "f:ports": {'k:{"port":80}': {".": {}, "f:name": {}}}}}
    )
    port = (("f", "spec"), ("f", "ports"), ("k", (("port", 80),)))
    assert owned == {
        (("f", "spec"), ("f", "replicas")),
        (*port, fields.SELF),
        (*port, ("f", "name")),
    }
    assert fields.owned_paths({}) == frozenset()


def test_ownership_merges_the_entries_of_one_manager():
    owned = fields.ownership(DEPLOYMENT)
    assert set(owned) == {"octo.platform", "kube-controller-manager", "kubectl-scale", "kubectl-set"}
    assert (("f", "metadata"), ("f", "finalizers")) in owned["octo.platform"]  # from the Update entry
    assert (*CONTAINERS, OCTO, ("f", "image")) in owned["octo.platform"]  # from the Apply entry
    assert fields.ownership({"metadata": {}}) == {}


def test_owners_of_a_field_are_exact_or_atomic_ancestors():
    owned = fields.ownership(DEPLOYMENT)
    assert fields.owners_of_field(owned, (("f", "spec"), ("f", "replicas"))) == ["kubectl-scale"]
    assert fields.owners_of_field(owned, (*CONTAINERS, OCTO, ("f", "image"))) == ["octo.platform"]
    # spec.selector is atomic: owning it owns what is inside
    selector_label = (("f", "spec"), ("f", "selector"), ("f", "matchLabels"), ("f", "octo.dev/deployment"))
    assert fields.owners_of_field(owned, selector_label) == ["octo.platform"]
    # owning the container entry itself (".") is not owning its fields
    assert fields.owners_of_field(owned, (*CONTAINERS, OCTO, ("f", "args"))) == []


def test_owners_of_an_entry_are_those_owning_anything_in_it():
    owned = fields.ownership(DEPLOYMENT)
    assert fields.owners_of_entry(owned, EXTRA_ENV) == ["kubectl-set"]
    assert fields.owners_of_entry(owned, (*CONTAINERS, OCTO)) == ["kubectl-set", "octo.platform"]
    assert fields.owners_of_entry(owned, (*CONTAINERS, ("k", (("name", "sidecar"),)))) == []


def test_own_managers_are_all_octo_platform_names():
    assert fields.foreign(["octo.platform", "octo.platform-secrets", "kubectl-edit", "helm"]) == [
        "kubectl-edit",
        "helm",
    ]
    assert fields.quoted(["kubectl-edit", "helm"]) == "'kubectl-edit', 'helm'"


def test_paths_as_text():
    assert fields.dotted(
        (*CONTAINERS, OCTO, ("f", "env"), ("k", (("name", "LOG_LEVEL"),)), ("f", "value"))
    ) == ("spec.template.spec.containers[octo].env[LOG_LEVEL].value")
    assert fields.dotted((("f", "spec"), ("f", "replicas"))) == "spec.replicas"
    assert fields.describe_entry(EXTRA_ENV) == "env EXTRA of container octo"
    assert fields.describe_entry((*CONTAINERS, ("k", (("name", "sidecar"),)))) == "container sidecar"
    port = ("k", (("containerPort", 9090), ("protocol", "TCP")))
    assert (
        fields.describe_entry((*CONTAINERS, OCTO, ("f", "ports"), port)) == "port 9090/TCP of container octo"
    )
    assert fields.describe_entry(
        (("f", "spec"), ("f", "ports"), ("k", (("port", 80), ("protocol", "TCP"))))
    ) == ("port 80/TCP")
