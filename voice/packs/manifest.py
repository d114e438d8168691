"""The pack manifest: what a language pack is, where its artifacts come from, what it scored.

Validated with pydantic so a bad pack fails at discovery with a message naming the field.
"""

from __future__ import annotations

import re
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ArtifactKind = Literal[
    "asr-model",
    "tts-model",
    "llm-model",
    "llm-adapter",
    "lexicon",
    "langid-profile",
    "text",
    "test-set",
    "other",
]
TokenStrategy = Literal["native", "reuse", "new"]
NON_COMMERCIAL = re.compile(r"(^|[-_ ])NC([-_ ]|$)|non[- ]?commercial", re.IGNORECASE)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Names(_Strict):
    native: str
    fr: str
    en: str


class Artifact(_Strict):
    """A file or model the pack uses: from the hub, a URL, or bundled inside the package."""

    name: str
    kind: ArtifactKind
    hf_id: str | None = None
    revision: str | None = None
    url: str | None = None
    path: str | None = None  # relative to the pack's package dir (bundled)
    sha256: str | None = None
    size: int | None = None
    licence: str
    source: str
    note: str | None = None

    @model_validator(mode="after")
    def _one_location(self) -> Artifact:
        if sum(x is not None for x in (self.hf_id, self.url, self.path)) != 1:
            raise ValueError(f"artifact {self.name!r} needs exactly one of hf_id, url, path")
        if self.path is not None and (self.sha256 is None or self.size is None):
            raise ValueError(f"bundled artifact {self.name!r} needs sha256 and size")
        if self.path is not None and (self.path.startswith("/") or ".." in self.path.split("/")):
            raise ValueError(f"artifact {self.name!r}: path must stay inside the pack")
        return self

    @property
    def non_commercial(self) -> bool:
        return bool(NON_COMMERCIAL.search(self.licence))

    @property
    def location(self) -> str:
        if self.hf_id:
            return f"hf:{self.hf_id}" + (f"@{self.revision}" if self.revision else "")
        return self.url or f"bundled:{self.path}"


class ASRTier(_Strict):
    model: str  # a model spec (packaged name, hub id, or an artifact name prefixed "artifact:")
    engine: str = "faster-whisper"
    note: str | None = None


class ASRConfig(_Strict):
    whisper_language: str  # the language token used at inference, e.g. "en", or "fr" reused for Wolof
    token_strategy: TokenStrategy = "native"
    token_source: str | None = None  # for reuse/new: whose embedding the token starts from
    tiers: dict[Literal["edge", "server"], ASRTier]


class TTSConfig(_Strict):
    espeak_voice: str
    vits: str | None = None  # artifact name of a VITS model (VitsModel dir), optional
    espeak_rate: int | None = None


class LLMConfig(_Strict):
    model: str = "openai/gpt-oss-20b"
    adapter: str | None = None  # artifact name of a LoRA adapter


class EndpointingConfig(_Strict):
    """The pack's turn-taking policy on a live call: when the caller has finished speaking."""

    # "smart-turn": ask the end-of-turn model at each short pause; "none": silence alone decides.
    turn_model: Literal["none", "smart-turn"] = "none"
    pause_ms: int = Field(200, gt=0)  # a pause this long starts ASR early (and asks the turn model)
    silence_ms: int = Field(600, gt=0)  # a pause this long ends the turn whatever the model says
    turn_threshold: float = Field(0.5, ge=0.0, le=1.0)  # turn-model probability of a complete turn
    # Words a sentence cannot end on ("of", "de"): an early transcript that stops on one is not a
    # finished turn, whatever the turn model heard in the voice.
    continuation_words: list[str] = Field(default_factory=list)
    note: str | None = None  # why this policy suits the language

    @model_validator(mode="after")
    def _pause_before_silence(self) -> EndpointingConfig:
        if self.pause_ms > self.silence_ms:
            raise ValueError(f"endpointing pause_ms {self.pause_ms} exceeds silence_ms {self.silence_ms}")
        return self


class CallConfig(_Strict):
    """How the pack's language is offered on a phone line."""

    dtmf_digit: str | None = Field(None, pattern=r"^[1-9]$")  # the key that switches to this language
    default_rank: int = 100  # lower ranks first; the lowest-ranked installed pack is the default
    endpointing: EndpointingConfig = EndpointingConfig()

    @field_validator("dtmf_digit", mode="before")
    @classmethod
    def _digit_as_text(cls, v: object) -> object:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class EvalResult(_Strict):
    test_set: str
    metric: str
    value: float
    normaliser_version: str
    model: str | None = None
    note: str | None = None


class PackManifest(_Strict):
    code: str = Field(pattern=r"^[a-z]{3}$", description="ISO 639-3")
    bcp47: str
    names: Names
    scripts: list[str]
    version: str
    core: str = Field(description="compatible teranga-voice versions, a PEP 440 specifier")
    aliases: list[str] = []
    licence: str = "Apache-2.0"
    normaliser_version: str = "1"
    asr: ASRConfig
    tts: TTSConfig
    llm: LLMConfig = LLMConfig()
    call: CallConfig = CallConfig()
    artifacts: list[Artifact] = []
    eval: list[EvalResult] = []

    @field_validator("version")
    @classmethod
    def _semver(cls, v: str) -> str:
        if not re.fullmatch(r"\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?", v):
            raise ValueError(f"pack version {v!r} is not semver (MAJOR.MINOR.PATCH)")
        return v

    @field_validator("core")
    @classmethod
    def _specifier(cls, v: str) -> str:
        try:
            SpecifierSet(v)
        except InvalidSpecifier as exc:
            raise ValueError(f"core range {v!r} is not a version specifier") from exc
        return v

    def supports_core(self, core_version: str) -> bool:
        try:
            return Version(core_version) in SpecifierSet(self.core)
        except InvalidVersion:
            return True  # a source checkout without version metadata

    def artifact(self, name: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.name == name), None)

    @property
    def non_commercial(self) -> list[Artifact]:
        return [a for a in self.artifacts if a.non_commercial]
