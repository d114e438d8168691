"""The phone line's language settings come from the installed packs (manifest `call` section),
unless VOICE_CALL_DEFAULT_LANGUAGE / VOICE_CALL_LANGUAGE_DIGITS say otherwise (issue 12)."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from voice.config import CallSettings, MessagingSettings, Settings
from voice.errors import UnknownLanguageError
from voice.packs import EndpointingPolicy, default_language, endpointing, get_pack, language_digits
from voice.packs import call as callmod
from voice.packs.manifest import CallConfig, EndpointingConfig


def only(monkeypatch, *codes: str, **overrides: CallConfig) -> None:
    """Pretend only these packs are installed (with their `call` section replaced where given)."""
    packs = {}
    for code in codes:
        pack = get_pack(code)
        if code in overrides:
            pack = copy.copy(pack)
            pack.manifest = pack.manifest.model_copy(update={"call": overrides[code]})
        packs[code] = pack
    monkeypatch.setattr(callmod, "installed_packs", lambda: packs)


def test_the_bundled_packs_call_sections():
    assert default_language() == "wol"  # rank 10
    assert language_digits() == {"1": "wol", "2": "fuc", "3": "fra", "4": "eng"}
    for code in ("wol", "fuc", "fra", "eng"):
        e = get_pack(code).manifest.call.endpointing
        policy = endpointing(code)
        assert isinstance(policy, EndpointingPolicy) and e.note
        assert (policy.turn_model, policy.pause_ms, policy.silence_ms, policy.turn_threshold) == (
            e.turn_model,
            e.pause_ms,
            e.silence_ms,
            e.turn_threshold,
        )
    assert endpointing("en") == endpointing("eng")  # a tag works too
    for code in ("wol", "fuc"):  # Smart Turn v3 was not trained on them
        assert endpointing(code).turn_model == "none"
        assert "not trained" in get_pack(code).manifest.call.endpointing.note


def test_the_default_is_the_lowest_ranked_installed_pack(monkeypatch):
    only(monkeypatch, "eng", "fra")
    assert default_language() == "fra"
    assert language_digits() == {"3": "fra", "4": "eng"}
    only(monkeypatch, "eng", "fra", eng=CallConfig(dtmf_digit="3", default_rank=5))
    assert default_language() == "eng"
    assert language_digits() == {"3": "eng"}  # the same digit twice: the lower rank keeps it
    only(monkeypatch)
    with pytest.raises(UnknownLanguageError, match="no language pack is installed"):
        default_language()
    assert language_digits() == {}


def test_configured_values_win():
    assert default_language("fra") == "fra"
    assert default_language("en") == "eng"  # tag or alias -> the pack's code
    with pytest.raises(UnknownLanguageError, match="xyz"):
        default_language("xyz")
    assert language_digits("1=fra, 2=eng") == {"1": "fra", "2": "eng"}
    assert CallSettings(language_digits="5=eng").digits == {"5": "eng"}
    assert CallSettings(language_digits="").digits == language_digits()
    fields = CallSettings.model_fields  # the core's defaults name no language
    assert fields["default_language"].default == "" and fields["language_digits"].default == ""


def test_a_whatsapp_line_falls_back_to_the_packs_default():
    from voice.messaging.language import default_language as line_language

    settings = Settings(
        call=CallSettings(default_language=""), messaging=MessagingSettings(default_language="")
    )
    assert line_language(settings) == "wol"
    settings.call.default_language = "fra"
    assert line_language(settings) == "fra"


def test_the_call_section_is_validated():
    assert CallConfig.model_validate({"dtmf_digit": 5}).dtmf_digit == "5"  # YAML's unquoted digit
    assert CallConfig().default_rank == 100 and CallConfig().dtmf_digit is None
    assert EndpointingConfig() == EndpointingConfig(
        turn_model="none", pause_ms=200, silence_ms=600, turn_threshold=0.5
    )
    for bad in ({"dtmf_digit": "0"}, {"dtmf_digit": "*"}, {"dtmf_digit": "12"}, {"rank": 1}):
        with pytest.raises(ValidationError):
            CallConfig.model_validate(bad)
    for bad in ({"turn_model": "vad"}, {"pause_ms": 700, "silence_ms": 600}, {"turn_threshold": 1.5}):
        with pytest.raises(ValidationError):
            EndpointingConfig.model_validate(bad)
