"""Options of integration deployments that a bulk call sets once (common.integration_args.SHARED)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  image:
    description: The Octo runtime image.
    type: str
    default: ghcr.io/octo-run/octo:0.1.4
  namespace:
    description: Namespace of the objects; created when missing.
    type: str
    default: octo-dev
  base_domain:
    description: Base domain of the platform, for exposed integrations. Falls back to E(OCTO_BASE_DOMAIN).
    type: str
  tls_mode:
    description:
      - C(http01) gives each Ingress its own certificate from O(cluster_issuer) (cert-manager annotation).
      - C(wildcard) uses the shared wildcard certificate Secret O(wildcard_secret).
      - C(none) serves plain HTTP.
    type: str
    choices: [http01, wildcard, none]
    default: http01
  cluster_issuer:
    description: cert-manager ClusterIssuer for O(tls_mode=http01).
    type: str
    default: letsencrypt-prod
  wildcard_secret:
    description: Secret holding the wildcard certificate, in O(namespace), for O(tls_mode=wildcard).
    type: str
    default: octo-wildcard-tls
  ingress_class:
    description: IngressClass of the Ingresses.
    type: str
    default: traefik
"""

    # Options of one deployment that shape its pods (common.integration_args.DEPLOYMENT).
    POD_OPTIONS = r"""
options:
  resources:
    description:
      - CPU, memory and ephemeral storage C(requests) and C(limits) of the container, as Kubernetes quantities
        (strings such as C(500m), C(1.5), C(256Mi), C(1Gi), or numbers).
      - Rendered in the canonical form the API server stores (C(1000m) as C(1), C(0.5) as C(500m), C(1024Mi) as
        C(1Gi), C(1.5Gi) as C(1536Mi), finer than C(1m) rounded up), so equal values never cause a change.
      - A malformed or negative quantity, or a request above its limit, is an error naming the field.
    type: dict
    suboptions:
      requests:
        description:
          - Amounts the scheduler reserves, by resource name - C(cpu) (C(1) is one core), C(memory) and
            C(ephemeral-storage) (bytes). Another key is an error.
        type: dict
      limits:
        description: Upper bounds, by the same resource names (at least the request).
        type: dict
  probes:
    description:
      - Health probes of a network service (one declaring C(HTTP_PORT)); a worker has none, so setting this for a
        worker is an error.
      - Without O(probes.path) the pod has a TCP readiness probe on the http port, and no liveness probe.
      - Unset timing options keep the Kubernetes defaults; set ones apply to every probe.
    type: dict
    suboptions:
      path:
        description:
          - HTTP path (starting with C(/)) for readiness and liveness probes C(GET <path>) on the http port,
            replacing the TCP readiness probe. A liveness failure restarts the container.
        type: str
      initial_delay_seconds:
        description: Seconds after the container starts before the first probe (Kubernetes default 0).
        type: int
      period_seconds:
        description: Seconds between probes, at least 1 (Kubernetes default 10).
        type: int
      failure_threshold:
        description:
          - Consecutive failures before the pod counts as not ready, or (liveness) is restarted; at least 1
            (Kubernetes default 3).
        type: int
  node_selector:
    description:
      - Node labels the pods must run on, as a mapping of label key to value (C(kubernetes.io/os=linux)).
      - Numbers and booleans are written as text (C(true)).
    type: dict
  tolerations:
    description:
      - Taints the pods tolerate, as Kubernetes tolerations with Kubernetes' own camelCase keys, so they can be
        copied from C(kubectl) output.
      - Keys, operators and effects are validated before any write.
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key; unset, with O(tolerations[].operator=Exists), tolerates every taint.
        type: str
      operator:
        description: C(Equal) (the Kubernetes default) matches O(tolerations[].value); C(Exists) any value.
        type: str
        choices: [Equal, Exists]
      value: {description: Taint value for C(Equal)., type: raw}
      effect:
        description: Taint effect to tolerate; unset tolerates every effect.
        type: str
        choices: [NoSchedule, PreferNoSchedule, NoExecute]
      tolerationSeconds:
        description: With C(effect=NoExecute), how long the pod stays on a node after the taint appears.
        type: int
"""
