#!/usr/bin/python
"""Install, configure, upgrade and remove k3s on the target host."""

from __future__ import annotations

DOCUMENTATION = r"""
module: k3s
short_description: Install, configure, upgrade and remove k3s on the target host
version_added: 0.1.0
description:
  - Runs on the target host (use C(become)); Python 3.9+ standard library only.
  - Installs a pinned k3s version from O(release_url) with the binary checked against the release's
    C(sha256sum-<arch>.txt), or from a local O(airgap_binary) checked against O(airgap_sha256). A mismatch fails
    before anything is installed. No install script is run.
  - Writes C(/etc/rancher/k3s/config.yaml) (mode 0600) from O(config); a server gets C(write-kubeconfig-mode 0600)
    and C(secrets-encryption true) unless O(config) says otherwise. Unknown keys are passed through; a
    world-readable kubeconfig mode, disabled secrets encryption or anonymous API access warn.
  - Writes the systemd unit and its environment file, reloads systemd, enables and starts the unit, and restarts it
    only when the binary, the config, the unit or the environment changed. Then waits (O(wait_timeout)) until the
    API answers C(/readyz) and the node is Ready (a server) or the unit is active (an agent); on timeout it fails
    with the unit's last journal lines.
  - A newer O(version) upgrades (binary replaced, restart, wait); an older one fails unless O(allow_downgrade).
  - O(state=absent) stops and disables the unit and removes it, its environment file, the binary and the
    C(kubectl)/C(crictl)/C(ctr) links to it; the data directories only with O(purge).
options:
  state:
    description: Whether k3s is installed.
    type: str
    choices: [present, absent]
    default: present
  role:
    description: A C(server) (control plane) or an C(agent) joining O(server).
    type: str
    choices: [server, agent]
    default: server
  version:
    description: The k3s version, for example C(v1.30.4+k3s1). Required with O(state=present).
    type: str
  release_url:
    description: Base URL of the releases; the binary is C(<release_url>/<version>/k3s).
    type: str
    default: https://github.com/k3s-io/k3s/releases/download
  airgap_binary:
    description: A k3s binary already on the host, installed instead of downloading one.
    type: path
  airgap_sha256:
    description: The sha256 of O(airgap_binary); required with it.
    type: str
  airgap_images:
    description: An images tarball on the host, copied to C(/var/lib/rancher/k3s/agent/images/).
    type: path
  config:
    description: The keys of config.yaml (k3s' flags without the leading dashes), e.g. C(tls-san), C(disable).
    type: dict
    default: {}
  server:
    description: URL of the server to join (agents and joining HA servers), e.g. C(https://10.0.0.1:6443).
    type: str
  token:
    description: The join token (agents and joining servers; a first server may set its own). Never logged.
    type: str
  environment:
    description: Variables of the unit's environment file, e.g. C(HTTP_PROXY).
    type: dict
    default: {}
  allow_downgrade:
    description: Allow installing a version older than the installed one.
    type: bool
    default: false
  purge:
    description: With O(state=absent), also remove C(/var/lib/rancher/k3s), C(/etc/rancher/k3s) and the kubelet data.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for readiness after a (re)start.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    description: Reports the version action and the files that would change; downloads and writes nothing.
  diff_mode:
    support: full
    description: config.yaml before and after, with the token masked.
author:
  - octo.platform maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: A single-node k3s server
  octo.platform.k3s:
    version: v1.30.4+k3s1
    config:
      tls-san: ["203.0.113.10"]
      node-external-ip: 203.0.113.10
  become: true

- name: An agent joining it
  octo.platform.k3s:
    role: agent
    version: v1.30.4+k3s1
    server: https://10.0.0.2:6443
    token: "{{ k3s_token }}"
  become: true
"""

RETURN = r"""
action:
  description: What happened to the binary, C(install), C(upgrade), C(downgrade) or C(none).
  returned: state=present
  type: str
version:
  description: The version now installed.
  returned: state=present
  type: str
previous_version:
  description: The version found before the run (null when none was).
  returned: state=present
  type: str
node_name:
  description: The node's name (C(node-name) of the config, else the host name).
  returned: state=present
  type: str
restarted:
  description: Whether a running k3s was restarted.
  returned: always
  type: bool
changed_files:
  description: The files written (config.yaml, unit, environment file).
  returned: state=present
  type: list
  elements: str
removed:
  description: The paths removed with O(state=absent).
  returned: state=absent
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.octo.platform.plugins.module_utils.common import runner
from ansible_collections.octo.platform.plugins.module_utils.host.k3s_node import converge

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "role": {"type": "str", "choices": ["server", "agent"], "default": "server"},
    "version": {"type": "str"},
    "release_url": {"type": "str", "default": "https://github.com/k3s-io/k3s/releases/download"},
    "airgap_binary": {"type": "path"},
    "airgap_sha256": {"type": "str"},
    "airgap_images": {"type": "path"},
    "config": {"type": "dict", "default": {}},
    "server": {"type": "str"},
    "token": {"type": "str", "no_log": True},
    "environment": {"type": "dict", "default": {}},
    "allow_downgrade": {"type": "bool", "default": False},
    "purge": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_together=[("airgap_binary", "airgap_sha256")],
        supports_check_mode=True,
    )
    outcome = runner.run(converge, module)
    for warning in outcome.result.pop("warnings", []):
        module.warn(warning)
    (module.fail_json if outcome.failed else module.exit_json)(**outcome.result)


if __name__ == "__main__":
    main()
