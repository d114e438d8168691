"""Which language a WhatsApp message is answered in.

1. the sender's last language (their stored conversation);
2. else language ID (the packs' character n-gram profiles) on what they said - for a voice note,
   transcribed first with Whisper's own language detection;
3. else Whisper's detected language, when a pack serves it;
4. else the line's default (VOICE_MESSAGING_DEFAULT_LANGUAGE, the number's language, the call
   default: VOICE_CALL_DEFAULT_LANGUAGE, else the installed pack ranked first).
A voice note transcribed under detection is transcribed again only when the chosen language needs
another model or another Whisper language token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from voice.asr import Recognizer, Transcript
from voice.audio import Audio
from voice.config import Settings
from voice.errors import UnknownLanguageError
from voice.packs import find_pack
from voice.packs.call import default_language as packs_default_language

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _identifier():
    from voice.packs.langid import LanguageIdentifier

    try:
        return LanguageIdentifier.installed()
    except ValueError:  # no pack ships a profile
        return None


def identify(text: str, min_confidence: float) -> str | None:
    lid = _identifier()
    if lid is None or not text.strip():
        return None
    code, confidence = lid.identify(text)
    return code if confidence >= min_confidence and find_pack(code) else None


def default_language(settings: Settings, our_number: str = "") -> str:
    """The line's language: VOICE_MESSAGING_DEFAULT_LANGUAGE, the number's, then the call default
    (VOICE_CALL_DEFAULT_LANGUAGE, else the installed packs' first by default_rank)."""
    for candidate in (settings.messaging.default_language, settings.call.numbers.get(our_number, "")):
        pack = find_pack(candidate)
        if pack is not None:
            return pack.code
    try:
        return packs_default_language(settings.call.default_language)
    except UnknownLanguageError as exc:
        raise UnknownLanguageError(f"no language pack for this WhatsApp line: {exc}") from exc


def _token(code: str | None) -> str | None:
    """The Whisper language token a (pack or Whisper) language code decodes with."""
    pack = find_pack(code)
    return pack.whisper_language if pack is not None else code


def same_model(a: Recognizer, b: Recognizer) -> bool:
    return a is b or (a.engine.name == b.engine.name and str(a.engine.model.path) == str(b.engine.model.path))


@dataclass
class Heard:
    language: str
    transcript: Transcript
    how: str  # conversation | langid | whisper | default
    passes: int = 1  # ASR passes it took


class LanguageChooser:
    def __init__(self, settings: Settings, recognizer):
        """`recognizer(language | None)` -> Recognizer (the runtime's)."""
        self.settings = settings
        self.recognizer = recognizer
        self.min_confidence = settings.messaging.langid_min_confidence

    def for_text(self, text: str, last: str | None, our_number: str = "") -> tuple[str, str]:
        if last and find_pack(last):
            return find_pack(last).code, "conversation"
        code = identify(text, self.min_confidence)
        if code:
            return code, "langid"
        return default_language(self.settings, our_number), "default"

    def for_audio(self, audio: Audio, last: str | None, our_number: str = "") -> Heard:
        if last and find_pack(last):
            code = find_pack(last).code
            return Heard(code, self.recognizer(code).transcribe(audio, code), "conversation")
        auto = self.recognizer(None)
        first = auto.transcribe(audio, "auto")
        code, how = identify(first.text, self.min_confidence), "langid"
        if code is None and find_pack(first.language):
            code, how = find_pack(first.language).code, "whisper"
        if code is None:
            code, how = default_language(self.settings, our_number), "default"
        if not first.text:
            return Heard(code, first, how)
        chosen = self.recognizer(code)
        if same_model(auto, chosen) and _token(code) == _token(first.language):
            first.language = code
            return Heard(code, first, how)
        log.debug("re-transcribing with the %s model/token", code)
        return Heard(code, chosen.transcribe(audio, code), how, passes=2)
