"""`voice packs new CODE`: a new pack that installs, verifies and runs from day one.

Its content starts as the English template (every string to translate); its language-ID profile
is built from that content until the author adds real text of the language.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from string import Template

from voice import __version__
from voice.errors import BadInputError
from voice.packs.langid import build_profile, save_profile
from voice.packs.verify import tree_digest

TEMPLATE = Path(__file__).parent / "template"


def _render(src: Path, dest: Path, values: dict[str, str]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(Template(src.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")


def _content_lines(content: Path) -> list[str]:
    import yaml

    lines: list[str] = []
    for name in ("faq.yaml", "intents.yaml", "phrases.yaml"):
        data = yaml.safe_load((content / name).read_text(encoding="utf-8"))

        def walk(x):
            if isinstance(x, str):
                lines.append(x)
            elif isinstance(x, dict):
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)

        walk(data)
    return [re.sub(r"\{\w+\}", "", line).strip() for line in lines if line.strip()]


def new_pack(code: str, dest: Path, name: str, native: str, espeak_voice: str, whisper_language: str) -> Path:
    if not re.fullmatch(r"[a-z]{3}", code):
        raise BadInputError(f"{code!r} is not an ISO 639-3 code (three lower-case letters)")
    root = dest / f"voice-pack-{code}"
    if root.exists():
        raise BadInputError(f"{root} already exists")
    package = root / f"voice_pack_{code}"
    strategy = "native" if whisper_language == code[:2] else "reuse"
    major, minor = (__version__.split(".") + ["0"])[:2]
    values = {
        "code": code,
        "name": name,
        "native": native,
        "espeak_voice": espeak_voice,
        "whisper_language": whisper_language,
        "token_strategy": strategy,
        "class_name": f"{code.capitalize()}Pack",
        "core_range": f">={major}.{minor},<{major}.{int(minor) + 1}",
    }
    for tmpl in TEMPLATE.rglob("*.tmpl"):
        rel = tmpl.relative_to(TEMPLATE).with_suffix("")
        target = root / Path(str(rel).replace("package", package.name, 1))
        _render(tmpl, target, values)
    shutil.copytree(TEMPLATE / "content", package / "content")
    shutil.copy(TEMPLATE / "LICENSE", root / "LICENSE")
    data = package / "data"
    data.mkdir(parents=True, exist_ok=True)
    lines = _content_lines(package / "content")
    (data / "langid_train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    save_profile(build_profile(code, lines), package / "langid.json")
    manifest = package / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    for rel in ("content", "langid.json", "data/langid_train.txt"):
        sha, size = tree_digest(package / rel)
        text = text.replace(f"sha256: <{rel}>", f"sha256: {sha}").replace(f"size: <{rel}>", f"size: {size}")
    manifest.write_text(text, encoding="utf-8")
    return root
