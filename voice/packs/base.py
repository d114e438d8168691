"""A language pack as the core sees it: manifest, text processing, content.

Packs subclass `LanguagePack` and override the text hooks (normalise, verbalise,
split_sentences) with their language's rules; data is read from the pack's package dir:

    <package>/manifest.yaml        PackManifest
    <package>/content/             system_prompt.md, glossary.yaml, faq.yaml, intents.yaml, phrases.yaml
    <package>/langid.json          character n-gram profile (voice.packs.langid)
    <package>/data/                bundled artifacts named in the manifest (lexicon, test sets, models)
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import yaml

from voice.packs import text as textlib
from voice.packs.content import PackContent
from voice.packs.manifest import PackManifest


class LanguagePack:
    abbreviations: tuple[str, ...] = ()

    def __init__(self, package_dir: str | Path):
        self.package_dir = Path(package_dir)
        raw = yaml.safe_load((self.package_dir / "manifest.yaml").read_text(encoding="utf-8"))
        self.manifest = PackManifest.model_validate(raw)

    def __repr__(self) -> str:
        return f"<LanguagePack {self.code} {self.manifest.version}>"

    @property
    def code(self) -> str:
        return self.manifest.code

    @property
    def name(self) -> str:
        return self.manifest.names.en

    @property
    def whisper_language(self) -> str:
        return self.manifest.asr.whisper_language

    @property
    def espeak_voice(self) -> str:
        return self.manifest.tts.espeak_voice

    # -- text hooks: packs override these -------------------------------------------------
    def normalise(self, text: str) -> str:
        """Text for comparison and scoring (ASR WER, intent match): orthography, case, punctuation."""
        return textlib.basic_normalise(text)

    def verbalise(self, text: str) -> str:
        """Text for speech: numbers, money, phone numbers and dates written out as words."""
        return textlib.collapse_spaces(textlib.nfc(text))

    def split_sentences(self, text: str) -> list[str]:
        return textlib.split_sentences(text, self.abbreviations)

    def engine_text(self, spoken: str, engine: str) -> str:
        """Last-mile respelling for one TTS engine (e.g. Wolof letters for an espeak voice made
        for another language); transcripts and history keep the verbalised text."""
        return spoken

    # -- data --------------------------------------------------------------------------------
    @cached_property
    def content(self) -> PackContent:
        return PackContent.load(self.package_dir / "content")

    def phrase(self, key: str, **values: object) -> str:
        return self.content.phrases[key].format(**values)

    def template(self, key: str, **values: object) -> str:
        return self.content.templates[key].format(**values)

    @property
    def langid_profile_path(self) -> Path:
        return self.package_dir / "langid.json"

    def artifact_path(self, name: str) -> Path | None:
        art = self.manifest.artifact(name)
        if art is None or art.path is None:
            return None
        return self.package_dir / art.path
