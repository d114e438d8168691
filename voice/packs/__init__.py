"""Language packs: manifest schema, discovery, text hooks, content, verify/build/index."""

from voice.packs.base import LanguagePack
from voice.packs.call import EndpointingPolicy, default_language, endpointing, language_digits
from voice.packs.manifest import PackManifest
from voice.packs.registry import find_pack, get_pack, installed_packs, pack_for_whisper_language

__all__ = [
    "EndpointingPolicy",
    "LanguagePack",
    "PackManifest",
    "default_language",
    "endpointing",
    "find_pack",
    "get_pack",
    "installed_packs",
    "language_digits",
    "pack_for_whisper_language",
]
