"""Kubernetes authentication options shared by the octo.platform Kubernetes modules."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a mapping (as C(kubernetes.core) accepts it).
      - Falls back to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG), then C(~/.kube/config) or the in-cluster
        service account.
    type: raw
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
  username:
    description:
      - User name for HTTP basic auth, with O(password). Falls back to E(K8S_AUTH_USERNAME).
      - Given, it replaces the kubeconfig's credentials; O(api_key) wins over it.
      - Kubernetes 1.19 and later have no basic auth of their own; it serves API servers behind an
        authenticating proxy.
    type: str
  password:
    description:
      - Password for HTTP basic auth, with O(username). Falls back to E(K8S_AUTH_PASSWORD). Never logged.
    type: str
  client_cert:
    description:
      - Client certificate (PEM file) to authenticate with; overrides the kubeconfig's.
        Falls back to E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Private key (PEM file) of O(client_cert). Falls back to E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
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
  proxy:
    description:
      - URL of an HTTP proxy to reach the API server through (HTTPS is tunnelled with CONNECT).
        Falls back to E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains and CIDRs reached without O(proxy). Falls back to E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description: Headers sent to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description: C(user:password) for the proxy (C(Proxy-Authorization)). Never logged.
        type: str
      basic_auth:
        description: C(user:password) sent as C(Authorization) to the proxy. Never logged.
        type: str
      user_agent:
        description: C(User-Agent) sent to the proxy.
        type: str
  impersonate_user:
    description:
      - User to act as (C(Impersonate-User)); the authenticated user needs the RBAC verb C(impersonate).
        Falls back to E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Groups to act as (one C(Impersonate-Group) header each); requires O(impersonate_user).
        Falls back to E(K8S_AUTH_IMPERSONATE_GROUPS) (comma-separated).
    type: list
    elements: str
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
  - urllib3 >= 2.0 (Python library)
"""
