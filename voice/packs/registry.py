"""Find installed packs through the `voice.packs` entry-point group.

A pack registers `CODE = "its_module:load"` where `load()` returns a `LanguagePack` (an
instance is accepted too). A pack that fails to load is reported, never fatal for the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points

from voice.errors import UnknownLanguageError
from voice.packs.base import LanguagePack

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "voice.packs"


@dataclass(frozen=True)
class Discovery:
    packs: dict[str, LanguagePack]
    broken: dict[str, str]  # entry-point name -> why it failed to load
    distributions: dict[str, str]  # code -> "dist-name version"


@lru_cache(maxsize=1)
def discover() -> Discovery:
    packs: dict[str, LanguagePack] = {}
    broken: dict[str, str] = {}
    dists: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            pack = obj() if callable(obj) and not isinstance(obj, LanguagePack) else obj
            if not isinstance(pack, LanguagePack):
                raise TypeError(f"{ep.value} gave {type(pack).__name__}, not a LanguagePack")
        except Exception as exc:  # a broken pack must not take the others down
            broken[ep.name] = f"{type(exc).__name__}: {exc}"
            log.warning("language pack %s failed to load: %s", ep.name, exc)
            continue
        packs[pack.code] = pack
        if ep.dist is not None:
            dists[pack.code] = f"{ep.dist.name} {ep.dist.version}"
    return Discovery(dict(sorted(packs.items())), broken, dists)


def installed_packs() -> dict[str, LanguagePack]:
    return discover().packs


def find_pack(code: str | None) -> LanguagePack | None:
    """A pack by ISO 639-3 code, BCP-47 tag or alias (case-insensitive); None if absent."""
    if not code:
        return None
    key = code.strip().lower()
    packs = installed_packs()
    if key in packs:
        return packs[key]
    for pack in packs.values():
        m = pack.manifest
        if key in {m.bcp47.lower(), m.bcp47.split("-")[0].lower(), *(a.lower() for a in m.aliases)}:
            return pack
    return None


def get_pack(code: str) -> LanguagePack:
    pack = find_pack(code)
    if pack is None:
        have = ", ".join(installed_packs()) or "none"
        raise UnknownLanguageError(
            f"no language pack for {code!r} (installed: {have}); "
            f"install one, e.g. `pip install voice-pack-{code}`"
        )
    return pack


def pack_for_whisper_language(whisper_code: str | None) -> LanguagePack | None:
    """The pack whose own Whisper token this is (not one that merely reuses it)."""
    if not whisper_code:
        return None
    for pack in installed_packs().values():
        if (
            pack.manifest.asr.whisper_language == whisper_code
            and pack.manifest.asr.token_strategy == "native"
        ):
            return pack
    return None
