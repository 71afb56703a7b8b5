"""The image builder's tarball layout: docker-save manifest, config and layer digests agree (no containerd)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from images.image_builder import ImageError, build_image

REFERENCE = "octo.local/hello:1"
FILES = {"/bin/hello": (b"\x7fELF-not-really", 0o755), "etc/octo/greeting.txt": (b"hi\n", 0o644)}


def _members(data: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {
            info.name: (info, archive.extractfile(info).read() if info.isfile() else None)
            for info in archive.getmembers()
        }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def image(tmp_path):
    path = build_image(REFERENCE, FILES, ["/bin/hello", "--serve"], {"HTTP_PORT": "8080"}, out_dir=tmp_path)
    members = _members(path.read_bytes())
    manifest = json.loads(members["manifest.json"][1])
    return path, members, manifest


def test_manifest_names_the_config_and_layer_by_their_digests(image):
    _, members, manifest = image
    assert len(manifest) == 1
    entry = manifest[0]
    assert entry["RepoTags"] == [REFERENCE]
    config_bytes = members[entry["Config"]][1]
    assert entry["Config"] == f"{_sha256(config_bytes)}.json"
    (layer_name,) = entry["Layers"]
    layer_bytes = members[layer_name][1]
    assert layer_name == f"{_sha256(layer_bytes)}/layer.tar"
    config = json.loads(config_bytes)
    assert config["rootfs"] == {"type": "layers", "diff_ids": [f"sha256:{_sha256(layer_bytes)}"]}


def test_config_carries_entrypoint_env_and_platform(image):
    _, members, manifest = image
    config = json.loads(members[manifest[0]["Config"]][1])
    assert config["config"]["Entrypoint"] == ["/bin/hello", "--serve"]
    assert config["config"]["Env"] == ["HTTP_PORT=8080"]
    assert (config["os"], config["architecture"]) == ("linux", "amd64")


def test_layer_holds_the_files_with_modes_and_parent_directories(image):
    _, members, manifest = image
    layer = _members(members[manifest[0]["Layers"][0]][1])
    assert sorted(layer) == ["bin", "bin/hello", "etc", "etc/octo", "etc/octo/greeting.txt"]
    assert layer["bin/hello"][1] == FILES["/bin/hello"][0]
    assert layer["bin/hello"][0].mode == 0o755
    assert layer["etc/octo/greeting.txt"][0].mode == 0o644
    assert all(layer[d][0].isdir() and layer[d][0].mode == 0o755 for d in ("bin", "etc", "etc/octo"))
    assert {(info.uid, info.gid, info.mtime) for info, _ in layer.values()} == {(0, 0, 0)}


def test_same_inputs_give_the_same_bytes(tmp_path):
    first = build_image(REFERENCE, FILES, ["/bin/hello"], out_dir=tmp_path / "a")
    second = build_image(REFERENCE, dict(reversed(FILES.items())), ["/bin/hello"], out_dir=tmp_path / "b")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()


def test_different_content_gives_a_different_image(tmp_path):
    first = build_image(REFERENCE, FILES, ["/bin/hello"], out_dir=tmp_path)
    changed = {**FILES, "/bin/hello": (b"other", 0o755)}
    second = build_image(REFERENCE, changed, ["/bin/hello"], out_dir=tmp_path)
    assert first != second
    assert _sha256(first.read_bytes()) != _sha256(second.read_bytes())


def test_a_cached_tarball_is_reused_without_rewriting(tmp_path):
    first = build_image(REFERENCE, FILES, ["/bin/hello"], out_dir=tmp_path)
    first.write_bytes(b"marker")  # a rebuild would overwrite it
    assert build_image(REFERENCE, FILES, ["/bin/hello"], out_dir=tmp_path) == first
    assert first.read_bytes() == b"marker"


@pytest.mark.parametrize(
    ("reference", "files", "entrypoint", "message"),
    [
        ("octo.local/hello", FILES, ["/x"], "explicit tag"),
        ("Octo.local/Hello:1", FILES, ["/x"], "explicit tag"),
        (REFERENCE, {"../escape": (b"", 0o644)}, ["/x"], "bad file path '../escape'"),
        (REFERENCE, {"/": (b"", 0o644)}, ["/x"], "bad file path '/'"),
        (REFERENCE, {"/a": ("text", 0o644)}, ["/x"], "(content bytes, mode)"),
        (REFERENCE, {"/a": (b"", 0o10000)}, ["/x"], "bad mode"),
        (REFERENCE, {"/a": (b"", 0o644), "a": (b"", 0o644)}, ["/x"], "the same file"),
        (REFERENCE, {}, ["/x"], "at least one file"),
        (REFERENCE, FILES, [], "entrypoint"),
    ],
)
def test_bad_input_is_an_error_and_writes_nothing(tmp_path, reference, files, entrypoint, message):
    out = tmp_path / "out"
    with pytest.raises(ImageError, match=r"^Failed to build image ") as error:
        build_image(reference, files, entrypoint, out_dir=out)
    assert message in str(error.value)
    assert not out.exists()


def test_bad_env_is_an_error(tmp_path):
    with pytest.raises(ImageError, match="env must map names"):
        build_image(REFERENCE, FILES, ["/x"], {"A=B": "c"}, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
