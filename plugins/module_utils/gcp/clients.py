"""Build google-cloud clients from the shared gcp_auth options (credentials, project, endpoint)."""

from __future__ import annotations

import json

from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError, OctoError

try:
    import google.auth
    import google.auth.exceptions
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    IMPORT_ERROR = None
except ImportError as err:
    IMPORT_ERROR = err

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def require_google(package: str) -> None:
    """Raise DependencyError unless the google-auth stack imported."""
    if IMPORT_ERROR is not None:
        raise DependencyError("google-auth", package, IMPORT_ERROR)


def auth_kind(auth: dict) -> str:
    """The explicit auth_kind, else serviceaccount when a key is given, else application default."""
    if auth.get("auth_kind"):
        return auth["auth_kind"]
    if auth.get("service_account_file") or auth.get("service_account_contents"):
        return "serviceaccount"
    return "application"


def credentials(auth: dict):
    """Return (credentials, project) for the auth options; the project option wins over the key's."""
    kind = auth_kind(auth)
    try:
        if kind == "anonymous":
            return AnonymousCredentials(), auth.get("project") or "anonymous"
        if kind == "serviceaccount":
            return _service_account(auth)
        creds, project = google.auth.default(scopes=SCOPES)
    except (google.auth.exceptions.GoogleAuthError, ValueError, OSError) as err:
        raise OctoError("load", f"{kind} credentials", _safe_reason(err)) from None
    return creds, auth.get("project") or project


def _service_account(auth: dict):
    if auth.get("service_account_contents"):
        info = json.loads(auth["service_account_contents"])
        creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    elif auth.get("service_account_file"):
        creds = service_account.Credentials.from_service_account_file(
            auth["service_account_file"], scopes=SCOPES
        )
    else:
        raise OctoError(
            "load", "serviceaccount credentials", "set service_account_file or service_account_contents"
        )
    return creds, auth.get("project") or creds.project_id


def _safe_reason(err: Exception) -> str:
    """The error class only for key parsing errors, whose messages could quote key material."""
    return type(err).__name__ if isinstance(err, ValueError) else str(err)


def client_options(endpoint: str | None):
    """ClientOptions pointing at endpoint (a URL; a bare host:port gets http://), or None for the default."""
    if not endpoint:
        return None
    if "://" not in endpoint:
        endpoint = f"http://{endpoint}"
    return ClientOptions(api_endpoint=endpoint.rstrip("/"))


def require_project(project: str | None, what: str) -> str:
    if not project:
        raise OctoError("configure", what, "no project: set project or GCP_PROJECT / GOOGLE_CLOUD_PROJECT")
    return project
