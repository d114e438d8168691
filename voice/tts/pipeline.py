"""The text-to-speech pipeline: sentences stream out one by one.

The first sentence can play while the next is being synthesised. Each chunk keeps the sentence
as written, so a caller-facing transcript can record exactly what was heard.
"""

from __future__ import annotations

from collections.abc import Iterator

from voice.audio import Audio
from voice.config import TTSSettings, get_settings
from voice.packs import LanguagePack, get_pack
from voice.tts.base import SpeechChunk, TTSEngine


class Synthesizer:
    def __init__(self, pack: LanguagePack, engine: TTSEngine):
        self.pack, self.engine = pack, engine

    @property
    def voice(self) -> str | None:
        return self.pack.espeak_voice if self.engine.name == "espeak-ng" else None

    def sentences(self, text: str) -> list[str]:
        return self.pack.split_sentences(text)

    def synthesize(self, text: str) -> Iterator[SpeechChunk]:
        for sentence in self.sentences(text):
            spoken = self.pack.verbalise(sentence)
            if not spoken.strip():
                continue
            text = self.pack.engine_text(spoken, self.engine.name)
            yield SpeechChunk(sentence, spoken, self.engine.synthesize_sentence(text, self.voice))

    def synthesize_all(self, text: str, pause: float = 0.25) -> Audio:
        parts: list[Audio] = []
        for chunk in self.synthesize(text):
            if parts:
                parts.append(Audio.silence(pause, chunk.audio.sample_rate))
            parts.append(chunk.audio)
        if not parts:
            return Audio.silence(0.0, 16000)
        return Audio.concat(parts)


def make_engine(pack: LanguagePack, settings: TTSSettings) -> TTSEngine:
    """`auto`: the pack's VITS model when available locally, else espeak-ng."""
    vits_dir = settings.vits_model
    if not vits_dir and pack.manifest.tts.vits:
        bundled = pack.artifact_path(pack.manifest.tts.vits)
        vits_dir = str(bundled) if bundled and bundled.exists() else None
    if settings.engine == "vits" or (settings.engine == "auto" and vits_dir):
        from voice.tts.vits import VitsEngine

        if not vits_dir:
            from voice.errors import ModelNotFoundError

            raise ModelNotFoundError(
                f"no VITS model for {pack.code}: set VOICE_TTS_VITS_MODEL to a local VitsModel dir"
            )
        return VitsEngine(vits_dir)
    from voice.tts.espeak import EspeakEngine

    rate = pack.manifest.tts.espeak_rate or settings.espeak_rate
    return EspeakEngine(settings.espeak_binary, rate, pack.espeak_voice)


def get_synthesizer(language: str, settings: TTSSettings | None = None) -> Synthesizer:
    pack = get_pack(language)
    return Synthesizer(pack, make_engine(pack, settings or get_settings().tts))
