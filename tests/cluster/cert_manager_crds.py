"""Regenerate the cert-manager CRDs of the local cluster (tests/cluster/crds/*cert-manager.io_*.yaml).

The schemas come from the typed cert-manager models on PyPI, ``cloudcoil-models-cert-manager`` (Pydantic models
generated from cert-manager's own CRDs; version in SOURCE below). The cert-manager chart and its CRD files are not
obtainable from the registries here, so this turns each model's JSON schema into a structural openAPIV3Schema:
references inlined, optional (``anyOf [X, null]``) fields made plain, int-or-string and free-form fields marked as
Kubernetes expects, titles and defaults dropped. Enums, required fields and types stay, so the API server rejects
what cert-manager's own schema rejects.

Run it only to update the vendored files (the tests read the YAML files, not this script):

    python3 -m venv /tmp/cm && /tmp/cm/bin/pip install cloudcoil-models-cert-manager==1.17.1.0 pyyaml
    /tmp/cm/bin/python tests/cluster/cert_manager_crds.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

SOURCE = "cloudcoil-models-cert-manager 1.17.1.0 (PyPI): cert-manager v1.17 CRD schemas"
CRDS = Path(__file__).resolve().parent / "crds"
# (module, class, group, plural, scope, short names); the acme module's Challenge is the ACME one in an Order's
# status, its ChallengeModel the Challenge resource.
KINDS = (
    ("v1", "Certificate", "cert-manager.io", "certificates", "Namespaced", ["cert", "certs"]),
    ("v1", "CertificateRequest", "cert-manager.io", "certificaterequests", "Namespaced", ["cr", "crs"]),
    ("v1", "Issuer", "cert-manager.io", "issuers", "Namespaced", []),
    ("v1", "ClusterIssuer", "cert-manager.io", "clusterissuers", "Cluster", []),
    ("acme", "Order", "acme.cert-manager.io", "orders", "Namespaced", []),
    ("acme", "ChallengeModel", "acme.cert-manager.io", "challenges", "Namespaced", []),
)
MAX_DEPTH = 40
KEPT = ("type", "format", "enum", "required", "minimum", "maximum", "pattern", "minLength", "maxLength")


class IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as yamllint's default expects."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def structural(node: dict, defs: dict, depth: int = 0) -> dict:
    """One JSON-schema node of a Pydantic model as a structural CRD schema node."""
    if "$ref" in node:
        return structural(defs[node["$ref"].split("/")[-1]], defs, depth + 1)
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        types = {o.get("type") for o in options}
        if types == {"integer", "string"}:
            return {"x-kubernetes-int-or-string": True}
        if len(options) == 1:
            return structural(options[0], defs, depth)
        return {"x-kubernetes-preserve-unknown-fields": True}
    if depth > MAX_DEPTH or not node.get("type"):
        return {"x-kubernetes-preserve-unknown-fields": True}
    out = {key: node[key] for key in KEPT if key in node}
    if "properties" in node:
        out["properties"] = {
            name: structural(sub, defs, depth + 1) for name, sub in node["properties"].items()
        }
    if node.get("type") == "array":
        out["items"] = structural(node.get("items") or {}, defs, depth + 1)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and "properties" not in node:
        out["additionalProperties"] = structural(extra, defs, depth + 1)
    elif node.get("type") == "object" and "properties" not in node:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def crd(model, group: str, plural: str, scope: str, short_names: list[str]) -> dict:
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    properties = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": structural(schema["properties"]["spec"], defs),
    }
    if "status" in schema["properties"]:
        properties["status"] = structural(schema["properties"]["status"], defs)
    kind = model.__name__.removesuffix("Model")
    names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short_names:
        names["shortNames"] = short_names
    names["categories"] = ["cert-manager"]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}", "labels": {"app.kubernetes.io/name": "cert-manager"}},
        "spec": {
            "group": group,
            "names": names,
            "scope": scope,
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["spec"],
                            "properties": properties,
                        }
                    },
                }
            ],
        },
    }


def main() -> None:
    from cloudcoil.models.cert_manager import v1
    from cloudcoil.models.cert_manager.acme import v1 as acme

    modules = {"v1": v1, "acme": acme}
    for module, name, group, plural, scope, short_names in KINDS:
        body = crd(getattr(modules[module], name), group, plural, scope, short_names)
        header = f"# cert-manager {body['spec']['names']['kind']} ({group}/v1), {scope.lower()}; generated by tests/cluster/cert_manager_crds.py\n# from {SOURCE}.\n"
        text = header + yaml.dump(body, Dumper=IndentedDumper, sort_keys=False, width=120)
        (CRDS / f"{group}_{plural}.yaml").write_text("---\n" + text)


if __name__ == "__main__":
    main()
