"""Filter `traefik_objects`: the `traefik` role's settings as the objects it applies (render.traefik)."""

from __future__ import annotations

from dataclasses import fields

from ansible.errors import AnsibleFilterError

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError
from ansible_collections.octo.platform.plugins.module_utils.render import traefik

_KNOWN = {f.name for f in fields(traefik.TraefikSettings)}


def traefik_objects(settings: dict) -> list[dict]:
    unknown = sorted(set(settings) - _KNOWN)
    if unknown:
        raise AnsibleFilterError(
            f"Failed to validate the Traefik settings: unknown setting(s) {', '.join(unknown)}"
        )
    values = dict(settings)
    values["trusted_ips"] = tuple(values.get("trusted_ips") or ())
    values["redirect_domain"] = values.get("redirect_domain") or None
    try:
        return traefik.objects(traefik.validate(traefik.TraefikSettings(**values)))
    except ValidationError as err:
        raise AnsibleFilterError(str(err)) from None


class FilterModule:
    def filters(self):
        return {"traefik_objects": traefik_objects}
