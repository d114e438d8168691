"""Phone calls end to end over Twilio's real protocol: webhook signature, TwiML, media stream,
real whisper-base, the FAQ route, espeak speech, marks, barge-in, DTMF, idle, teardown.

A real gateway runs on a local port; a local server stands in for Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import jiwer
import numpy as np
import pytest
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect

from tests.call_fixtures import start_line
from tests.conftest import espeak
from voice.asr.guards import GuardOptions, speech_regions
from voice.audio import Audio, mulaw_decode
from voice.packs import get_pack
from voice.packs.langid import LanguageIdentifier
from voice.telephony.simulator import Pause, Press, SendRaw, Speak

pytestmark = pytest.mark.slow
# whisper-base hears this espeak sentence right even through 8 kHz mu-law ("What is the balance of
# my account?" sometimes comes back as "...the melon...").
BALANCE_QUESTION = "Hello. I would like to check my balance, please."


def run(coro):
    return asyncio.run(coro)


def bot_wer(report, pack, recognizer) -> list[float]:
    """Each bot reply, as the caller heard it (8 kHz mu-law), transcribed back vs its text."""
    scores = []
    for t in report.to_json()["turns"]:
        reply = report.turns[t["index"] - 1].reply_audio
        heard = recognizer.transcribe(reply, pack.code).text
        reference = pack.normalise(pack.verbalise(t["bot_text"]))
        scores.append(jiwer.wer(reference, pack.normalise(pack.verbalise(heard)) or "<empty>"))
    return scores


def test_english_call_gives_the_balance(line, whisper_base):
    report = run(line.caller("eng").run([Speak(espeak(BALANCE_QUESTION))]))
    data = report.to_json()
    assert report.greeting_frames, "the caller hears the pack's greeting first"
    turn = data["turns"][0]
    assert turn["heard"]  # whisper-base on 8 kHz espeak: "balance" is sometimes heard as "melon"
    # The demo backend holds 3000 FCFA and 500 MB for the demo caller (+221700000001).
    assert "3000" in turn["bot_text"] and "500" in turn["bot_text"]
    assert turn["route"] == "faq" and turn["voice_to_voice_s"] is not None
    scores = bot_wer(report, get_pack("eng"), whisper_base)
    print(f"\nbot audio -> whisper-base WER per turn: {scores}; v2v {turn['voice_to_voice_s']} s")
    assert np.mean(scores) <= 0.6
    # Every mark we were sent came back, as Twilio does once audio has played.
    assert report.marks_echoed


def test_french_call_answers_in_french(line, whisper_base):
    caller = line.caller("fra")
    report = run(caller.run([Speak(espeak("Bonjour, je voudrais connaître mon solde.", "fr", 140))]))
    turn = report.to_json()["turns"][0]
    assert turn["bot_text"] and turn["heard"]
    assert LanguageIdentifier.installed().identify(turn["bot_text"])[0] == "fra"
    assert httpx.get(f"{line.url}/v1/calls/{caller.call_sid}").json()["language"] == "fra"
    reply = report.turns[0].reply_audio
    assert speech_regions(reply.to_rate(16000).samples, GuardOptions()), "the reply is speech"
    # espeak French band-limited to 8 kHz is heard as Thai or Spanish by whisper-base, while
    # the same audio at 22 kHz is detected as French: print, do not assert, the audio's language.
    print(
        "\nwhisper-base language of the 8 kHz French reply:", whisper_base.transcribe(reply, "auto").language
    )


def test_barge_in_clears_within_300_ms_and_keeps_what_was_heard(line):
    caller = line.caller("eng")
    steps = [
        Speak(espeak("What offers do you have?"), wait_reply=False),
        Speak(espeak("Stop. What is my balance?"), interrupt_after_s=2.0),
    ]
    report = run(caller.run(steps))
    assert report.clears, "caller speech during playback must clear Twilio's buffer"
    interrupted, second = report.turns
    delay = report.clears[0] - second.speech_start  # from the first frame with speech in it
    print(f"\nclear {delay * 1000:.0f} ms after speech onset")
    assert delay <= 0.3
    stored = httpx.get(f"{line.url}/v1/calls/{caller.call_sid}").json()["turns"]
    first = next(t for t in stored if t["index"] == 1)
    assert first["interrupted"]
    assert len(first["bot_text"]) < len(first["bot_text_planned"])
    assert first["bot_text_planned"].startswith(first["bot_text"].split(" ")[0]) or first["bot_text"] == ""


def test_bad_or_missing_signature_is_403(line):
    url = f"{line.url}/twilio/voice?lang=eng"
    form = {"CallSid": "CA123", "From": "+221700000001", "To": "+221338000000"}
    assert httpx.post(url, data=form).status_code == 403
    wrong = RequestValidator("not-the-token").compute_signature(url, form)
    assert httpx.post(url, data=form, headers={"X-Twilio-Signature": wrong}).status_code == 403
    good = RequestValidator(line.settings.twilio_auth_token).compute_signature(url, form)
    tampered = {**form, "From": "+221700000002"}
    assert httpx.post(url, data=tampered, headers={"X-Twilio-Signature": good}).status_code == 403
    ok = httpx.post(url, data=form, headers={"X-Twilio-Signature": good})
    assert ok.status_code == 200 and "<Stream" in ok.text


async def _open_stream(line, token: str | None, call_sid: str = "CA-token-test") -> int | None:
    params = {"lang": "eng", **({"token": token} if token is not None else {})}
    async with connect(line.url.replace("http", "ws") + "/twilio/media") as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call"}))
        await ws.send(
            json.dumps(
                {
                    "event": "start",
                    "streamSid": "MZ1",
                    "start": {
                        "streamSid": "MZ1",
                        "callSid": call_sid,
                        "accountSid": "AC1",
                        "customParameters": params,
                        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    },
                }
            )
        )
        try:
            await asyncio.wait_for(ws.recv(), timeout=5)
            return None  # it spoke to us: the stream was accepted
        except Exception:
            return ws.close_code


def test_stream_without_valid_unused_token_is_closed(line):
    assert run(_open_stream(line, None)) == 1008
    assert run(_open_stream(line, "forged-token")) == 1008
    caller = line.caller("eng")

    async def reuse():
        async with httpx.AsyncClient() as client:
            _, params = await caller.dial(client)
        first = await _open_stream(line, params["token"], caller.call_sid)
        second = await _open_stream(line, params["token"], caller.call_sid)
        return first, second

    first, second = run(reuse())
    assert first is None and second == 1008

    # A token is bound to its CallSid.
    async def other_call():
        async with httpx.AsyncClient() as client:
            _, params = await line.caller("eng").dial(client)
        return await _open_stream(line, params["token"], "CA-some-other-call")

    assert run(other_call()) == 1008


def test_malformed_messages_do_not_harm_other_calls(line):
    bad = [
        SendRaw("{not json"),
        SendRaw(json.dumps({"event": "media", "media": {"payload": "###not base64###"}})),
        SendRaw(json.dumps({"event": "no-such-event"})),
        SendRaw(json.dumps({"event": "start", "start": {}})),  # a second start, malformed
        SendRaw("x" * 100_000),  # oversized
        Pause(0.5),
        Speak(espeak(BALANCE_QUESTION)),
    ]

    async def both():
        return await asyncio.gather(
            line.caller("eng").run(bad),
            line.caller("eng").run([Speak(espeak(BALANCE_QUESTION))]),
        )

    noisy, clean = run(both())
    assert "3000" in (clean.to_json()["turns"][0]["bot_text"] or "")
    assert "3000" in (noisy.to_json()["turns"][0]["bot_text"] or ""), (
        "bad messages are ignored, the call goes on"
    )


def test_dtmf_zero_hands_off_through_twilio_rest(line):
    line.standin.requests.clear()
    caller = line.caller("eng")
    report = run(caller.run([Press("0"), Pause(8)]))
    assert report.ended_by_twilio
    req = next(r for r in line.standin.requests if r.call_sid == caller.call_sid)
    assert req.authorized
    assert "<Dial>+221338009999</Dial>" in req.form["Twiml"]
    call = httpx.get(f"{line.url}/v1/calls/{caller.call_sid}").json()
    assert call["outcome"] == "handed_off"


def test_dtmf_switches_language(line, whisper_base):
    question = Speak(espeak(BALANCE_QUESTION))
    report = run(line.caller("fra").run([Press("4"), Pause(5), question]))
    # After 4 the French line greets again in English (espeak French at 8 kHz is not
    # recognisable to whisper-base; English is), and the next answer comes in English.
    tail = report.greeting_frames[-int(3 / 0.02) :]
    assert whisper_base.transcribe(Audio(mulaw_decode(b"".join(tail)), 8000), "auto").language == "eng"
    assert report.to_json()["turns"][0]["bot_text"].startswith("Your balance is 3000")


@pytest.fixture(scope="module")
def impatient_line(tmp_path_factory):
    line, servers = start_line(tmp_path_factory, idle_timeout_s=2.0)
    yield line
    for s in servers:
        s.__exit__(None, None, None)


def test_idle_caller_gets_a_prompt_then_goodbye_and_hang_up(impatient_line):
    caller = impatient_line.caller("eng")
    report = run(caller.run([Pause(20)]))
    assert report.ended_by_twilio
    req = next(r for r in impatient_line.standin.requests if r.call_sid == caller.call_sid)
    assert req.form == {"Status": "completed"}
    call = httpx.get(f"{impatient_line.url}/v1/calls/{caller.call_sid}").json()
    assert call["outcome"] == "abandoned" and call["ended_at"]


def test_metrics_after_calls(line):
    text = httpx.get(f"{line.url}/metrics").text
    assert 'voice_stage_seconds_count{stage="asr"}' in text
    assert "voice_calls_total" in text and "voice_barge_ins_total" in text
