"""Fixtures of the Google Cloud integration tests: local servers only, no Kubernetes cluster needed."""

from __future__ import annotations

import base64
import itertools
import os

import pytest
from gcp_support import PROJECT
from support.fake_cloud_dns import FakeCloudDns
from support.fake_gcs import FakeGcs

_names = itertools.count(1)


@pytest.fixture(scope="session")
def fake_gcs():
    with FakeGcs(project=PROJECT) as server:
        yield server


@pytest.fixture
def fake_dns():
    with FakeCloudDns(pending_reads=2) as server:
        server.create_zone(PROJECT, "octo-zone", "example.test.")
        yield server


@pytest.fixture
def unique():
    """A fresh lower-case name per call: unique("bucket") -> "bucket-7"."""
    return lambda prefix: f"{prefix}-{os.getpid()}-{next(_names)}"


@pytest.fixture
def state_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def gcs_env(fake_gcs) -> dict:
    return {"GCP_PROJECT": PROJECT, "GCP_AUTH_KIND": "anonymous", "OCTO_STORAGE_ENDPOINT": fake_gcs.url}


@pytest.fixture
def dns_env(fake_dns) -> dict:
    return {"GCP_PROJECT": PROJECT, "GCP_AUTH_KIND": "anonymous", "OCTO_DNS_ENDPOINT": fake_dns.url}
