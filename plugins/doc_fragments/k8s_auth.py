"""Kubernetes authentication options shared by the octo.platform Kubernetes modules."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config) or the in-cluster
        service account.
    type: path
  context:
    description:
      - The kubeconfig context to use. Falls back to E(K8S_AUTH_CONTEXT), then the current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API server; overrides the kubeconfig. Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server. Falls back to E(K8S_AUTH_API_KEY). Never logged.
    type: str
  ca_cert:
    description:
      - CA bundle that signs the API server certificate. Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether to verify the API server certificate. Falls back to E(K8S_AUTH_VERIFY_SSL).
      - When unset, the kubeconfig decides (verification on unless it says otherwise).
    type: bool
    aliases: [verify_ssl]
  request_timeout:
    description:
      - Seconds one API request may take in all, retries included; the error says how long it tried.
      - Defaults to 60.
    type: float
  connect_timeout:
    description:
      - Seconds one attempt to connect to the API server may take (at most O(request_timeout)).
      - Defaults to 10.
    type: float
requirements:
  - kubernetes >= 29.0.0 (Python library)
"""
