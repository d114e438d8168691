"""Check (or, in a source checkout, refresh) the sha256 and size of every bundled artifact."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from voice.packs.base import LanguagePack


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def tree_digest(path: Path) -> tuple[str, int]:
    """sha256 over a file, or over a directory's files (relative path + content, sorted)."""
    if path.is_file():
        return file_digest(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f.relative_to(path).as_posix().encode() + b"\0")
        digest.update(file_digest(f).encode())
        size += f.stat().st_size
    return digest.hexdigest(), size


@dataclass
class Problem:
    artifact: str
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.artifact}: {self.path}: {self.reason}"


def verify_pack(pack: LanguagePack) -> list[Problem]:
    problems = []
    for art in pack.manifest.artifacts:
        if art.path is None:
            continue
        path = pack.package_dir / art.path
        if not path.exists():
            problems.append(Problem(art.name, path, "missing"))
            continue
        sha, size = tree_digest(path)
        if sha != art.sha256:
            problems.append(Problem(art.name, path, f"sha256 {sha} != manifest {art.sha256}"))
        elif size != art.size:
            problems.append(Problem(art.name, path, f"size {size} != manifest {art.size}"))
    return problems


def update_manifest(pack: LanguagePack) -> list[str]:
    """Rewrite sha256/size of bundled artifacts in manifest.yaml; returns the names changed."""
    manifest_path = pack.package_dir / "manifest.yaml"
    raw = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    changed = []
    for art in raw.get("artifacts", []):
        if art.get("path"):
            sha, size = tree_digest(pack.package_dir / art["path"])
            if art.get("sha256") != sha or art.get("size") != size:
                art["sha256"], art["size"] = sha, size
                changed.append(art["name"])
    if changed:
        manifest_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return changed
