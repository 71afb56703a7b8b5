#!/usr/bin/python
"""Verify a CI OIDC token for one deploy action and record its jti so it is never accepted twice."""

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_token
short_description: Verify a CI OIDC deploy token (signature, times, per-action pins) and refuse replays
version_added: 0.1.0
description:
  - The first task of a deploy play launched by CI (see C(playbooks/ci_deploy.yml)). Verifies the token's
    signature against the issuer's JWKS, its C(iss), C(exp), C(nbf) and C(iat) with a bounded clock skew,
    and the pins of the action, so a token minted for one action cannot drive another.
  - Only RS256 and ES256 are accepted. C(alg=none), HMAC algorithms and a key whose type does not match the
    algorithm are refused.
  - The JWKS comes from the issuer's OpenID discovery document (cached on disk for O(jwks_cache_ttl) seconds,
    refreshed once when the token names an unknown C(kid)) or from O(jwks_file). When it cannot be fetched the
    token is refused (fail closed).
  - The token's C(jti) is then recorded, created only if absent, in the replay records shared by all actions;
    a second sighting is refused, whichever action saw it first, also after restarts. Records expire with the
    token and expired ones are pruned (at most 100 per run).
  - Every refusal fails with a message starting C(Failed to verify the deploy token) that gives the reason,
    and a RV(refusal) code; nothing is recorded then.
options:
  token:
    description: The OIDC token (a JWT) minted by the CI job. Never returned or logged.
    type: str
    required: true
  action:
    description:
      - Name of the action the token asks for (for example C(deploy)); lowercase letters, digits and C(-).
      - It names the replay record's first sighting and the deploy result.
    type: str
    required: true
  issuer:
    description: Expected C(iss) claim, for GitHub Actions C(https://token.actions.githubusercontent.com).
    type: str
    required: true
  pins:
    description:
      - Claim values this action requires. C(aud) is required and exact. Other claims are C(sub),
        C(repository), C(repository_owner), C(ref), C(workflow_ref), C(job_workflow_ref), C(environment),
        C(event_name).
      - A value ending in C(*) is a prefix (for claims that vary per run, such as a pull request's
        C(workflow_ref)); any other value must match exactly.
    type: dict
    required: true
  discovery_url:
    description: OpenID discovery document of the issuer. Defaults to O(issuer) + C(/.well-known/openid-configuration).
    type: str
  jwks_file:
    description: A JWKS file to use instead of the discovery document (air-gapped sites). Read on every run.
    type: path
  jwks_cache_dir:
    description: Directory of the JWKS cache on the host that runs the module.
    type: path
    default: ~/.cache/octo-platform/jwks
  jwks_cache_ttl:
    description: Seconds a cached JWKS is used before it is fetched again (0 to 3600; 0 disables the cache).
    type: int
    default: 300
  jwks_timeout:
    description: Seconds for each request to the discovery document and the JWKS.
    type: float
    default: 10
  jwks_validate_certs:
    description: Verify the TLS certificates of the discovery document and JWKS endpoints.
    type: bool
    default: true
  clock_skew:
    description: Seconds of clock difference allowed on C(exp), C(nbf) and C(iat) (0 to 300).
    type: int
    default: 60
  max_token_lifetime:
    description: Longest accepted C(exp) - C(iat) in seconds (60 to 86400); replay records live as long.
    type: int
    default: 3600
  replay_backend:
    description:
      - Where the jti records live. C(local) - one file per jti under O(replay_path), created with O_EXCL
        (the embedded default; one controller). C(cluster) - one ConfigMap per jti in O(namespace), created
        with a plain create that fails on conflict (several controllers). C(gcs) - one object per jti under
        O(replay_gcs.prefix) in the state bucket, created with the precondition C(if_generation_match=0).
    type: str
    choices: [local, cluster, gcs]
    default: local
  replay_path:
    description: Directory of the local replay records.
    type: path
    default: ~/.local/state/octo-platform/deploy-replay
  replay_gcs:
    description: The bucket and Google Cloud credentials of O(replay_backend=gcs).
    type: dict
    suboptions:
      bucket:
        description: The state bucket (see M(octo.platform.gcs_state_bucket)).
        type: str
        required: true
      prefix:
        description: Object name prefix of the records.
        type: str
        default: deploy-gate/jti/
      project:
        description: Project of the bucket. Falls back to E(GCP_PROJECT), E(GOOGLE_CLOUD_PROJECT), E(CLOUDSDK_CORE_PROJECT).
        type: str
      auth_kind:
        description:
          - How to authenticate, as in the gcp_auth options of the other modules. Falls back to E(GCP_AUTH_KIND).
        type: str
        choices: [application, serviceaccount, anonymous]
      service_account_file:
        description: A service account key file. Falls back to E(GCP_SERVICE_ACCOUNT_FILE), E(GOOGLE_APPLICATION_CREDENTIALS).
        type: path
      service_account_contents:
        description: A service account key as JSON. Falls back to E(GCP_SERVICE_ACCOUNT_CONTENTS).
        type: jsonarg
      storage_endpoint:
        description: Cloud Storage API endpoint (a local emulator). Falls back to E(OCTO_STORAGE_ENDPOINT), E(STORAGE_EMULATOR_HOST).
        type: str
  namespace:
    description: Namespace of the replay records with O(replay_backend=cluster); it must exist.
    type: str
    default: octo-dev
extends_documentation_fragment:
  - octo.platform.k8s_auth
attributes:
  check_mode:
    support: full
    description: Verifies the token and refuses a replay, but records nothing.
  diff_mode:
    support: none
    description: Nothing to diff.
  action_group:
    description: Use C(group/octo.platform.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership: [octo.platform.k8s]
notes:
  - The Kubernetes connection options apply to O(replay_backend=cluster) only.
requirements:
  - PyJWT >= 2.8 with cryptography (Python libraries)
  - google-cloud-storage >= 2.16.0 (Python library, for O(replay_backend=gcs))
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Verify the deploy request
  octo.platform.deploy_token:
    token: "{{ ci_deploy_token }}"
    action: deploy
    issuer: https://token.actions.githubusercontent.com
    pins:
      aud: octo-deploy
      repository: octo/integrations
      workflow_ref: octo/integrations/.github/workflows/deploy.yml@refs/heads/main
  register: request

- name: A plan action run for pull requests (the ref varies, so the workflow_ref is a prefix)
  octo.platform.deploy_token:
    token: "{{ ci_deploy_token }}"
    action: plan
    issuer: https://token.actions.githubusercontent.com
    pins:
      aud: octo-plan
      repository: octo/integrations
      sub: "repo:octo/integrations:pull_request"
      workflow_ref: "octo/integrations/.github/workflows/plan.yml@*"
    replay_backend: cluster
    namespace: octo-system

- name: Replay records in the state bucket (several controllers, no cluster access needed for them)
  octo.platform.deploy_token:
    token: "{{ ci_deploy_token }}"
    action: deploy
    issuer: https://token.actions.githubusercontent.com
    pins: {aud: octo-deploy, repository: octo/integrations}
    replay_backend: gcs
    replay_gcs:
      bucket: octo-prod-state
"""

RETURN = r"""
action:
  description: The action the token was verified for.
  returned: success
  type: str
claims:
  description: The verified claims a play may use (never the token); absent claims are left out.
  returned: success
  type: dict
  sample: {repository: octo/integrations, sha: 5f2c1e0, actor: alice, run_id: "4711", jti: 9c1d, exp: 1795000000}
replay_pruned:
  description: Expired replay records deleted by this run.
  returned: success
  type: int
refusal:
  description:
    - Why the token was refused - C(malformed), C(alg-none), C(alg-hmac), C(alg), C(kid), C(unknown-kid),
      C(alg-key-mismatch), C(key), C(signature), C(issuer), C(expired), C(nbf), C(iat), C(missing-claim),
      C(lifetime), C(audience), C(pin), C(missing-jti), C(replay) or C(jwks-unavailable).
  returned: when the token is refused
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.auth.gate import verify
from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.common.args import K8S_AUTH
from ansible_collections.octo.platform.plugins.module_utils.common.gcp_args import GCP_AUTH

GCS_AUTH_KEYS = (
    "project",
    "auth_kind",
    "service_account_file",
    "service_account_contents",
    "storage_endpoint",
)

ARGUMENT_SPEC = {
    "token": {"type": "str", "required": True, "no_log": True},
    "action": {"type": "str", "required": True},
    "issuer": {"type": "str", "required": True},
    "pins": {"type": "dict", "required": True},
    "discovery_url": {"type": "str"},
    "jwks_file": {"type": "path"},
    "jwks_cache_dir": {"type": "path", "default": "~/.cache/octo-platform/jwks"},
    "jwks_cache_ttl": {"type": "int", "default": 300},
    "jwks_timeout": {"type": "float", "default": 10},
    "jwks_validate_certs": {"type": "bool", "default": True},
    "clock_skew": {"type": "int", "default": 60},
    "max_token_lifetime": {"type": "int", "default": 3600, "no_log": False},
    "replay_backend": {"type": "str", "choices": ["local", "cluster", "gcs"], "default": "local"},
    "replay_gcs": {
        "type": "dict",
        "options": {
            "bucket": {"type": "str", "required": True},
            "prefix": {"type": "str", "default": "deploy-gate/jti/"},
            **{key: GCP_AUTH[key] for key in GCS_AUTH_KEYS},
        },
    },
    "replay_path": {"type": "path", "default": "~/.local/state/octo-platform/deploy-replay"},
    "namespace": {"type": "str", "default": "octo-dev"},
}


def main():
    module = AnsibleModule(
        argument_spec={**ARGUMENT_SPEC, **K8S_AUTH},
        mutually_exclusive=[("discovery_url", "jwks_file")],
        supports_check_mode=True,
    )
    outcome = runner.run(verify, module)
    if outcome.failed:
        module.fail_json(**outcome.result)
    module.exit_json(**outcome.result)


if __name__ == "__main__":
    main()
