"""index.json for a directory of built packs, as the gateway serves it at /packs/index.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from voice.errors import BadInputError
from voice.packs.archive import inspect_archive
from voice.packs.verify import file_digest

log = logging.getLogger(__name__)
INDEX_VERSION = 1


def pack_archives(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith((".whl", ".tar.gz")))


def build_index(directory: Path) -> dict:
    entries: dict[tuple[str, str], dict] = {}
    for path in pack_archives(directory):
        try:
            report = inspect_archive(path)
        except BadInputError as exc:
            log.warning("left out of the index: %s", exc)
            continue
        if report.problems:
            log.warning("left out of the index: %s: %s", path.name, "; ".join(report.problems))
            continue
        m = report.manifest
        entry = entries.setdefault(
            (m.code, m.version),
            {
                "code": m.code,
                "bcp47": m.bcp47,
                "name": m.names.en,
                "native_name": m.names.native,
                "version": m.version,
                "core": m.core,
                "licences": sorted({m.licence, *(a.licence for a in m.artifacts)}),
                "non_commercial": [a.name for a in m.non_commercial],
                "files": [],
            },
        )
        entry["files"].append({"name": path.name, "sha256": file_digest(path), "size": path.stat().st_size})
    return {
        "version": INDEX_VERSION,
        "packs": sorted(entries.values(), key=lambda e: (e["code"], e["version"])),
    }


def write_index(directory: Path) -> Path:
    out = directory / "index.json"
    out.write_text(json.dumps(build_index(directory), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
