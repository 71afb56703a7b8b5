"""A google-cloud-storage client from the shared gcp_auth options."""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import DependencyError
from ansible_collections.octo.platform.plugins.module_utils.gcp import clients

try:
    from google.cloud import storage

    IMPORT_ERROR = None
except ImportError as err:
    IMPORT_ERROR = err


def storage_client(auth: dict):
    if IMPORT_ERROR is not None:
        raise DependencyError("google-cloud-storage", "google-cloud-storage", IMPORT_ERROR)
    clients.require_google("google-auth")
    creds, project = clients.credentials(auth)
    return storage.Client(
        project=project,
        credentials=creds,
        client_options=clients.client_options(auth.get("storage_endpoint")),
    )
