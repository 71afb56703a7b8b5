"""Google Cloud authentication and endpoint options shared by the octo.platform Google Cloud modules."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  project:
    description:
      - Google Cloud project ID.
      - Falls back to E(GCP_PROJECT), E(GOOGLE_CLOUD_PROJECT), E(CLOUDSDK_CORE_PROJECT), then the project of the
        credentials.
    type: str
  auth_kind:
    description:
      - How to authenticate. V(application) uses Application Default Credentials, V(serviceaccount) a service
        account key (O(service_account_file) or O(service_account_contents)), V(anonymous) no credentials
        (local emulators and test doubles only).
      - Falls back to E(GCP_AUTH_KIND); when unset, V(serviceaccount) if a key is given, else V(application).
    type: str
    choices: [application, serviceaccount, anonymous]
  service_account_file:
    description:
      - Path to a service account JSON key.
      - Falls back to E(GCP_SERVICE_ACCOUNT_FILE), then E(GOOGLE_APPLICATION_CREDENTIALS).
    type: path
  service_account_contents:
    description:
      - The service account JSON key itself. Falls back to E(GCP_SERVICE_ACCOUNT_CONTENTS). Never logged.
    type: jsonarg
  storage_endpoint:
    description:
      - Base URL of the Cloud Storage JSON API, for emulators such as fake-gcs-server (C(host:port) means
        C(http://host:port)).
      - Falls back to E(OCTO_STORAGE_ENDPOINT), then E(STORAGE_EMULATOR_HOST). Defaults to the Google endpoint.
    type: str
  dns_endpoint:
    description:
      - Base URL of the Cloud DNS API (the part before C(/dns/v1)), for local doubles.
      - Falls back to E(OCTO_DNS_ENDPOINT). Defaults to the Google endpoint.
    type: str
  request_timeout:
    description:
      - Seconds one Cloud Storage request may take.
    type: float
    default: 30.0
requirements:
  - google-auth (Python library)
"""
