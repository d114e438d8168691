"""What the gateway shares between requests: settings, database, agent, speech models.

Built lazily and once per app, so `create_app(settings)` in a test gets its own database and
configuration, and the first call pays for model loading only once.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property

from voice.config import Settings

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._synths: dict[str, object] = {}

    @cached_property
    def db(self):
        from voice.store.db import Database

        db = Database(self.settings.database_url)
        db.create_all()
        return db

    @cached_property
    def lanes(self):
        """Where every call's and message's model work runs: the event loop never waits on models."""
        from voice.conversation.lanes import ModelLanes

        call = self.settings.call
        return ModelLanes(fast_workers=call.fast_workers, asr_batch=call.asr_batch)

    @cached_property
    def pipeline(self):
        """The one turn (recognise -> agent -> synthesise) every channel runs."""
        from voice.conversation.pipeline import TurnPipeline

        return TurnPipeline(self.agent, self.lanes, self.recognizer, self.synthesizer)

    def endpointing(self, language: str):
        """The pack's turn-taking policy; VOICE_CALL_TURN_MODEL overrides its end-of-turn model."""
        from dataclasses import replace

        from voice.packs import endpointing

        policy = endpointing(language)
        override = self.settings.call.turn_model
        return replace(policy, turn_model=override) if override else policy

    def language_digits(self) -> dict[str, str]:
        from voice.packs import language_digits

        return language_digits(self.settings.call.language_digits)

    def turn_model(self, language: str):
        """Smart Turn v3, loaded once, for packs whose endpointing names it; None when unavailable
        (the pack's silence rule then ends turns, and a warning says why once)."""
        if self.endpointing(language).turn_model == "none":
            return None
        with self._lock:
            if "_turn_model" not in self.__dict__:
                from voice.audio.turn import load_smart_turn

                try:
                    self._turn_model = load_smart_turn(
                        self.settings.call.smart_turn_model, self.settings.paths.cache_dir
                    )
                except Exception as exc:  # a missing model must not stop calls
                    log.warning("end-of-turn model unavailable (%s); turns end on silence only", exc)
                    self._turn_model = None
            return self._turn_model

    @cached_property
    def twilio(self):
        from voice.telephony.rest import TwilioRest

        s = self.settings
        return TwilioRest(s.twilio_api_base_url, s.twilio_account_sid, s.twilio_auth_token)

    def close(self) -> None:
        if "lanes" in self.__dict__:
            self.lanes.shutdown()

    @cached_property
    def agent(self):
        from voice.agent.factory import make_agent

        with self._lock:
            return make_agent(self.settings)

    def warm_up(self) -> None:
        """Load every pack's speech models before the first call needs them."""
        from voice.packs import installed_packs

        for code in installed_packs():
            try:
                self.recognizer(code)
                self.synthesizer(code)
                self.turn_model(code)
            except Exception as exc:  # a pack without a usable model must not stop the server
                log.warning("warm-up of %s failed: %s", code, exc)

    def recognizer(self, language: str | None):
        from voice.asr import recognizer_for

        return recognizer_for(language, settings=self.settings.asr)

    def synthesizer(self, language: str):
        from voice.packs import get_pack
        from voice.tts import Synthesizer
        from voice.tts.pipeline import make_engine

        code = get_pack(language).code
        with self._lock:
            if code not in self._synths:
                pack = get_pack(code)
                self._synths[code] = Synthesizer(pack, make_engine(pack, self.settings.tts))
            return self._synths[code]
