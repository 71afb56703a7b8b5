"""Errors that modules report as "Failed to <verb> <what>: <reason>"."""

from __future__ import annotations


class OctoError(Exception):
    """A failure a module reports to the user; ``details`` become extra result keys."""

    def __init__(self, verb: str, what: str, reason: str, **details):
        super().__init__(f"Failed to {verb} {what}: {reason}")
        self.verb = verb
        self.what = what
        self.reason = reason
        self.details = details


class ValidationError(OctoError):
    """Bad input, detected before the first write; ``field`` names the offending option."""

    def __init__(self, what: str, field: str, reason: str, **details):
        super().__init__("validate", what, f"{field}: {reason}", field=field, **details)
        self.field = field


class DependencyError(OctoError):
    """A Python library the module needs is missing on the host that runs it."""

    def __init__(self, library: str, package: str, error: Exception | None = None):
        super().__init__(
            "import",
            library,
            f"install the Python package '{package}' on the host that runs this module"
            + (f" ({error})" if error else ""),
        )


class ItemFailed(OctoError):
    """Re-raises a per-item failure whose message is already "Failed to ..."."""

    def __init__(self, message: str, **details):
        super().__init__("", "", message, **details)

    def __str__(self) -> str:
        return self.reason
