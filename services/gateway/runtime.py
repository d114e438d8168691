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
    def model_executor(self):
        """Bounded pool for ASR, agent and TTS work of every call: the event loop never waits on models."""
        from voice.telephony.services import ModelPool

        return ModelPool(self.settings.call.model_workers)

    @cached_property
    def twilio(self):
        from voice.telephony.rest import TwilioRest

        s = self.settings
        return TwilioRest(s.twilio_api_base_url, s.twilio_account_sid, s.twilio_auth_token)

    def close(self) -> None:
        if "model_executor" in self.__dict__:
            self.model_executor.shutdown(wait=False, cancel_futures=True)

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
