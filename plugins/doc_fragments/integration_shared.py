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
