"""One settings object for the whole system, read from the environment (and `.env`).

Each stage gets only its own part (`settings.asr`, `settings.tts`, ...). Names that other
systems rely on (DESIGN.md) keep their exact spelling: VOICE_PUBLIC_URL, TWILIO_*, WHATSAPP_*,
VOICE_DB_URL, VOICE_LLM_URL, VOICE_LLM_MODEL.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _user_dir(kind: str) -> Path:
    fn = {"data": platformdirs.user_data_dir, "cache": platformdirs.user_cache_dir}[kind]
    return Path(fn("teranga-voice", appauthor=False))


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")


class PathSettings(BaseSettings):
    model_config = _section("VOICE_")
    data_dir: Path = Field(default_factory=lambda: _user_dir("data"))
    cache_dir: Path = Field(default_factory=lambda: _user_dir("cache"))
    packs_dir: Path | None = None  # built pack archives the gateway serves at /packs/

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"


class ASRSettings(BaseSettings):
    model_config = _section("VOICE_ASR_")
    engine: str | None = None  # None: the pack tier's engine, else faster-whisper
    # None: the language pack's edge model, else the packaged multilingual whisper-base.
    model: str | None = None
    # Used (with a warning) when the pack's model cannot be found, e.g. offline without weights.
    fallback_model: str | None = "whisper-base"
    threads: int = 2
    compute_type: str = "int8"
    beam_size: int = 5
    vad_gate: bool = True
    vad_threshold: float = 0.5
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    max_repeat_ratio: float = 0.5
    # "utterance": audio <= 30 s in a known language is encoded in a short window (the utterance
    # plus >= 0.5 s of silence, rounded up to window_step_s) and decoded with bounded length and a
    # repetition check, falling back to the full window when the result looks looped or unsure;
    # "full": Whisper's 30 s window for everything. bench/asr_window.py measures both. Fine-tunes
    # with a voice-asr.json keep the full window they were trained and evaluated in, unless that
    # file says "window": "utterance" (voice/asr/recognizer.py model_window).
    window: str = "utterance"
    window_step_s: float = 5.0
    max_tokens_per_s: float = 10.0  # the short window's token budget per second of audio (+10)
    repetition_penalty: float = 1.1  # short window only: damps its decoder's loops


class TTSSettings(BaseSettings):
    model_config = _section("VOICE_TTS_")
    engine: str = "auto"  # auto: the pack's VITS model when present locally, else espeak-ng
    espeak_binary: str = "espeak-ng"
    espeak_rate: int = 160
    vits_model: str | None = None


def parse_pairs(spec: str) -> dict[str, str]:
    """ "a=1, b=2" -> {"a": "1", "b": "2"} (the shape of the mapping settings)."""
    return {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in spec.split(",")) if k.strip()}


class AgentSettings(BaseSettings):
    model_config = _section("VOICE_AGENT_")
    # Energy routing: confident FAQ/intent matches never reach the LLM.
    faq_threshold: float = 0.5
    # Below this, with no LLM to ask, the agent says it does not know (and offers a human).
    min_confidence: float = 0.3
    max_failures: int = 2  # consecutive misunderstood turns before handing off
    max_tool_rounds: int = 4
    turn_timeout_s: float = 20.0
    reasoning_effort: str = "low"
    max_tokens: int = 400
    kb_entries: int = 3  # retrieved KB entries given to the LLM
    backend: str = "auto"  # auto | openai | harmony | llamacpp | faq
    model_path: str | None = None  # local gpt-oss dir (harmony) or GGUF file (llamacpp)
    adapter_path: str | None = None  # one LoRA adapter for every language (in-process backend)
    # In-process backend without adapter_path: load the LoRA adapter each installed language pack
    # bundles (manifest llm.adapter) and use it for that language's turns.
    pack_adapters: bool = True
    # OpenAI-compatible server: the model name to ask per language, e.g. "wol=wol-lora,fuc=fuc-lora"
    # for adapters served by `vllm serve ... --enable-lora --lora-modules wol-lora=DIR`.
    language_models: str = ""
    demo_caller: str = "+221700000001"


class CallSettings(BaseSettings):
    model_config = _section("VOICE_CALL_")
    # The line's default language; empty: the installed pack with the lowest `call.default_rank`.
    default_language: str = ""
    # Which language a dialled number serves, e.g. "+221338000001=wol,+221338000002=fuc".
    number_languages: str = ""
    # DTMF digit -> language during a call, e.g. "1=xxx,2=yyy"; empty: each installed pack's
    # `call.dtmf_digit`. Digit 0 hands off to a human, * reads the menu.
    language_digits: str = ""
    handoff_number: str = ""
    token_ttl_s: int = 120
    idle_timeout_s: float = 10.0
    vad_threshold: float = 0.5
    vad_neg_threshold: float = 0.35
    vad_min_speech_ms: int = 128
    # The pause that ends a turn and the end-of-turn model come from each pack's `call.endpointing`.
    smart_turn_model: str | None = None  # Smart Turn v3 ONNX path; default: the installed/cached copy
    turn_model: str = ""  # "" : each pack's choice; "none" or "smart-turn" for every language
    barge_in: bool = True
    playback_lead_ms: int = 100  # how far ahead of real time outbound audio is sent
    fast_workers: int = 2  # threads for the agent's FAQ route, TTS and the turn model (short jobs)
    # Utterances of different calls that end together share one Whisper batch (all of it waits for
    # the batch: 3 took 0.62 s, 10 took 1.62 s on 2 cores, bench/asr_window.py).
    asr_batch: int = 4

    @property
    def digits(self) -> dict[str, str]:
        """DTMF digit -> language code: language_digits, else the installed packs' digits."""
        from voice.packs.call import language_digits

        return language_digits(self.language_digits)

    @property
    def numbers(self) -> dict[str, str]:
        return parse_pairs(self.number_languages)


class MessagingSettings(BaseSettings):
    """WhatsApp voice notes (Twilio and Meta Cloud API): the job worker and its limits."""

    model_config = _section("VOICE_MESSAGING_")
    worker: bool = True  # `voice serve` runs the job worker in-process; false: run `voice worker` apart
    concurrency: int = 1  # job threads per worker process (model work shares the gateway's pool)
    # The line's default language; empty: the number's language (VOICE_CALL_NUMBER_LANGUAGES), then
    # VOICE_CALL_DEFAULT_LANGUAGE.
    default_language: str = ""
    langid_min_confidence: float = 0.6  # below this, language ID on the transcript is not trusted
    max_media_bytes: int = 16 * 1024 * 1024  # WhatsApp's own limit for audio
    max_duration_s: float = 180.0
    voice_reply_to_text: bool = False  # also send a voice note when the customer typed
    # Signs GET /media/{id} URLs; empty: derived from TWILIO_AUTH_TOKEN (or WHATSAPP_APP_SECRET),
    # else a random key kept in the data dir. Every gateway/worker process must agree on it.
    media_secret: str = Field("", repr=False)
    media_url_ttl_s: int = 3600
    lease_s: float = 30.0  # a job's lease; renewed every lease_s/3 while it is worked on
    poll_interval_s: float = 1.0
    http_timeout_s: float = 20.0
    max_attempts: int = 6  # transient failures (provider 5xx, timeouts) before giving up
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    batch_size: int = 1  # > 1: transcribe up to this many waiting notes together (batched Whisper)
    # pack: short notes share 30 s Whisper windows (pays on CPU) | pipeline: BatchedInferencePipeline (GPU)
    batch_strategy: str = "pack"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias="VOICE_HOST")
    warm_up: bool = Field(True, validation_alias="VOICE_WARM_UP")  # load speech models at start-up
    port: int = Field(8080, validation_alias="VOICE_PORT")
    public_url: str = Field("http://127.0.0.1:8080", validation_alias="VOICE_PUBLIC_URL")
    db_url: str | None = Field(None, validation_alias="VOICE_DB_URL")
    # When set, /v1/* needs "Authorization: Bearer <token>" (integration API, stored calls).
    api_token: str = Field("", validation_alias="VOICE_API_TOKEN", repr=False)
    llm_url: str | None = Field(None, validation_alias="VOICE_LLM_URL")
    llm_model: str = Field("openai/gpt-oss-20b", validation_alias="VOICE_LLM_MODEL")
    twilio_account_sid: str = Field("", validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", validation_alias="TWILIO_AUTH_TOKEN", repr=False)
    twilio_api_base_url: str = Field("https://api.twilio.com", validation_alias="TWILIO_API_BASE_URL")
    whatsapp_app_secret: str = Field("", validation_alias="WHATSAPP_APP_SECRET", repr=False)
    whatsapp_verify_token: str = Field("", validation_alias="WHATSAPP_VERIFY_TOKEN", repr=False)
    whatsapp_access_token: str = Field("", validation_alias="WHATSAPP_ACCESS_TOKEN", repr=False)
    whatsapp_graph_url: str = Field("https://graph.facebook.com/v21.0", validation_alias="WHATSAPP_GRAPH_URL")

    paths: PathSettings = Field(default_factory=PathSettings)
    asr: ASRSettings = Field(default_factory=ASRSettings)
    tts: TTSSettings = Field(default_factory=TTSSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    call: CallSettings = Field(default_factory=CallSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)

    def signing_token(self) -> str:
        """TWILIO_AUTH_TOKEN, or on embedded defaults a random local token kept in the data dir,
        so `voice call --url` can sign for a local `voice serve`. Real Twilio requests then fail
        the check (403): closed by default until the operator sets the real token."""
        if self.twilio_auth_token:
            return self.twilio_auth_token
        path = self.paths.data_dir / "local-twilio-token"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(16))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.paths.data_dir / 'voice.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def env_names(model: type[BaseSettings] = Settings) -> set[str]:
    """Every environment variable the settings read (docs, compose checks)."""
    prefix = model.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            names |= env_names(annotation)
        elif isinstance(field.validation_alias, str):
            names.add(field.validation_alias)
        else:
            names.add(f"{prefix}{name}".upper())
    return names
