"""Argument specs of platform_backup, platform_restore and platform_release (with GCP_AUTH for the state bucket)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

POSTGRES = {
    "login_host": {"type": "str", "default": "127.0.0.1"},
    "login_port": {"type": "int", "default": 5432},
    "login_user": {"type": "str", "default": "postgres"},
    "login_password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["PGPASSWORD"])},
    "pg_bin_dir": {"type": "path"},
    "database": {"type": "str", "required": True},
    "bucket": {"type": "str", "required": True},
    "encryption_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["OCTO_BACKUP_KEY"])},
}

BACKUP = {
    **POSTGRES,
    "keep_daily": {"type": "int", "default": 7},
    "keep_weekly": {"type": "int", "default": 4},
}

RESTORE = {
    **POSTGRES,
    "backup": {"type": "str", "default": "latest"},
    "target_database": {"type": "str"},
    "force": {"type": "bool", "default": False},
}

RELEASE = {
    "backend": {"type": "str", "default": "local", "choices": ["local", "gcs"]},
    "path": {"type": "path"},
    "bucket": {"type": "str"},
    "object_name": {"type": "str", "default": "octo/platform-releases.json"},
    "images": {"type": "dict"},
    "backup": {"type": "str"},
    "keep": {"type": "int", "default": 20},
}
