"""Parse an integration definition (YAML text) and the env vars it declares.

Only ``env:`` is read; every other top-level key (flows, ...) belongs to the runtime and stays opaque.
Unknown keys inside an env entry (``description``, ...) are tolerated for the same reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError
from ansible_collections.octo.platform.plugins.module_utils.render.names import is_env_name

try:
    import yaml

    IMPORT_ERROR = None
except ImportError as err:
    IMPORT_ERROR = err

HTTP_PORT = "HTTP_PORT"
HTTP_HOST = "HTTP_HOST"
DEFAULT_HTTP_PORT = 8080
MAX_DEFINITION_BYTES = 1_000_000  # a ConfigMap holds at most 1 MiB

# (field, reason) -> exception; the caller decides what the error is about.
Fail = Callable[[str, str], Exception]


@dataclass(frozen=True)
class EnvDeclaration:
    name: str
    required: bool = False
    default: str | None = None  # numbers are kept as their string form: env values are strings


@dataclass(frozen=True)
class Definition:
    text: str
    env: tuple[EnvDeclaration, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def declaration(self, name: str) -> EnvDeclaration | None:
        return next((decl for decl in self.env if decl.name == name), None)

    @property
    def http_port(self) -> int | None:
        """The port a network service listens on; None for a worker (HTTP_PORT not declared)."""
        decl = self.declaration(HTTP_PORT)
        if decl is None:
            return None
        return DEFAULT_HTTP_PORT if decl.default is None else int(decl.default)


def parse_definition(text: object, fail: Fail) -> Definition:
    if not isinstance(text, str) or not text.strip():
        raise fail("definition", "must be non-empty YAML text")
    if len(text.encode("utf-8")) > MAX_DEFINITION_BYTES:
        raise fail("definition", f"is larger than {MAX_DEFINITION_BYTES} bytes (the ConfigMap limit)")
    if IMPORT_ERROR is not None:
        raise DependencyError("yaml", "PyYAML", IMPORT_ERROR)
    try:
        document = load_yaml(text)
    except yaml.YAMLError as err:
        raise fail("definition", _yaml_problem(err)) from None
    if not isinstance(document, dict):
        raise fail("definition", f"must be a YAML mapping, got {_type_name(document)}")
    entries = document.get("env")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise fail("definition.env", f"must be a list of env declarations, got {_type_name(entries)}")
    env: list[EnvDeclaration] = []
    for index, entry in enumerate(entries):
        decl = _declaration(entry, f"definition.env[{index}]", fail)
        if any(seen.name == decl.name for seen in env):
            raise fail(f"definition.env[{index}].name", f"{decl.name} is declared twice")
        env.append(decl)
    definition = Definition(text, tuple(env))
    _check_http_port(definition, fail)
    return definition


def load_yaml(text: str) -> object:
    """safe_load through libyaml when PyYAML has it (about 10x faster: a bulk call parses every item's
    definition); a document it refuses is parsed again by the pure loader, so errors read the same."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # CSafeLoader: the safe loader in C
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _declaration(entry: object, field: str, fail: Fail) -> EnvDeclaration:
    if not isinstance(entry, dict):
        raise fail(field, f"must be a mapping with 'name', got {_type_name(entry)}")
    name = entry.get("name")
    if not isinstance(name, str):
        raise fail(f"{field}.name", "is required and must be a string")
    if not is_env_name(name):
        raise fail(f"{field}.name", f"{name!r} is not UPPER_SNAKE_CASE")
    required = entry.get("required")
    if required is None:
        required = False
    if not isinstance(required, bool):
        raise fail(f"{field}.required", "must be true or false")
    default = entry.get("default")
    if default is not None and (isinstance(default, bool) or not isinstance(default, (str, int, float))):
        raise fail(f"{field}.default", f"must be a string or a number, got {_type_name(default)}")
    return EnvDeclaration(name, required, None if default is None else str(default))


def _check_http_port(definition: Definition, fail: Fail) -> None:
    decl = definition.declaration(HTTP_PORT)
    if decl is None or decl.default is None:
        return
    index = definition.env.index(decl)
    try:
        port = int(decl.default)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise fail(f"definition.env[{index}].default", f"{HTTP_PORT} must be a port number in 1..65535")


def _yaml_problem(err: Exception) -> str:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or getattr(err, "context", None) or "cannot be parsed"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"malformed YAML{where}: {problem}"


def _type_name(value: object) -> str:
    return {type(None): "nothing", dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
