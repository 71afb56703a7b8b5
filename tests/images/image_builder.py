"""Container images without a registry: a one-layer docker-save tarball, imported with `ctr`.

`build_image` writes the docker-save layout (`manifest.json`, `<config digest>.json`,
`<layer digest>/layer.tar`) that `ctr images import` reads. The output is deterministic (fixed
mtimes, uid/gid 0, sorted entries): the same inputs give the same bytes, hence the same image digest.
Tarballs are cached under ~/.cache/octo-platform/images/ (OCTO_CACHE_DIR moves it) by a hash of the
inputs, so a second build with the same inputs writes nothing.

    from images.image_builder import build_image, import_image
    tar = build_image("octo.local/hello:1", {"/hello": (binary, 0o755)}, ["/hello"])
    import_image(tar, Path("/run/containerd/containerd.sock"))
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

CACHE_DIR = Path(os.environ.get("OCTO_CACHE_DIR", "~/.cache/octo-platform")).expanduser() / "images"
# name[:tag] with an optional registry host; the tag is required so the image name is explicit.
REFERENCE = re.compile(r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._/-][a-z0-9]+)*:\w[\w.-]{0,127}$")
DIRECTORY_MODE = 0o755
IMPORT_TIMEOUT_SECONDS = 120


class ImageError(Exception):
    """An image could not be built or imported."""


def build_image(
    reference: str,
    files: dict[str, tuple[bytes, int]],
    entrypoint: list[str],
    env: dict[str, str] | None = None,
    out_dir: Path | None = None,
) -> Path:
    """Write the image `reference` with one layer holding `files` (path -> (content, mode)); return its path."""
    layer_paths = _validate(reference, files, entrypoint, env or {})
    key = _input_hash(reference, files, entrypoint, env or {})
    target_dir = Path(out_dir) if out_dir is not None else CACHE_DIR
    target = target_dir / f"{re.sub(r'[^A-Za-z0-9.-]', '_', reference)}-{key[:16]}.tar"
    if target.is_file():
        return target
    layer = _layer_tar({layer_paths[path]: files[path] for path in files})
    image = _image_tar(reference, layer, _config(layer, entrypoint, env or {}))
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".tar.{os.getpid()}.partial")
    partial.write_bytes(image)
    partial.replace(target)
    return target


def import_image(tar: Path, containerd_socket: Path) -> None:
    """Import the tarball into containerd's `k8s.io` namespace (the one the kubelet's CRI uses)."""
    ctr = shutil.which("ctr")
    if not ctr:
        raise ImageError(f"Failed to import image {tar}: ctr is not installed (apt-get install containerd)")
    argv = [ctr, "--address", str(containerd_socket), "-n", "k8s.io", "images", "import", str(tar)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=IMPORT_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise ImageError(f"Failed to import image {tar}: {(result.stderr or result.stdout).strip()}")


def _validate(reference: str, files: dict, entrypoint: list[str], env: dict[str, str]) -> dict[str, str]:
    """Check every input before anything is written; return each file's path inside the layer."""

    def fail(reason: str) -> ImageError:
        return ImageError(f"Failed to build image {reference!r}: {reason}")

    if not REFERENCE.match(reference):
        raise fail("the reference must look like host/name:tag (lowercase name, explicit tag)")
    if not entrypoint or not all(isinstance(arg, str) for arg in entrypoint):
        raise fail("the entrypoint must be a non-empty list of strings")
    if any(not isinstance(k, str) or not k or "=" in k or not isinstance(v, str) for k, v in env.items()):
        raise fail("env must map names without '=' to strings")
    if not files:
        raise fail("the image needs at least one file")
    layer_paths = {}
    for path, entry in files.items():
        parts = PurePosixPath(path).parts
        relative = [part for part in parts if part != "/"]
        if not relative or any(part in (".", "..") for part in relative):
            raise fail(f"bad file path {path!r}")
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], bytes)):
            raise fail(f"file {path!r} must be given as (content bytes, mode)")
        if not isinstance(entry[1], int) or not 0 <= entry[1] <= 0o7777:
            raise fail(f"file {path!r} has a bad mode {entry[1]!r}")
        layer_paths[path] = "/".join(relative)
    if len(set(layer_paths.values())) != len(layer_paths):
        raise fail("two file paths name the same file")
    return layer_paths


def _input_hash(reference: str, files: dict, entrypoint: list[str], env: dict[str, str]) -> str:
    digest = hashlib.sha256()
    header = {"reference": reference, "entrypoint": entrypoint, "env": sorted(env.items())}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for path in sorted(files):
        content, mode = files[path]
        digest.update(f"\0{path}\0{mode}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def _add(archive: tarfile.TarFile, name: str, mode: int, content: bytes | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if content is None:
        info.type = tarfile.DIRTYPE
        archive.addfile(info)
    else:
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))


def _tar(entries: list[tuple[str, int, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, mode, content in entries:
            _add(archive, name, mode, content)
    return buffer.getvalue()


def _layer_tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """The layer: every parent directory (0755) then the files, in sorted order."""
    directories = {
        str(parent) for path in files for parent in PurePosixPath(path).parents if str(parent) != "."
    }
    entries: list[tuple[str, int, bytes | None]] = [(d + "/", DIRECTORY_MODE, None) for d in directories]
    entries += [(path, mode, content) for path, (content, mode) in files.items()]
    return _tar(sorted(entries, key=lambda entry: entry[0].rstrip("/")))


def _config(layer: bytes, entrypoint: list[str], env: dict[str, str]) -> bytes:
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": entrypoint, "Env": [f"{k}={v}" for k, v in sorted(env.items())]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{_sha256(layer)}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "octo image_builder"}],
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def _image_tar(reference: str, layer: bytes, config: bytes) -> bytes:
    config_name = f"{_sha256(config)}.json"
    layer_name = f"{_sha256(layer)}/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [reference], "Layers": [layer_name]}]
    return _tar(
        [
            (config_name, 0o644, config),
            (layer_name.split("/")[0] + "/", DIRECTORY_MODE, None),
            (layer_name, 0o644, layer),
            ("manifest.json", 0o644, json.dumps(manifest, separators=(",", ":")).encode()),
        ]
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
