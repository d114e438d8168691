"""Build a pack's wheel and sdist, optionally with its models inside.

The pack's source checkout is copied to a staging dir first, so bundling models and refreshing
digests never touches the working tree. Built with `python -m build --no-isolation`: no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from voice.errors import BadInputError, ModelNotFoundError
from voice.packs.base import LanguagePack
from voice.packs.verify import tree_digest

_IGNORE = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.pyc")


def source_dir(pack: LanguagePack) -> Path:
    root = pack.package_dir.parent
    if not (root / "pyproject.toml").exists():
        raise BadInputError(
            f"pack {pack.code} is installed from a wheel ({pack.package_dir}); building needs its source "
            "checkout (pip install -e lang_packs/<name>)"
        )
    return root


def _copy_model(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".*"))
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


def _bundle(manifest: dict, package: Path, name: str, src: Path, kind: str, licence: str, source: str) -> str:
    rel = f"models/{name}"
    _copy_model(src, package / rel)
    sha, size = tree_digest(package / rel)
    arts = [a for a in manifest.setdefault("artifacts", []) if a["name"] != name]
    arts.append(
        {
            "name": name,
            "kind": kind,
            "path": rel,
            "sha256": sha,
            "size": size,
            "licence": licence,
            "source": source,
        }
    )
    manifest["artifacts"] = arts
    return f"artifact:{name}"


def bundle_models(
    pack: LanguagePack, manifest: dict, package: Path, asr_model: Path | None, eval_results: list[dict]
) -> list[str]:
    """Copy every model the pack names (and can be found here) into the staged package."""
    from voice.asr.models import resolve_model

    bundled = []
    tiers = manifest["asr"]["tiers"]
    if asr_model is not None:
        tiers["edge"]["model"] = _bundle(
            manifest,
            package,
            "asr-edge",
            asr_model,
            "asr-model",
            "see model card",
            f"exported by voice asr export ({asr_model.name})",
        )
        bundled.append("asr-edge")
    for tier, spec in list(tiers.items()):
        if str(spec["model"]).startswith("artifact:"):
            continue
        try:
            resolved = resolve_model(spec["model"])
        except ModelNotFoundError as exc:
            raise BadInputError(f"cannot bundle the {tier} ASR model of {pack.code}: {exc}") from exc
        art = next((a for a in pack.manifest.artifacts if a.hf_id == spec["model"]), None)
        licence = art.licence if art else "see upstream"
        spec["model"] = _bundle(
            manifest,
            package,
            f"asr-{tier}",
            resolved.path,
            "asr-model",
            licence,
            f"{spec['model']} ({resolved.source})",
        )
        bundled.append(f"asr-{tier}")
    for key in ("vits",):
        ref = manifest["tts"].get(key)
        art = next((a for a in manifest.get("artifacts", []) if a["name"] == ref), None)
        if art and not art.get("path"):
            raise BadInputError(
                f"cannot bundle TTS model {ref}: only referenced ({art.get('hf_id') or art.get('url')})"
            )
    manifest["eval"] = [*manifest.get("eval", []), *eval_results]
    return bundled


def build_pack(
    pack: LanguagePack,
    out_dir: Path,
    bundle: bool = False,
    asr_model: Path | None = None,
    eval_results: list[dict] | None = None,
) -> list[Path]:
    src = source_dir(pack)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voice-pack-build-") as tmp:
        stage = Path(tmp) / src.name
        shutil.copytree(src, stage, ignore=_IGNORE)
        package = stage / pack.package_dir.name
        manifest_path = package / "manifest.yaml"
        manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
        if bundle or asr_model is not None:
            bundle_models(pack, manifest, package, asr_model, eval_results or [])
            pyproject = stage / "pyproject.toml"
            text = pyproject.read_text(encoding="utf-8")
            if '"models/**/*"' not in text:  # ship the bundled weights in the wheel
                text = text.replace('"data/*"', '"data/*", "models/**/*"')
                pyproject.write_text(text, encoding="utf-8")
        for art in manifest.get("artifacts", []):
            if art.get("path"):
                art["sha256"], art["size"] = tree_digest(package / art["path"])
        manifest_path.write_text(
            yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        before = set(out_dir.iterdir())
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--no-isolation",
                "--skip-dependency-check",
                "--wheel",
                "--sdist",
                "--outdir",
                str(out_dir),
                str(stage),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BadInputError(f"building {pack.code} failed:\n{proc.stderr[-2000:] or proc.stdout[-2000:]}")
    return sorted(set(out_dir.iterdir()) - before)


def exported_eval(export_dir: Path) -> list[dict]:
    """Eval results an exported ASR model carries (voice asr export writes them)."""
    import json

    path = export_dir / "eval_results.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else data.get("eval", [])
