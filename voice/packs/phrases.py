"""The one place a channel or the agent looks up a pack's canned phrase."""

from __future__ import annotations

from voice.packs.base import LanguagePack


def phrase(pack: LanguagePack, key: str, fallback: str = "dont_know", **values: object) -> str:
    """A phrase, or the fallback phrase when an older pack lacks the key."""
    phrases = pack.content.phrases
    return (phrases.get(key) or phrases[fallback]).format(**values)
