"""Inspect a downloaded pack archive (wheel or sdist) safely, without installing it.

Refuses members that would land outside the target (absolute paths, `..`, links pointing
away), then checks the manifest's bundled artifacts against their sha256 inside the archive.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from voice.errors import BadInputError
from voice.packs.manifest import PackManifest


class UnsafeArchiveError(BadInputError):
    pass


@dataclass
class ArchiveReport:
    path: Path
    manifest: PackManifest
    package: str  # the pack's import package inside the archive
    problems: list[str]


def _check_member(name: str, archive: Path) -> None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and p.parts[0].endswith(":")):
        raise UnsafeArchiveError(f"{archive.name}: refusing member {name!r} (path leaves the archive)")


def _read_members(path: Path) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    if path.suffix == ".whl" or zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                _check_member(info.filename, path)
                if not info.is_dir():
                    members[info.filename] = z.read(info)
        return members
    try:
        with tarfile.open(path) as t:
            for m in t.getmembers():
                _check_member(m.name, path)
                if m.issym() or m.islnk():
                    _check_member(str(PurePosixPath(m.name).parent / m.linkname), path)
                    continue
                if m.isfile():
                    members[m.name] = t.extractfile(m).read()
    except tarfile.TarError as exc:
        raise BadInputError(f"{path.name}: not a wheel or sdist ({exc})") from exc
    return members


def _digest(files: dict[str, bytes], prefix: str) -> tuple[str, int] | None:
    """Same digest as voice.packs.verify.tree_digest, over archive members."""
    if prefix in files:
        return hashlib.sha256(files[prefix]).hexdigest(), len(files[prefix])
    inside = sorted(n for n in files if n.startswith(prefix + "/"))
    if not inside:
        return None
    digest, size = hashlib.sha256(), 0
    for name in inside:
        digest.update(name[len(prefix) + 1 :].encode() + b"\0")
        digest.update(hashlib.sha256(files[name]).hexdigest().encode())
        size += len(files[name])
    return digest.hexdigest(), size


def inspect_archive(path: str | Path) -> ArchiveReport:
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    files = _read_members(path)
    manifests = [n for n in files if n.endswith("/manifest.yaml") and n.count("/") <= 2]
    manifests = [n for n in manifests if PurePosixPath(n).parent.name.startswith("voice_pack_")]
    if len(manifests) != 1:
        raise BadInputError(f"{path.name}: expected one voice_pack_*/manifest.yaml, found {len(manifests)}")
    manifest_name = manifests[0]
    root = str(PurePosixPath(manifest_name).parent)
    manifest = PackManifest.model_validate(yaml.safe_load(io.BytesIO(files[manifest_name])))
    problems = []
    for art in manifest.artifacts:
        if art.path is None:
            continue
        got = _digest(files, f"{root}/{art.path}")
        if got is None:
            problems.append(f"{art.name}: {art.path} missing from the archive")
        elif got != (art.sha256, art.size):
            problems.append(
                f"{art.name}: {art.path} sha256/size {got[0]}/{got[1]} != manifest {art.sha256}/{art.size}"
            )
    return ArchiveReport(path, manifest, PurePosixPath(root).name, problems)
