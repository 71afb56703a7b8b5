"""Helpers of the Google Cloud integration tests."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import GCP_AUTH

PROJECT = "test-project"


def module_params(spec: dict, **values) -> dict:
    """values validated against the module argspec (defaults applied), as AnsibleModule would give them."""
    result = ArgumentSpecValidator({**spec, **GCP_AUTH}).validate(values)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters
