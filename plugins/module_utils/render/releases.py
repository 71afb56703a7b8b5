"""Pure release history of the platform: the images each deploy ran, kept in the platform state.

A release is ``{"number", "time", "images": {component: reference}, "backup"}``; ``backup`` names the database
backup taken just before that release was deployed, so rolling back to the release before it restores that
backup. Recording the same images as the latest release changes nothing.
"""

from __future__ import annotations

from ansible_collections.octo.platform.plugins.module_utils.common.errors import ValidationError

WHAT = "platform releases"
SCHEMA_VERSION = 1


def reference(image) -> str:
    """repository:tag or repository@digest from the platform_*_image dict (or a reference string)."""
    if isinstance(image, str):
        return image
    if image.get("digest"):
        return f"{image['repository']}@{image['digest']}"
    return f"{image.get('repository')}:{image.get('tag') or 'latest'}"


def empty() -> dict:
    return {"version": SCHEMA_VERSION, "releases": []}


def check(state: dict, what: str) -> dict:
    if (
        not isinstance(state, dict)
        or state.get("version") != SCHEMA_VERSION
        or not isinstance(state.get("releases"), list)
    ):
        raise ValidationError(what, "version", f"unsupported release history (want version {SCHEMA_VERSION})")
    return state


def record(state: dict, images: dict, now: str, backup: str | None, keep: int) -> tuple[dict, bool]:
    """(new state, whether a release was added); the oldest beyond keep are dropped."""
    if keep < 2:
        raise ValidationError(WHAT, "keep", "must be 2 or more (a rollback needs the release before)")
    if not images:
        raise ValidationError(WHAT, "images", "give the images of the release to record")
    wanted = {name: reference(image) for name, image in sorted(images.items())}
    releases = list(state["releases"])
    if releases and releases[-1]["images"] == wanted:
        return state, False
    number = releases[-1]["number"] + 1 if releases else 1
    releases.append({"number": number, "time": now, "images": wanted, "backup": backup})
    return {**state, "releases": releases[-keep:]}, True


def rollback_target(state: dict) -> dict:
    """The release before the latest one, with the backup the latest one was deployed after."""
    releases = state["releases"]
    if len(releases) < 2:
        raise ValidationError(WHAT, "releases", "no release before the current one to roll back to")
    return {**releases[-2], "restore_backup": releases[-1].get("backup")}


def images_as_settings(images: dict) -> dict:
    """{component: reference} as platform_<component>_image dicts (repository with tag or digest)."""
    found = {}
    for name, ref in images.items():
        repository, at, digest = ref.partition("@")
        if at:
            found[name] = {"repository": repository, "digest": digest}
            continue
        head, _sep, tag = ref.rpartition(":")
        found[name] = (
            {"repository": head, "tag": tag} if "/" not in tag else {"repository": ref, "tag": "latest"}
        )
    return found
