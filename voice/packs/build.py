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
    art = {"name": name, "kind": kind, "path": rel, "sha256": sha, "size": size, "licence": licence}
    _set_artifact(manifest, {**art, "source": source})
    return f"artifact:{name}"


def _set_artifact(manifest: dict, art: dict) -> None:
    """Add the artifact to the manifest, replacing one of the same name."""
    others = [a for a in manifest.get("artifacts", []) if a["name"] != art["name"]]
    manifest["artifacts"] = [*others, art]


def _take_fragment(manifest: dict, package: Path, src: Path, fragment: dict) -> None:
    """What every exported model brings: its files, its artifact entry and its eval results."""
    art = fragment["artifact"]
    _copy_model(src, package / art["path"])
    _set_artifact(manifest, art)
    manifest["eval"] = [*manifest.get("eval", []), *fragment["eval"]]


def _bundle_export(manifest: dict, package: Path, export_dir: Path, tier: str) -> None:
    """A `voice asr export` dir into the tier: its weights, its language-token choice (so inference
    decodes as it was trained) and its eval results, all from the export's own voice-asr.json."""
    from voice.asr.export import pack_fragment

    fragment = pack_fragment(export_dir, artifact_name=f"asr-{tier}", tier=tier)
    _take_fragment(manifest, package, export_dir, fragment)
    asr = manifest.setdefault("asr", {})
    for key in ("whisper_language", "token_strategy", "token_source"):
        if key in fragment["asr"]:
            asr[key] = fragment["asr"][key]
    asr.setdefault("tiers", {})[tier] = fragment["asr"]["tiers"][tier]


def _bundle_adapter(manifest: dict, package: Path, adapter_dir: Path) -> None:
    """A `voice agent finetune` adapter: its weights, `llm` (base + adapter name) and eval results.
    The in-process agent backend then uses it for this pack's language."""
    from voice.agent.adapt.export import pack_fragment
    from voice.agent.adapt.train import read_adapter_info

    language = read_adapter_info(adapter_dir).get("language")
    if language != manifest["code"]:
        raise BadInputError(
            f"{adapter_dir} was trained for {language or 'no recorded language'}, not {manifest['code']}"
        )
    fragment = pack_fragment(adapter_dir)
    _take_fragment(manifest, package, adapter_dir, fragment)
    manifest["llm"] = {**manifest.get("llm", {}), **fragment["llm"]}


def bundle_models(
    pack: LanguagePack,
    manifest: dict,
    package: Path,
    asr_model: Path | None = None,
    tiers: list[str] | None = None,
) -> list[str]:
    """Copy the pack's models into the staged package: `asr_model` (an export) as the edge tier,
    then every other ASR tier in `tiers` (default: all) that resolves on this machine. A tier
    that was asked for but cannot be found fails the build with the reason."""
    from voice.asr.models import resolve_model

    bundled = []
    all_tiers = manifest["asr"]["tiers"]
    wanted = list(all_tiers) if tiers is None else tiers
    unknown = [t for t in wanted if t not in all_tiers]
    if unknown:
        raise BadInputError(f"pack {pack.code} has no ASR tier {unknown}; it has {sorted(all_tiers)}")
    if asr_model is not None:
        _bundle_export(manifest, package, asr_model, "edge")
        bundled.append("asr-edge")
    for tier in wanted:
        spec = all_tiers[tier]
        if str(spec["model"]).startswith("artifact:"):
            continue
        try:
            resolved = resolve_model(spec["model"])
        except ModelNotFoundError as exc:
            raise BadInputError(
                f"cannot bundle the {tier} ASR model of {pack.code}: {exc} "
                f"(bundle only what is here with --tier, e.g. --tier edge)"
            ) from exc
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
    return bundled


def build_pack(
    pack: LanguagePack,
    out_dir: Path,
    bundle: bool = False,
    asr_model: Path | None = None,
    tiers: list[str] | None = None,
    llm_adapter: Path | None = None,
) -> list[Path]:
    src = source_dir(pack)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voice-pack-build-") as tmp:
        stage = Path(tmp) / src.name
        shutil.copytree(src, stage, ignore=_IGNORE)
        package = stage / pack.package_dir.name
        manifest_path = package / "manifest.yaml"
        manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
        if bundle or asr_model is not None or llm_adapter is not None:
            # --asr-model / --llm-adapter alone bundle just those; --bundle-models adds the ASR
            # tiers that resolve here.
            bundle_models(pack, manifest, package, asr_model, tiers if bundle else [])
            if llm_adapter is not None:
                _bundle_adapter(manifest, package, llm_adapter)
            pyproject = stage / "pyproject.toml"
            text = pyproject.read_text(encoding="utf-8")
            if '"models/**/*"' not in text:  # ship the bundled weights in the wheel
                text = text.replace('"data/*"', '"data/*", "models/**/*"')
                pyproject.write_text(text, encoding="utf-8")
        # Digest what ships (the staged copies), whatever the sources' own digests said.
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
