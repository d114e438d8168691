"""What a phone line takes from the installed packs: the default language, the DTMF menu and each
language's turn-taking policy (the manifest's `call` section).

The core's settings name no language: VOICE_CALL_DEFAULT_LANGUAGE and VOICE_CALL_LANGUAGE_DIGITS
override these when set, and are empty by default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from voice.config import parse_pairs
from voice.errors import UnknownLanguageError
from voice.packs.base import LanguagePack
from voice.packs.registry import get_pack, installed_packs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointingPolicy:
    """When a caller's turn ends, for one language (see PackManifest.call.endpointing)."""

    turn_model: Literal["none", "smart-turn"] = "none"  # "smart-turn": ask the end-of-turn model
    pause_ms: int = 200  # a pause this long starts ASR early (and asks the turn model)
    silence_ms: int = 600  # a pause this long ends the turn whatever the model says
    turn_threshold: float = 0.5  # turn-model probability above which the turn is complete
    continuation_words: tuple[str, ...] = ()  # a transcript ending on one is not a finished turn


def _ranked() -> list[LanguagePack]:
    """Installed packs, lowest default_rank first (code breaks ties)."""
    return sorted(installed_packs().values(), key=lambda p: (p.manifest.call.default_rank, p.code))


def default_language(configured: str = "") -> str:
    """The line's default language code: `configured` (VOICE_CALL_DEFAULT_LANGUAGE: a code, tag
    or alias of an installed pack) when set, else the installed pack with the lowest default_rank.

    Raises UnknownLanguageError when the configured language has no pack, or no pack is installed.
    """
    if configured.strip():
        return get_pack(configured).code
    ranked = _ranked()
    if not ranked:
        raise UnknownLanguageError(
            "no language pack is installed, so there is no default language; "
            "install one, e.g. `pip install voice-pack-<code>`"
        )
    return ranked[0].code


def language_digits(configured: str = "") -> dict[str, str]:
    """DTMF digit -> language code for the call menu: `configured` (VOICE_CALL_LANGUAGE_DIGITS,
    "1=xxx,2=yyy") when set, else each installed pack's `call.dtmf_digit` (two packs on one digit:
    the lower default_rank keeps it). Digit 0 (hand-off) and * (the menu) are the core's."""
    if configured.strip():
        return parse_pairs(configured)
    out: dict[str, str] = {}
    for pack in _ranked():
        digit = pack.manifest.call.dtmf_digit
        if digit is None:
            continue
        if digit in out:
            log.warning("DTMF digit %s: %s keeps it, %s ranks after it", digit, out[digit], pack.code)
            continue
        out[digit] = pack.code
    return dict(sorted(out.items()))


def endpointing(code: str) -> EndpointingPolicy:
    """The turn-taking policy of the installed pack for `code` (code, tag or alias)."""
    e = get_pack(code).manifest.call.endpointing
    return EndpointingPolicy(
        e.turn_model, e.pause_ms, e.silence_ms, e.turn_threshold, tuple(e.continuation_words)
    )
