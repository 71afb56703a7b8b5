"""Revisions of an integration deployment: what was applied, when, by whom, with what result.

A revision is recorded when an apply changes what runs: the rendered objects without the Deployment's
replicas. It is kept as one ConfigMap ``octo-rev-<id>-<n>`` in the deployment's namespace, holding the inputs
that reproduce it (definition, image, env bindings by name with secret *references*, exposure, TLS, pod
options), never a secret value. Its labels (no managed-by label, no deployment label) keep it out of the
deployment's own objects, so a plan never deletes it and an undeploy keeps the history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import (
    DependencyError,
    ValidationError,
)
from ansible_collections.octo.platform.plugins.module_utils.render import kinds, names
from ansible_collections.octo.platform.plugins.module_utils.render.definition import load_yaml
from ansible_collections.octo.platform.plugins.module_utils.render.integration import (
    IntegrationRequest,
    RenderedIntegration,
    TlsSettings,
)

try:
    import yaml

    IMPORT_ERROR = None
except ImportError as err:  # pragma: no cover - PyYAML ships with ansible-core
    IMPORT_ERROR = err

PREFIX = "octo-rev-"
LABEL_REVISION_OF = "octo.dev/revision-of"
LABEL_REVISION = "octo.dev/revision"
LABEL_RESULT = "octo.dev/revision-result"
COMPONENT = "revision"
DEFAULT_HISTORY_LIMIT = 10
PENDING, ROLLED_OUT, FAILED, ROLLED_BACK, INTERRUPTED = (
    "pending",
    "rolled-out",
    "failed",
    "rolled-back",
    "interrupted",
)
RESULTS = (PENDING, ROLLED_OUT, FAILED, ROLLED_BACK, INTERRUPTED)
PREVIOUS = "previous"
LATEST = "latest"
INPUT_FIELDS = (
    "name",
    "slug",
    "image",
    "env",
    "expose",
    "subdomain",
    "base_domain",
    "ingress_class",
    "resources",
    "node_selector",
    "tolerations",
    "probes",
)


@dataclass(frozen=True)
class Revision:
    deployment_id: str
    number: int
    time: str
    actor: str
    content_hash: str
    result: str
    source: str  # "apply", "rollback of 2", "promote of orders-staging revision 3"
    replicas: int
    inputs: Mapping  # INPUT_FIELDS plus tls, without the definition (StoredInputs when read back)
    definition: str
    image: str | None = None  # stored apart from the inputs, so a summary needs no parse; None in old ones

    @property
    def name(self) -> str:
        return revision_name(self.deployment_id, self.number)

    def summary(self) -> dict:
        """The revision as integration_info and the modules return it (inputs without the definition text)."""
        return {
            "revision": self.number,
            "time": self.time,
            "actor": self.actor,
            "hash": self.content_hash,
            "result": self.result,
            "source": self.source,
            "replicas": self.replicas,
            "image": self.inputs.get("image") if self.image is None else self.image,
            "config_map": self.name,
        }


def revision_name(deployment_id: str, number: int) -> str:
    return f"{PREFIX}{deployment_id}-{number}"


def history_selector(deployment_id: str | None = None) -> str:
    """Label selector of the revisions of one deployment, or of every deployment."""
    return f"{LABEL_REVISION_OF}={deployment_id}" if deployment_id else LABEL_REVISION_OF


def content_hash(item: RenderedIntegration) -> str:
    """sha256 of the rendered objects without the Deployment's replicas: a scale does not change it."""
    objects = []
    for obj in item.objects:
        if obj["kind"] == "Deployment":
            obj = {**obj, "spec": {k: v for k, v in obj["spec"].items() if k != "replicas"}}
        objects.append(obj)
    canonical = json.dumps(objects, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def inputs_of(request: IntegrationRequest) -> dict:
    """The request's inputs that a revision keeps (env bindings hold secret keys, never values)."""
    inputs = {key: _plain(getattr(request, "bindings" if key == "env" else key)) for key in INPUT_FIELDS}
    inputs["tls"] = {
        "mode": request.tls.mode,
        "cluster_issuer": request.tls.cluster_issuer,
        "wildcard_secret": request.tls.wildcard_secret,
    }
    return inputs


def _plain(value):
    """Mappings and lists as plain dicts and lists (what YAML writes and reads back)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def request_of(revision: Revision, namespace: str, deployment_id: str, replicas: int, **overrides):
    """An IntegrationRequest that re-applies ``revision`` (to ``deployment_id``, possibly another one)."""
    inputs = {**revision.inputs, **overrides}
    tls = inputs.get("tls") or {}
    return IntegrationRequest(
        **{key: inputs.get(key) for key in INPUT_FIELDS if key not in ("env", "expose", "ingress_class")},
        deployment_id=deployment_id,
        namespace=namespace,
        definition=revision.definition,
        bindings=inputs.get("env") or {},
        expose=bool(inputs.get("expose")),
        ingress_class=inputs.get("ingress_class") or "traefik",
        replicas=replicas,
        tls=TlsSettings(
            **{k: v for k, v in tls.items() if k in ("mode", "cluster_issuer", "wildcard_secret")}
        ),
    )


def config_map(revision: Revision, namespace: str, slug: str) -> dict:
    """The ConfigMap that stores ``revision``."""
    _require_yaml()
    return {
        **kinds.CONFIG_MAP.header,
        "metadata": {
            "name": revision.name,
            "namespace": namespace,
            "labels": {
                names.LABEL_NAME: names.APP_NAME,
                names.LABEL_COMPONENT: COMPONENT,
                names.LABEL_PART_OF: names.PART_OF,
                names.LABEL_SLUG: slug,
                LABEL_REVISION_OF: revision.deployment_id,
                LABEL_REVISION: str(revision.number),
                LABEL_RESULT: revision.result,
            },
        },
        "data": {
            "revision": str(revision.number),
            "time": revision.time,
            "actor": revision.actor,
            "hash": revision.content_hash,
            "result": revision.result,
            "source": revision.source,
            "replicas": str(revision.replicas),
            **({"image": revision.image} if revision.image is not None else {}),
            "inputs.yaml": yaml.safe_dump(dict(revision.inputs), sort_keys=True, default_flow_style=False),
            "definition.yaml": revision.definition,
        },
    }


def _require_yaml() -> None:
    if IMPORT_ERROR is not None:
        raise DependencyError("yaml", "PyYAML", IMPORT_ERROR)


def result_patch(result: str) -> dict:
    """A merge patch that sets a revision's result (label and data)."""
    return {"metadata": {"labels": {LABEL_RESULT: result}}, "data": {"result": result}}


def settle_patch(expected: str, result: str) -> list[dict]:
    """A JSON patch that sets a revision's result only if it is still ``expected`` (the server refuses it
    otherwise): one request, and a later run's result is never overwritten."""
    label = "/metadata/labels/" + LABEL_RESULT.replace("~", "~0").replace("/", "~1")
    return [
        {"op": "test", "path": "/data/result", "value": expected},
        {"op": "replace", "path": "/data/result", "value": result},
        {"op": "add", "path": label, "value": result},
    ]


class StoredInputs(Mapping):
    """A stored revision's ``inputs.yaml``, parsed on first read: a run that changes nothing reads only the
    revisions' hashes and results (malformed YAML reads as no inputs)."""

    def __init__(self, text: str):
        self._text = text
        self._parsed: dict | None = None

    def _data(self) -> dict:
        if self._parsed is None:
            try:
                loaded = load_yaml(self._text) or {}
            except yaml.YAMLError:
                loaded = {}
            self._parsed = loaded if isinstance(loaded, dict) else {}
        return self._parsed

    def __getitem__(self, key):
        return self._data()[key]

    def __iter__(self):
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


def parse(obj: dict) -> Revision | None:
    """The Revision a ConfigMap stores; None when it is not a well-formed revision."""
    _require_yaml()
    labels = (obj.get("metadata") or {}).get("labels") or {}
    data = obj.get("data") or {}
    try:
        return Revision(
            deployment_id=labels[LABEL_REVISION_OF],
            number=int(data["revision"]),
            time=data.get("time", ""),
            actor=data.get("actor", ""),
            content_hash=data["hash"],
            result=data.get("result", PENDING),
            source=data.get("source", ""),
            replicas=int(data.get("replicas", "1")),
            inputs=StoredInputs(data.get("inputs.yaml", "")),
            definition=data.get("definition.yaml", ""),
            image=data.get("image"),
        )
    except (KeyError, ValueError, TypeError):
        return None


def histories(objects: list[dict]) -> dict[str, list[Revision]]:
    """Revisions by deployment id, oldest first."""
    found: dict[str, list[Revision]] = {}
    for obj in objects:
        revision = parse(obj)
        if revision is not None:
            found.setdefault(revision.deployment_id, []).append(revision)
    return {dep_id: sorted(revs, key=lambda r: r.number) for dep_id, revs in found.items()}


def needs_revision(history: list[Revision], new_hash: str) -> bool:
    """A new revision unless the newest one already has this content."""
    return not history or history[-1].content_hash != new_hash


def pruned(history: list[Revision], limit: int) -> list[Revision]:
    """The oldest revisions beyond ``limit`` (history includes the new one)."""
    return history[: max(0, len(history) - limit)]


def last_good(history: list[Revision], current_hash: str) -> Revision | None:
    """The newest revision that rolled out with other content than ``current_hash``."""
    return next(
        (r for r in reversed(history) if r.result == ROLLED_OUT and r.content_hash != current_hash), None
    )


def pick(history: list[Revision], wanted: object, deployment_id: str, option: str) -> Revision:
    """The revision ``wanted`` names: a number, ``previous`` (the last good one before the newest),
    ``latest``, or None (the newest that rolled out); a clear error naming what exists otherwise."""
    what = f"deployment {deployment_id}"
    if not history:
        raise ValidationError(what, option, "the deployment has no recorded revision")
    if wanted == PREVIOUS:
        found = last_good(history, history[-1].content_hash)
        if found is None:
            raise ValidationError(what, option, "no earlier revision rolled out with other content")
        return found
    if wanted == LATEST:
        return history[-1]
    if wanted is None:  # the newest that rolled out
        found = next((r for r in reversed(history) if r.result == ROLLED_OUT), None)
        if found is None:
            raise ValidationError(what, option, "no revision has rolled out yet")
        return found
    text = str(wanted)
    match = next((r for r in history if text.isdigit() and r.number == int(text)), None)
    if match is None:
        numbers = ", ".join(str(r.number) for r in history)
        raise ValidationError(
            what, option, f"revision {text} not found; recorded: {numbers} (or '{PREVIOUS}')"
        )
    return match


def changed_fields(before: object, after: object, path: str = "") -> list[str]:
    """Dotted paths where ``after`` (what the revision renders) differs from ``before`` (the live projection)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found.extend(
                changed_fields(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
            )
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after)):  # noqa: B905 - lengths checked; Python 3.9
            found.extend(changed_fields(old, new, f"{path}[{index}]"))
        return found
    return [] if before == after else [path or "."]
