"""Argument specs of the Google Cloud modules; GCP_AUTH has the doc fragment gcp_auth."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

GCP_AUTH = {
    "project": {
        "type": "str",
        "fallback": (env_fallback, ["GCP_PROJECT", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"]),
    },
    "auth_kind": {
        "type": "str",
        "choices": ["application", "serviceaccount", "anonymous"],
        "fallback": (env_fallback, ["GCP_AUTH_KIND"]),
    },
    "service_account_file": {
        "type": "path",
        "fallback": (env_fallback, ["GCP_SERVICE_ACCOUNT_FILE", "GOOGLE_APPLICATION_CREDENTIALS"]),
    },
    "service_account_contents": {
        "type": "jsonarg",
        "no_log": True,
        "fallback": (env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"]),
    },
    "storage_endpoint": {
        "type": "str",
        "fallback": (env_fallback, ["OCTO_STORAGE_ENDPOINT", "STORAGE_EMULATOR_HOST"]),
    },
    "dns_endpoint": {"type": "str", "fallback": (env_fallback, ["OCTO_DNS_ENDPOINT"])},
    "request_timeout": {"type": "float", "default": 30.0},
}

GCP_AUTH_KEYS = tuple(GCP_AUTH)

DNS_RECORD = {
    "managed_zone": {"type": "str", "required": True, "aliases": ["zone"]},
    "records": {
        "type": "list",
        "elements": "dict",
        "options": {
            "name": {"type": "str", "required": True},
            "type": {"type": "str", "default": "A"},
            "ttl": {"type": "int", "default": 300},
            "rrdatas": {"type": "list", "elements": "str", "default": []},
        },
    },
    "name": {"type": "str"},
    "type": {"type": "str", "default": "A"},
    "ttl": {"type": "int", "default": 300},
    "rrdatas": {"type": "list", "elements": "str", "default": []},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "retries": {"type": "int", "default": 3},
    "wait_timeout": {"type": "int", "default": 120},
    "wait_sleep": {"type": "float", "default": 1.0},
}

STATE_BUCKET = {
    "name": {"type": "str", "required": True},
    "location": {"type": "str", "default": "EU"},
    "storage_class": {"type": "str", "default": "STANDARD"},
    "labels": {"type": "dict", "default": {}},
    "keep_noncurrent_versions": {"type": "int"},
    "allowed_members": {"type": "list", "elements": "str", "default": []},
    "fix_drift": {"type": "bool", "default": False},
}

PLATFORM_CREDENTIALS = {
    "backend": {"type": "str", "default": "local", "choices": ["local", "gcs"]},
    "path": {"type": "path"},
    "bucket": {"type": "str"},
    "object_name": {"type": "str", "default": "octo/platform-credentials.json.enc"},
    "encryption_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["OCTO_STATE_KEY"])},
    "oidc_client_secret": {"type": "str", "no_log": True},
    "secret_bytes": {"type": "int", "default": 32, "no_log": False},  # a length
    "conflict_retries": {"type": "int", "default": 3},
}


def gcp_auth_params(params: dict) -> dict:
    """The Google Cloud auth subset of a module's params."""
    return {key: params.get(key) for key in GCP_AUTH_KEYS}
