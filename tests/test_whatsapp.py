"""WhatsApp end to end: Twilio and Meta webhooks -> durable jobs -> worker -> text + voice-note replies.

A real gateway (its worker running in the app lifespan) serves on a local port with SQLite or
PostgreSQL; local servers stand in for Twilio's REST API + media host and Meta's Graph API
(tests/whatsapp_standins.py), configured through TWILIO_API_BASE_URL and WHATSAPP_GRAPH_URL, and
check our credentials. Slow tests use the real whisper-base and espeak-ng speech; the crash tests
run `voice serve` as a subprocess and SIGKILL it mid-job.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import jiwer
import pytest
from sqlalchemy import create_engine, select, text, update

from services.gateway import create_app
from tests.conftest import espeak, tone
from tests.whatsapp_standins import (
    MetaStandIn,
    TwilioWhatsAppStandIn,
    encode_as,
    is_ogg_opus_mono,
    meta_message,
    meta_payload,
    meta_signature,
    meta_status,
    post_meta,
    post_twilio,
    twilio_inbound,
    wait_until,
)
from voice.audio import Audio, load_audio
from voice.config import ASRSettings, MessagingSettings, Settings
from voice.metrics import REGISTRY
from voice.packs import get_pack
from voice.packs.langid import LanguageIdentifier
from voice.store.db import Database
from voice.store.models import Conversation, MediaBlob, MessageJob
from voice.telephony.twilio_standin import BackgroundServer, free_port

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("VOICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OURS = "+14155238886"  # our WhatsApp number (Twilio's sandbox number shape)
DEMO = "+221700000001"  # the demo backend holds 3000 FCFA and 500 MB for this number
QUESTION = "What is the balance of my account?"
FRENCH = "Bonjour, je voudrais connaître mon solde."
LINE_DEFAULTS = dict(
    default_language="fra",
    lease_s=3.0,
    poll_interval_s=0.2,
    backoff_base_s=0.2,
    backoff_max_s=1.0,
    max_attempts=4,
    max_duration_s=20.0,
    media_url_ttl_s=600,
)


def new_number() -> str:
    return "+22176" + "".join(secrets.choice("0123456789") for _ in range(7))


def sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def wamid() -> str:
    return "wamid." + secrets.token_urlsafe(24)


# -- databases ------------------------------------------------------------------------------------------


@contextmanager
def postgres_schema():
    """A fresh schema in the `test` database, dropped afterwards."""
    name = "wa_" + secrets.token_hex(5)
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{name}"
    finally:
        from voice.store.db import get_database

        get_database.cache_clear()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


@contextmanager
def database_url(backend: str, tmp: Path):
    if backend == "postgres":
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'voice.db'}"


# -- a line: gateway + stand-ins ------------------------------------------------------------------------


@dataclass
class Line:
    url: str
    settings: Settings
    twilio: TwilioWhatsAppStandIn
    meta: MetaStandIn
    db: Database
    app: object = None

    @property
    def worker(self):
        return self.app.state.worker

    # inbound
    def twilio_text(self, sender: str, body: str, message_sid: str | None = None) -> str:
        message_sid = message_sid or sid()
        form = twilio_inbound(message_sid, sender, OURS, self.settings.twilio_account_sid, body=body)
        assert post_twilio(self.url, self.settings.twilio_auth_token, form).status_code == 200
        return message_sid

    def twilio_media(self, sender: str, data: bytes, content_type: str, message_sid=None, **behaviour) -> str:
        message_sid = message_sid or sid("MM")
        url = self.twilio.add_media(message_sid, data, content_type, **behaviour)
        form = twilio_inbound(
            message_sid,
            sender,
            OURS,
            self.settings.twilio_account_sid,
            media_url=url,
            content_type=content_type,
        )
        assert post_twilio(self.url, self.settings.twilio_auth_token, form).status_code == 200
        return message_sid

    def meta_post(self, sender: str, message: dict) -> httpx.Response:
        payload = meta_payload(self.meta.phone_number_id, [message], sender=sender)
        return post_meta(self.url, self.settings.whatsapp_app_secret, payload)

    def meta_text(self, sender: str, body: str) -> str:
        mid = wamid()
        assert self.meta_post(sender, meta_message(mid, sender, "text", body=body)).status_code == 200
        return mid

    def meta_audio(self, sender: str, data: bytes, mime: str = "audio/ogg", **behaviour) -> str:
        mid = wamid()
        media_id = self.meta.add_media(data, mime, **behaviour)
        message = meta_message(mid, sender, "audio", media_id=media_id, mime_type=f"{mime}; codecs=opus")
        assert self.meta_post(sender, message).status_code == 200
        return mid

    # the database
    def job(self, provider: str, message_id: str) -> MessageJob | None:
        with self.db.session() as s:
            job = s.scalar(
                select(MessageJob).where(MessageJob.provider == provider, MessageJob.message_id == message_id)
            )
            if job is not None:
                s.expunge(job)
            return job

    def finished(self, provider: str, message_id: str, timeout: float = 60) -> MessageJob:
        def done():
            job = self.job(provider, message_id)
            return job is not None and (
                job.state == "sent" or (job.state == "failed" and job.notice != "pending")
            )

        assert wait_until(done, timeout), f"job not finished: {self.job(provider, message_id)!r}"
        return self.job(provider, message_id)


def make_settings(tmp: Path, port: int, db_url: str, twilio: TwilioWhatsAppStandIn, meta: MetaStandIn, **kw):
    messaging = {**LINE_DEFAULTS, **kw}
    return Settings(
        VOICE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_API_BASE_URL=twilio.base_url,
        WHATSAPP_APP_SECRET="app-secret-" + secrets.token_hex(8),
        WHATSAPP_VERIFY_TOKEN="verify-" + secrets.token_hex(8),
        WHATSAPP_ACCESS_TOKEN=meta.access_token,
        WHATSAPP_GRAPH_URL=meta.graph_url,
        VOICE_DB_URL=db_url,
        paths={"data_dir": tmp},
        asr=ASRSettings(),
        messaging=MessagingSettings(**messaging),
    )


@contextmanager
def standins():
    twilio = TwilioWhatsAppStandIn("AC" + secrets.token_hex(16), secrets.token_hex(16))
    meta = MetaStandIn("EAAG" + secrets.token_urlsafe(32), str(10**14 + secrets.randbelow(10**14)))
    with BackgroundServer(twilio.app()) as t, BackgroundServer(meta.app()) as m:
        twilio.base_url, meta.base_url = t.url, m.url
        yield twilio, meta


@contextmanager
def running_line(tmp: Path, db_url: str, **messaging):
    with standins() as (twilio, meta):
        port = free_port()
        settings = make_settings(tmp, port, db_url, twilio, meta, **messaging)
        app = create_app(settings)
        with BackgroundServer(app, port=port) as gw:
            yield Line(gw.url, settings, twilio, meta, app.state.runtime.db, app)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def line(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"wa-{request.param}")
    with database_url(request.param, tmp) as url, running_line(tmp, url) as ln:
        yield ln


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- webhooks: signatures, handshake, idempotency ------------------------------------------------------------


def test_twilio_webhook_needs_a_valid_signature(line):
    form = twilio_inbound(sid(), new_number(), OURS, line.settings.twilio_account_sid, body="hello")
    token = line.settings.twilio_auth_token
    assert post_twilio(line.url, token, form, signature="").status_code == 403
    assert post_twilio(line.url, "not-the-token", form).status_code == 403
    from twilio.request_validator import RequestValidator

    good = RequestValidator(token).compute_signature(f"{line.url}/twilio/whatsapp", form)
    tampered = {**form, "Body": "send all my money"}
    assert post_twilio(line.url, token, tampered, signature=good).status_code == 403
    assert line.job("twilio", form["MessageSid"]) is None, "nothing is stored for a refused webhook"
    ok = post_twilio(line.url, token, form, signature=good)
    assert ok.status_code == 200 and "<Response" in ok.text
    assert line.job("twilio", form["MessageSid"]) is not None


def test_meta_verification_handshake(line):
    token = line.settings.whatsapp_verify_token
    q = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    ok = httpx.get(f"{line.url}/whatsapp/meta", params=q)
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert (
        httpx.get(f"{line.url}/whatsapp/meta", params={**q, "hub.verify_token": "wrong"}).status_code == 403
    )
    assert httpx.get(f"{line.url}/whatsapp/meta", params={**q, "hub.mode": "unsubscribe"}).status_code == 403
    assert httpx.get(f"{line.url}/whatsapp/meta", params={"hub.challenge": "1"}).status_code == 403


def test_meta_webhook_needs_a_valid_signature(line):
    mid = wamid()
    payload = meta_payload(line.meta.phone_number_id, [meta_message(mid, new_number(), "text", body="hi")])
    secret = line.settings.whatsapp_app_secret
    assert post_meta(line.url, secret, payload, signature="").status_code == 403
    assert post_meta(line.url, "not-the-secret", payload).status_code == 403
    assert post_meta(line.url, secret, payload, signature="sha1=" + "0" * 40).status_code == 403
    import json

    body = json.dumps(payload).encode()
    sig = meta_signature(secret, body)
    tampered = body.replace(b'"hi"', b'"HI"')
    r = httpx.post(
        f"{line.url}/whatsapp/meta",
        content=tampered,
        headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"},
    )
    assert r.status_code == 403
    assert line.job("meta", mid) is None
    assert post_meta(line.url, secret, payload).status_code == 200
    assert line.job("meta", mid) is not None


def test_meta_statuses_are_acknowledged_and_ignored(line):
    before = metric("voice_messages_total", provider="meta", outcome="status")
    payload = meta_payload(
        line.meta.phone_number_id, statuses=[meta_status(wamid(), DEMO), meta_status(wamid(), DEMO, "read")]
    )
    with line.db.session() as s:
        count = len(s.scalars(select(MessageJob.id)).all())
    r = post_meta(line.url, line.settings.whatsapp_app_secret, payload)
    assert r.status_code == 200 and r.json()["statuses"] == 2
    with line.db.session() as s:
        assert len(s.scalars(select(MessageJob.id)).all()) == count
    assert metric("voice_messages_total", provider="meta", outcome="status") == before + 2


def test_text_message_delivered_three_times_gets_one_reply(line):
    sender = "+221771234567"  # the demo backend holds 1250 FCFA for this number
    message_sid = sid()
    form = twilio_inbound(message_sid, sender, OURS, line.settings.twilio_account_sid, body=QUESTION)
    token = line.settings.twilio_auth_token
    with ThreadPoolExecutor(3) as pool:  # Twilio retries; two deliveries may even overlap
        codes = list(pool.map(lambda _: post_twilio(line.url, token, form).status_code, range(3)))
    assert codes == [200, 200, 200]
    job = line.finished("twilio", message_sid)
    assert job.state == "sent" and job.language == "eng"
    time.sleep(1.0)  # nothing else trickles in
    replies = line.twilio.texts(sender)
    assert len(replies) == 1 and "1250" in replies[0].form["Body"]
    assert replies[0].form["From"] == f"whatsapp:{OURS}"
    assert job.sent_text_id == replies[0].sid and job.sent_audio_id is None
    assert not line.twilio.voices(sender), "a typed question is answered in text"
    with line.db.session() as s:
        assert len(s.scalars(select(MessageJob).where(MessageJob.message_id == message_sid)).all()) == 1


def test_meta_text_message_is_answered_in_the_senders_thread(line):
    sender = "+221781112233"  # 4800 FCFA
    first = line.finished("meta", line.meta_text(sender, QUESTION))
    assert first.state == "sent"
    [reply] = line.meta.texts(sender)
    assert "4800" in reply["text"]["body"] and reply["to"] == sender.lstrip("+")
    assert first.sent_text_id == reply["wamid"]
    # A second message continues the same conversation (history kept, language remembered).
    line.finished("meta", line.meta_text(sender, "And what offers do you have?"))
    assert len(line.meta.texts(sender)) == 2
    with line.db.session() as s:
        conv = s.scalar(
            select(Conversation).where(Conversation.channel == "meta", Conversation.sender == sender)
        )
        assert conv.language == "eng"
        assert [m["role"] for m in conv.state["history"]] == ["user", "assistant", "user", "assistant"]


def test_replies_to_one_sender_keep_their_order(line):
    sender = new_number()
    ids = [line.twilio_text(sender, f"{QUESTION} ({i})") for i in range(3)]
    jobs = [line.finished("twilio", i) for i in ids]
    sent_order = [m.sid for m in line.twilio.texts(sender)]
    assert sent_order == [j.sent_text_id for j in jobs]


# -- bad input ---------------------------------------------------------------------------------------


def _notice(line, provider: str, sender: str) -> str:
    texts = line.twilio.texts(sender) if provider == "twilio" else line.meta.texts(sender)
    assert len(texts) == 1, texts
    return texts[0].form["Body"] if provider == "twilio" else texts[0]["text"]["body"]


@pytest.mark.parametrize("provider", ["twilio", "meta"])
def test_unsupported_message_types_fail_politely(line, provider):
    failures = metric("voice_message_failures_total", provider=provider, code="unsupported_type")
    for kind in ("image", "sticker"):
        sender = new_number()
        if provider == "twilio":
            mid = line.twilio_media(
                sender, b"\x89PNG\r\n\x1a\n", f"image/{'png' if kind == 'image' else 'webp'}"
            )
        else:
            mid = wamid()
            assert (
                line.meta_post(sender, meta_message(mid, sender, kind, mime_type="image/webp")).status_code
                == 200
            )
        job = line.finished(provider, mid)
        assert job.state == "failed" and job.failure == "unsupported_type", job.reason
        assert "unsupported message type" in job.reason
        # A new sender: the line's default language (French here) and the pack's phrase.
        assert _notice(line, provider, sender) == get_pack("fra").content.phrases["didnt_hear"]
        assert job.notice == "sent"
    assert metric("voice_message_failures_total", provider=provider, code="unsupported_type") == failures + 2


@pytest.mark.parametrize("provider", ["twilio", "meta"])
def test_corrupt_audio_fails_with_a_reason_and_the_worker_goes_on(line, provider):
    sender = new_number()
    # The sender spoke English before: the polite reply is in English.
    line.finished(
        provider,
        line.twilio_text(sender, QUESTION) if provider == "twilio" else line.meta_text(sender, QUESTION),
    )
    garbage = b"OggS" + os.urandom(3000)
    if provider == "twilio":
        mid = line.twilio_media(sender, garbage, "audio/ogg")
    else:
        mid = line.meta_audio(sender, garbage)
    job = line.finished(provider, mid)
    assert job.state == "failed" and job.failure == "corrupt_audio" and "cannot be decoded" in job.reason
    texts = line.twilio.texts(sender) if provider == "twilio" else line.meta.texts(sender)
    last = texts[-1].form["Body"] if provider == "twilio" else texts[-1]["text"]["body"]
    assert last == get_pack("eng").content.phrases["didnt_hear"]
    with line.db.session() as s:
        assert s.scalar(select(MediaBlob).where(MediaBlob.id.like("in-%"))) is None, (
            "no inbound audio is kept"
        )
    # The worker keeps going: the next message is answered.
    other = new_number()
    ok = line.finished(
        provider,
        line.twilio_text(other, QUESTION) if provider == "twilio" else line.meta_text(other, QUESTION),
    )
    assert ok.state == "sent"


@pytest.mark.parametrize("provider", ["twilio", "meta"])
@pytest.mark.parametrize("how", ["chunked", "declared"])
def test_oversized_media_is_refused_early(line, provider, how):
    sender = new_number()
    total = 48 * 1024 * 1024
    behaviour = {"chunked_bytes": total} if how == "chunked" else {"declared_bytes": total}
    if provider == "twilio":
        mid = line.twilio_media(sender, b"", "audio/ogg", **behaviour)
        item = list(line.twilio.media.values())[-1]
    else:
        mid = line.meta_audio(sender, b"OggS", **behaviour)
        item = list(line.meta.media.values())[-1]
    job = line.finished(provider, mid)
    assert job.state == "failed" and job.failure == "too_large", job.reason
    assert "16777216-byte limit" in job.reason
    # The download stopped early: far from the whole 48 MB went out.
    assert item.served < 32 * 1024 * 1024, item.served
    assert _notice(line, provider, sender) == get_pack("fra").content.phrases["apology"]


@pytest.mark.parametrize("provider", ["twilio", "meta"])
@pytest.mark.parametrize("status", [404, 410])
def test_expired_media_url_fails_politely(line, provider, status):
    sender = new_number()
    ogg = encode_as(tone(seconds=1.0), "ogg")[0]
    mid = (
        line.twilio_media(sender, ogg, "audio/ogg", status=status)
        if provider == "twilio"
        else line.meta_audio(sender, ogg, status=status)
    )
    job = line.finished(provider, mid)
    assert job.state == "failed" and job.failure == "media_expired", job.reason
    assert f"HTTP {status}" in job.reason
    assert _notice(line, provider, sender) == get_pack("fra").content.phrases["didnt_hear"]


def test_meta_unknown_media_id_is_expired_media(line):
    sender = new_number()
    mid = wamid()
    message = meta_message(mid, sender, "audio", media_id="999999999")
    assert line.meta_post(sender, message).status_code == 200
    job = line.finished("meta", mid)
    assert job.failure == "media_expired" and "unknown or expired" in job.reason


@pytest.mark.parametrize("provider", ["twilio", "meta"])
def test_too_long_voice_note_fails_before_transcription(line, provider):
    sender = new_number()
    ogg = encode_as(Audio.concat([tone(seconds=1.0)] * 25), "ogg")[0]  # 25 s > the line's 20 s
    mid = (
        line.twilio_media(sender, ogg, "audio/ogg") if provider == "twilio" else line.meta_audio(sender, ogg)
    )
    job = line.finished(provider, mid)
    assert job.state == "failed" and job.failure == "too_long" and "20 s limit" in job.reason
    assert "asr_s" not in (job.timings or {})


# -- retries, permanent failures, leases --------------------------------------------------------------------


def test_provider_5xx_is_retried_with_backoff_and_sent_once(line):
    sender = new_number()
    retried = metric("voice_messages_total", provider="twilio", outcome="retried")
    line.twilio.fail_next = [503, 500]
    mid = line.twilio_text(sender, QUESTION)
    job = line.finished("twilio", mid)
    assert job.state == "sent" and job.attempts == 2
    assert len(line.twilio.texts(sender)) == 1
    assert metric("voice_messages_total", provider="twilio", outcome="retried") == retried + 2


def test_provider_timeout_is_retried(tmp_path):
    with running_line(tmp_path, f"sqlite:///{tmp_path / 'voice.db'}", http_timeout_s=1.0) as ln:
        sender = new_number()
        ln.twilio.delay_next = [3.0]  # "Twilio" stalls past our timeout, then sees us gone
        job = ln.finished("twilio", ln.twilio_text(sender, QUESTION), timeout=30)
        assert job.state == "sent" and job.attempts == 1
        time.sleep(3.0)  # the stalled request finishes on the provider side: it was never accepted
        assert len(ln.twilio.texts(sender)) == 1


def test_meta_5xx_on_upload_and_send_is_retried(line):
    """A text job on Meta with 5xx answers: the reply still goes out exactly once."""
    sender = new_number()
    line.meta.fail_next = [502, 503]
    job = line.finished("meta", line.meta_text(sender, QUESTION))
    assert job.state == "sent" and job.attempts == 2
    assert len(line.meta.texts(sender)) == 1


@pytest.mark.slow
def test_meta_5xx_on_the_voice_note_upload_is_retried(line):
    """The voice-note upload fails with 5xx: retried, and the sender gets one text and one note."""
    sender = new_number()
    ogg, mime = encode_as(espeak("What time do your shops open?"), "ogg")
    attempts = line.meta.upload_attempts
    line.meta.fail_uploads = [503]
    job = line.finished("meta", line.meta_audio(sender, ogg, mime), timeout=180)
    assert job.state == "sent", job.reason
    assert line.meta.upload_attempts - attempts == 2
    assert len(line.meta.texts(sender)) == 1 and len(line.meta.voices(sender)) == 1


def test_permanent_4xx_fails_counts_and_does_not_retry(line):
    sender = new_number()
    failed = metric("voice_message_failures_total", provider="twilio", code="provider_rejected")
    line.twilio.reject_next = [63003]
    job = line.finished("twilio", line.twilio_text(sender, QUESTION))
    assert (
        job.state == "failed" and job.failure == "provider_rejected" and "HTTP 400, code 63003" in job.reason
    )
    assert job.notice is None, "the channel refused us: no apology is sent the same way"
    assert job.attempts == 0
    assert metric("voice_message_failures_total", provider="twilio", code="provider_rejected") == failed + 1


def test_gives_up_after_max_attempts_and_apologises(line):
    sender = new_number()
    ogg = encode_as(tone(seconds=1.0), "ogg")[0]
    mid = line.twilio_media(sender, ogg, "audio/ogg", status=503)
    job = line.finished("twilio", mid, timeout=90)
    assert job.state == "failed" and job.failure == "gave_up" and "HTTP 503" in job.reason
    assert "after 4 attempts" in job.reason
    assert line.twilio.media[list(line.twilio.media)[-1]].requests == 0  # 503 came before the redirect
    assert _notice(line, "twilio", sender) == get_pack("fra").content.phrases["apology"]


def test_lease_keeps_a_job_to_one_worker(line):
    from voice.messaging.inbound import Inbound, store_inbound
    from voice.messaging.jobs import JobStore, LeaseLost, now

    store = JobStore(line.db, lease_s=60)
    mid = sid()
    message = Inbound("twilio", mid, new_number(), "text", {"to": f"whatsapp:{OURS}", "body": QUESTION})
    # The job is stored already leased by a worker "elsewhere" (another process, another machine).
    with line.db.session() as s:
        s.add(
            MessageJob(
                provider="twilio",
                message_id=mid,
                sender=message.sender,
                kind="text",
                payload=message.payload,
                state="received",
                attempts=0,
                lease_owner="elsewhere:1",
                lease_until=now() + timedelta(seconds=60),
            )
        )
    assert not store_inbound(line.db, message), "the same message id cannot be stored twice"
    job_id = line.job("twilio", mid).id
    time.sleep(1.0)
    assert line.job("twilio", mid).state == "received", "a leased job is left alone"
    claimed = store.claim("thief:1", limit=50)
    for other in claimed:
        store.release(other, "thief:1")
    assert job_id not in claimed
    with pytest.raises(LeaseLost):
        store.set(job_id, "thief:1", state="failed")
    # The owner's lease lapses (it died): another worker takes the job over and finishes it.
    with line.db.session() as s:
        s.execute(update(MessageJob).where(MessageJob.id == job_id).values(lease_until=None))
    job = line.finished("twilio", mid, timeout=30)
    assert job.state == "sent" and job.lease_owner is None
    assert len(line.twilio.texts(message.sender)) == 1
    with pytest.raises(LeaseLost):  # the old owner cannot write any more
        store.set(job_id, "elsewhere:1", state="received")


def test_two_workers_on_one_database_never_double_process(tmp_path_factory):
    """Two worker processes' worth of threads share one backlog, on SQLite and on PostgreSQL."""
    for backend in ("sqlite", "postgres"):
        tmp = tmp_path_factory.mktemp(f"two-{backend}")
        with database_url(backend, tmp) as url, running_line(tmp, url, worker=False) as ln:
            senders = [new_number() for _ in range(8)]
            ids = [ln.twilio_text(s, QUESTION) for s in senders for _ in range(2)]
            from services.gateway.runtime import Runtime
            from voice.messaging.worker import MessageWorker

            workers = [MessageWorker(Runtime(ln.settings)) for _ in range(2)]
            for w in workers:
                w.cfg = w.cfg.model_copy(update={"concurrency": 2})
            try:
                for w in workers:
                    w.start()
                for i in ids:
                    ln.finished("twilio", i, timeout=90)
            finally:
                for w in workers:
                    w.stop()
            assert len(ln.twilio.messages) == len(ids)
            with ln.db.session() as s:
                jobs = {j.message_id: j for j in s.scalars(select(MessageJob)).all()}
                history = {
                    c.sender: [m["role"] for m in c.state["history"]]
                    for c in s.scalars(select(Conversation)).all()
                }
            assert len({j.sent_text_id for j in jobs.values()}) == len(ids)
            for sender in senders:
                # One sender's two messages were never worked on at once: replies in order, and the
                # conversation holds both turns (a forked history would have lost one).
                mine = [jobs[i] for i in ids if jobs[i].sender == sender]
                assert [m.sid for m in ln.twilio.texts(sender)] == [j.sent_text_id for j in mine], backend
                assert history[sender] == ["user", "assistant", "user", "assistant"], backend


def test_voice_worker_cli_runs_jobs_as_its_own_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'voice.db'}"
    with running_line(tmp_path, url, worker=False) as ln:
        sender = new_number()
        mid = ln.twilio_text(sender, QUESTION)
        time.sleep(0.5)
        assert ln.job("twilio", mid).state == "received", "no worker runs in this gateway"
        env = {**os.environ, **line_env(ln.settings, tmp_path)}
        proc = subprocess.run(
            [str(ROOT / ".venv/bin/voice"), "worker", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "worked on 1 job" in proc.stderr
        assert ln.job("twilio", mid).state == "sent"
        assert len(ln.twilio.texts(sender)) == 1


def test_older_message_jobs_table_gains_the_new_columns(tmp_path):
    from voice.messaging.jobs import ensure_schema

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with db.engine.begin() as conn:  # the table as the first release created it
        conn.execute(
            text(
                "CREATE TABLE message_jobs (id INTEGER PRIMARY KEY, provider VARCHAR(16),"
                " message_id VARCHAR(128), sender VARCHAR(64), kind VARCHAR(16), payload JSON,"
                " state VARCHAR(16), reason TEXT,"
                " attempts INTEGER, next_attempt_at DATETIME, language VARCHAR(16), transcript TEXT,"
                " reply_text TEXT, reply_media_id VARCHAR(64), sent_text_id VARCHAR(128),"
                " sent_audio_id VARCHAR(128), lease_owner VARCHAR(64), lease_until DATETIME,"
                " created_at DATETIME, updated_at DATETIME, UNIQUE (provider, message_id))"
            )
        )
    ensure_schema(db)
    from voice.messaging.inbound import Inbound, store_inbound

    assert store_inbound(db, Inbound("twilio", "SM1", DEMO, "text", {"body": "hi"}))
    with db.session() as s:
        job = s.scalar(select(MessageJob))
        job.notice, job.failure, job.timings = "pending", "x", {"a": 1}
    with db.session() as s:
        assert s.scalar(select(MessageJob)).timings == {"a": 1}


# -- the signed media URL --------------------------------------------------------------------------------


def test_media_url_is_signed_expires_and_refuses_tampering(line):
    from voice.messaging import media

    secret = media.media_secret(line.settings)
    blob = media.store_blob(line.db, b"OggS-test", "audio/ogg", ttl_s=600)
    url = media.signed_url(line.settings, blob, ttl_s=600, secret=secret)
    assert url.startswith(f"{line.url}/media/{blob}?")
    ok = httpx.get(url)
    assert ok.status_code == 200 and ok.content == b"OggS-test"
    assert ok.headers["content-type"] == "audio/ogg"
    assert httpx.head(url).status_code == 200
    q = dict(httpx.URL(url).params)
    base = f"{line.url}/media/{blob}"
    bad_sig = q["sig"][:-1] + ("0" if q["sig"][-1] != "0" else "1")
    assert httpx.get(base, params={**q, "sig": bad_sig}).status_code == 403
    assert httpx.get(base, params={**q, "exp": str(int(q["exp"]) + 3600)}).status_code == 403  # extended
    assert httpx.get(base).status_code == 403
    assert httpx.get(base, params={"exp": q["exp"]}).status_code == 403
    other = media.store_blob(line.db, b"other", "audio/ogg", ttl_s=600)
    assert httpx.get(f"{line.url}/media/{other}", params=q).status_code == 403  # signed for another id
    ghost = media.signed_url(line.settings, "no-such-id", ttl_s=600, secret=secret)
    assert httpx.get(ghost).status_code == 404
    inbound = media.store_blob(line.db, b"caller audio", "audio/ogg", ttl_s=600, prefix=media.INBOUND_PREFIX)
    assert httpx.get(media.signed_url(line.settings, inbound, ttl_s=600, secret=secret)).status_code == 404
    short = media.signed_url(line.settings, blob, ttl_s=2, secret=secret)
    assert httpx.get(short).status_code == 200  # valid for 2-3 s (exp rounds up to a whole second)
    time.sleep(3.1)
    assert httpx.get(short).status_code == 403, "an expired URL is refused"


# -- logs ----------------------------------------------------------------------------------------------------


def test_no_phone_number_token_or_text_in_info_logs(line, caplog):
    sender = new_number()
    secret_words = "zebra quartz"
    with caplog.at_level(logging.INFO):
        line.finished("twilio", line.twilio_text(sender, f"{QUESTION} {secret_words}"))
        line.finished("meta", line.meta_text(sender, f"{QUESTION} {secret_words}"))
        line.finished("twilio", line.twilio_media(sender, b"OggS" + os.urandom(500), "audio/ogg"))
    ours = [
        r for r in caplog.records if not (r.name.startswith("httpx") and r.threadName.startswith("server-"))
    ]
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in ours)
    assert "job" in logged, "the worker does log its progress"
    s = line.settings
    for needle in (
        sender,
        sender.lstrip("+"),
        OURS,
        secret_words,
        "3000",
        s.twilio_auth_token,
        s.whatsapp_access_token,
        s.whatsapp_app_secret,
        s.whatsapp_verify_token,
        "sig=",
    ):
        assert needle not in logged, needle


# -- end to end with real speech (whisper-base, espeak-ng) ---------------------------------------------------


def _voice_reply(line, provider: str, sender: str) -> tuple[str, bytes]:
    if provider == "twilio":
        [txt], [voice] = line.twilio.texts(sender), line.twilio.voices(sender)
        assert voice.media_status == 200 and voice.media_type == "audio/ogg", "Twilio fetched our signed URL"
        assert "/media/" in voice.form["MediaUrl"] and "sig=" in voice.form["MediaUrl"]
        return txt.form["Body"], voice.media
    [txt], [voice] = line.meta.texts(sender), line.meta.voices(sender)
    assert voice["audio"]["voice"] is True
    data, kind, mime = line.meta.uploads[voice["audio"]["id"]]
    assert kind == "audio/ogg" and mime == "audio/ogg"
    return txt["text"]["body"], data


def _heard_wer(reply_text: str, ogg: bytes, recognizer) -> float:
    pack = get_pack("eng")
    heard = recognizer.transcribe(load_audio(ogg, 16000), "eng").text
    reference = pack.normalise(pack.verbalise(reply_text))
    return jiwer.wer(reference, pack.normalise(pack.verbalise(heard)) or "<empty>")


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["twilio", "meta"])
def test_english_voice_note_gets_text_and_voice_replies(line, provider, whisper_base):
    ogg, mime = encode_as(espeak(QUESTION), "ogg")
    mid = line.twilio_media(DEMO, ogg, mime) if provider == "twilio" else line.meta_audio(DEMO, ogg)
    job = line.finished(provider, mid, timeout=180)
    assert job.state == "sent", job.reason
    assert "balance" in job.transcript.lower() and job.language == "eng"
    time.sleep(1.0)
    reply, voice = _voice_reply(line, provider, DEMO)
    assert "3000" in reply and "500" in reply
    assert job.sent_text_id and job.sent_audio_id
    assert is_ogg_opus_mono(voice)
    wer = _heard_wer(reply, voice, whisper_base)
    print(
        f"\n{provider}: reply ready {job.timings['ready_s']:.2f} s, voice-note WER {wer:.2f}; {job.timings}"
    )
    assert wer <= 0.6
    assert not (line.twilio.unauthorized or line.meta.unauthorized), "the stand-ins accepted every credential"


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["twilio", "meta"])
def test_french_voice_note_gets_a_french_reply(line, provider):
    # A demo customer who has not written on this channel yet: no language is known for them.
    sender = {"twilio": "+221781112233", "meta": "+221771234567"}[provider]
    ogg, mime = encode_as(espeak(FRENCH, "fr", 140), "ogg")
    mid = line.twilio_media(sender, ogg, mime) if provider == "twilio" else line.meta_audio(sender, ogg)
    job = line.finished(provider, mid, timeout=180)
    assert job.state == "sent", job.reason
    reply, voice = _voice_reply(line, provider, sender)
    code, confidence = LanguageIdentifier.installed().identify(reply)
    print(f"\n{provider}: heard {job.transcript!r} -> {reply!r} ({code} {confidence:.2f})")
    assert job.language == "fra" and code == "fra"
    assert load_audio(voice, 16000).duration > 1.0


@pytest.mark.slow
def test_same_voice_note_delivered_three_times_gets_one_reply(line):
    sender = DEMO
    ogg, mime = encode_as(espeak("How much is my balance?"), "ogg")
    message_sid = sid("MM")
    url = line.twilio.add_media(message_sid, ogg, mime)
    form = twilio_inbound(
        message_sid, sender, OURS, line.settings.twilio_account_sid, media_url=url, content_type=mime
    )
    before = len(line.twilio.messages)
    token = line.settings.twilio_auth_token
    assert post_twilio(line.url, token, form).status_code == 200
    time.sleep(0.3)  # the job is under way when the re-deliveries arrive
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda _: post_twilio(line.url, token, form).status_code, range(2))) == [
            200,
            200,
        ]
    job = line.finished("twilio", message_sid, timeout=180)
    time.sleep(2.0)
    new = line.twilio.messages[before:]
    assert job.state == "sent"
    assert [("Body" in m.form, "MediaUrl" in m.form) for m in new] == [(True, False), (False, True)]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["amr", "aac", "mp3"])
def test_other_phone_audio_formats_are_understood(line, fmt):
    ogg, mime = encode_as(espeak(QUESTION), fmt)
    sender = DEMO
    before = len(line.meta.texts(sender))
    job = line.finished("meta", line.meta_audio(sender, ogg, mime), timeout=180)
    assert job.state == "sent", job.reason
    assert "3000" in line.meta.texts(sender)[before]["text"]["body"], job.transcript


# -- crash: the server is SIGKILLed mid-job and started again ------------------------------------------


def line_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    m = settings.messaging
    return {
        "VOICE_PUBLIC_URL": settings.public_url,
        "VOICE_DB_URL": settings.database_url,
        "VOICE_DATA_DIR": str(data_dir),
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "TWILIO_API_BASE_URL": settings.twilio_api_base_url,
        "WHATSAPP_APP_SECRET": settings.whatsapp_app_secret,
        "WHATSAPP_VERIFY_TOKEN": settings.whatsapp_verify_token,
        "WHATSAPP_ACCESS_TOKEN": settings.whatsapp_access_token,
        "WHATSAPP_GRAPH_URL": settings.whatsapp_graph_url,
        "VOICE_MESSAGING_DEFAULT_LANGUAGE": m.default_language,
        "VOICE_MESSAGING_LEASE_S": str(m.lease_s),
        "VOICE_MESSAGING_POLL_INTERVAL_S": str(m.poll_interval_s),
        "VOICE_MESSAGING_BACKOFF_BASE_S": str(m.backoff_base_s),
        "HF_HUB_OFFLINE": "1",
    }


class ServeProcess:
    """`voice serve` in a subprocess (its own process group, so SIGKILL takes all of it)."""

    def __init__(self, env: dict[str, str], port: int, log: Path):
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/voice"), "serve", "--port", str(self.port)],
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        ok = wait_until(self._healthy, 60, 0.2)
        assert ok, self.log.read_text()[-3000:]
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.mark.slow
@pytest.mark.parametrize("when", ["during_download", "between_reply_parts"])
def test_server_killed_mid_job_restarts_and_replies_exactly_once(tmp_path, when):
    with standins() as (twilio, meta):
        port = free_port()
        settings = make_settings(tmp_path, port, f"sqlite:///{tmp_path / 'voice.db'}", twilio, meta)
        env = line_env(settings, tmp_path)
        gate = threading.Event()
        if when == "during_download":
            twilio.hold_media = gate
        else:
            twilio.hold_voice_sends = gate
        server = ServeProcess(env, port, tmp_path / "serve.log").start()
        try:
            ogg, mime = encode_as(espeak(QUESTION), "ogg")
            message_sid = sid("MM")
            url = twilio.add_media(message_sid, ogg, mime)
            form = twilio_inbound(
                message_sid, DEMO, OURS, twilio.account_sid, media_url=url, content_type=mime
            )
            gateway = f"http://127.0.0.1:{port}"
            assert post_twilio(gateway, twilio.auth_token, form).status_code == 200
            db = Database(settings.database_url)
            if when == "during_download":
                assert wait_until(lambda: twilio.media_requests, 60), "the worker never asked for the media"
                state_at_kill = "received"
            else:
                assert wait_until(lambda: twilio.texts(DEMO), 180), (tmp_path / "serve.log").read_text()[
                    -2000:
                ]
                time.sleep(0.5)  # the voice-note send is now held at "Twilio"
                state_at_kill = "answered"
            with db.session() as s:
                job = s.scalar(select(MessageJob).where(MessageJob.message_id == message_sid))
                assert job.state == state_at_kill and job.lease_owner is not None
            server.kill()
            server = ServeProcess(env, port, tmp_path / "serve.log").start()
            gate.set()
            assert wait_until(lambda: twilio.voices(DEMO), 180), (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(3.0)  # let any duplicate show itself
            assert len(twilio.texts(DEMO)) == 1 and len(twilio.voices(DEMO)) == 1
            [voice] = twilio.voices(DEMO)
            assert voice.media_status == 200 and is_ogg_opus_mono(voice.media)
            assert "3000" in twilio.texts(DEMO)[0].form["Body"]
            with db.session() as s:
                job = s.scalar(select(MessageJob).where(MessageJob.message_id == message_sid))
                assert job.state == "sent" and job.sent_text_id == twilio.texts(DEMO)[0].sid
                assert job.sent_audio_id == voice.sid
            db.dispose()
        finally:
            gate.set()
            server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["pack", "pipeline"])
def test_batched_worker_transcribes_a_backlog(tmp_path, strategy):
    """The batched ASR option: a backlog of notes from senders whose language is known."""
    url = f"sqlite:///{tmp_path / 'voice.db'}"
    with running_line(tmp_path, url, worker=False, batch_size=4, batch_strategy=strategy) as ln:
        from services.gateway.runtime import Runtime
        from voice.messaging.worker import MessageWorker

        senders = [new_number() for _ in range(4)]
        for s in senders:  # each has spoken English before
            ln.twilio_text(s, "Hello")
        worker = MessageWorker(Runtime(ln.settings))
        worker.run_once()
        questions = ["What is my balance?", "What offers do you have?", QUESTION, "I lost my SIM card."]
        ids = [
            ln.twilio_media(s, encode_as(espeak(q), "ogg")[0], "audio/ogg")
            for s, q in zip(senders, questions, strict=True)
        ]
        assert worker.run_once() == 4
        jobs = [ln.job("twilio", i) for i in ids]
        assert all(j.state == "sent" for j in jobs), [j.reason for j in jobs]
        assert all(j.timings.get("batched") == 1 for j in jobs)
        for j, q in zip(jobs, questions, strict=True):
            assert jiwer.wer(q.lower().strip("?."), j.transcript.lower().strip("?.")) <= 0.4, j.transcript
        worker.stop()


def test_metrics_expose_message_outcomes(line):
    body = httpx.get(f"{line.url}/metrics").text
    assert 'voice_messages_total{outcome="received",provider="twilio"}' in body
    assert "voice_message_failures_total" in body


def test_standins_check_our_credentials(line):
    """The stand-ins refuse wrong credentials, as Twilio and Meta do; ours are accepted."""
    from voice.messaging.providers import JobFailure, MetaProvider, TwilioProvider

    wrong = line.settings.model_copy(update={"twilio_auth_token": "wrong", "whatsapp_access_token": "wrong"})
    media_url = line.twilio.add_media("MM" + "0" * 32, b"OggS-bytes", "audio/ogg")
    media_id = line.meta.add_media(b"OggS-bytes", "audio/ogg")
    payload = {"to": f"whatsapp:{OURS}", "media_url": media_url, "media_id": media_id}
    payload["phone_number_id"] = line.meta.phone_number_id
    job = MessageJob(provider="twilio", message_id="x", sender=DEMO, kind="audio", payload=payload)
    for provider in (TwilioProvider(wrong), MetaProvider(wrong)):
        with pytest.raises(JobFailure) as refused:
            provider.send_text(job, "hello")
        assert refused.value.code == "provider_rejected" and "HTTP 401" in refused.value.reason
        with pytest.raises(JobFailure) as refused:
            provider.download(job)
        assert refused.value.code == "media_refused"
    for provider in (TwilioProvider(line.settings), MetaProvider(line.settings)):
        assert provider.download(job) == (b"OggS-bytes", "audio/ogg")
    assert line.twilio.unauthorized >= 2 and line.meta.unauthorized >= 2
    line.twilio.unauthorized = line.meta.unauthorized = 0
