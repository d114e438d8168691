"""WhatsApp voice notes: reply latency, and backlog throughput one by one vs. batched Whisper.

    ./dev bench whatsapp            (or: .venv/bin/python bench/whatsapp.py --runs 5 --backlog 50)

The real path: a gateway on a local port (its worker in the lifespan, SQLite), local stand-ins for
Twilio's REST API and media host, real whisper-base (int8, 2 threads), the FAQ route, espeak-ng TTS.
1. latency: a 10 s English voice note -> "reply ready" (text + Ogg/Opus voice note stored, measured
   from the webhook's arrival) and "delivered" (both parts accepted by the provider), median of
   --runs; for a returning sender (language known: one ASR pass) and a new one (language detection).
2. backlog: --backlog notes waiting from senders whose language is known, worked off by one worker
   one note at a time (batch size 1) and with batched ASR, --batch-size notes at a time: `pipeline`
   (faster-whisper's BatchedInferencePipeline) and `pack` (short notes share 30 s Whisper windows):
   wall time, notes per minute, WER of the transcripts.
Prints tables, saves bench/results/whatsapp.json and two plots.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, save_bar_plot, save_json  # noqa: E402

NOTE_TEXT = (
    "Hello, good morning. I am calling about my phone line. "
    "Could you tell me what is the balance of my account? Thank you very much."
)
BACKLOG = [
    "What is the balance of my account?",
    "What offers do you have?",
    "How much data do I have left?",
    "I lost my SIM card, please block it.",
    "I want to talk to an agent.",
    "How much is my balance?",
    "Which internet bundles can I buy?",
    "My phone was stolen yesterday.",
    "Can I speak to a person please?",
    "Tell me my airtime balance.",
]


def ten_second_note():
    from tests.conftest import espeak
    from voice.audio import Audio

    speech = espeak(NOTE_TEXT)
    speech = Audio(speech.samples[: 10 * 16000], 16000)
    return Audio.concat([speech, Audio.silence(max(0.0, 10.0 - speech.duration))])


def start_line(tmp: Path, **messaging):
    from tests.test_whatsapp import running_line

    cm = running_line(tmp, f"sqlite:///{tmp / 'voice.db'}", **messaging)
    return cm, cm.__enter__()


def seed_language(line, senders: list[str], language: str = "eng") -> None:
    from voice.agent.session import Session
    from voice.store.conversations import save_session

    for sender in senders:
        save_session(line.db, "twilio", sender, Session(language, sender))


def forget(line, sender: str) -> None:
    from sqlalchemy import delete

    from voice.store.models import Conversation

    with line.db.session() as s:
        s.execute(delete(Conversation).where(Conversation.sender == sender))


def latency(runs: int) -> dict:
    from tests.test_whatsapp import DEMO
    from tests.whatsapp_standins import encode_as, wait_until

    ogg, mime = encode_as(ten_second_note(), "ogg")
    out: dict = {"note_s": 10.0, "ogg_bytes": len(ogg), "text": NOTE_TEXT}
    with tempfile.TemporaryDirectory() as d:
        cm, line = start_line(Path(d))
        try:
            for label, known in (("returning sender", True), ("new sender", False)):
                rows = []
                for i in range(runs + 1):  # the first run loads the models: not counted
                    sender = DEMO  # the demo customer (3000 FCFA): the FAQ route answers the balance
                    forget(line, sender)
                    if known:
                        seed_language(line, [sender])
                    t0 = time.perf_counter()
                    mid = line.twilio_media(sender, ogg, mime)
                    job = line.finished("twilio", mid, timeout=300)
                    ok = wait_until(lambda s=sender: line.twilio.voices(s), 60, 0.02)
                    delivered = time.perf_counter() - t0
                    if i == 0:
                        continue
                    reply = line.twilio.texts(sender)[-1].form["Body"]
                    rows.append(
                        {
                            "ready_s": job.timings["ready_s"],
                            "asr_s": job.timings["asr_s"],
                            "agent_s": job.timings["agent_s"],
                            "tts_s": job.timings["tts_s"],
                            "delivered_s": delivered if ok else None,
                            "answered": "3000" in reply,
                            "transcript": job.transcript,
                        }
                    )
                    print(
                        f"  {label}: ready {rows[-1]['ready_s']:.2f} s (ASR {rows[-1]['asr_s']:.2f} s)",
                        flush=True,
                    )
                out[label] = {
                    "runs": rows,
                    "median_ready_s": statistics.median(r["ready_s"] for r in rows),
                    "median_asr_s": statistics.median(r["asr_s"] for r in rows),
                    "median_delivered_s": statistics.median(r["delivered_s"] or 0 for r in rows),
                    "answered": all(r["answered"] for r in rows),
                }
        finally:
            cm.__exit__(None, None, None)
    return out


def backlog(n: int, batch_size: int, strategy: str = "pack") -> dict:
    import jiwer

    from services.gateway.runtime import Runtime
    from tests.conftest import espeak
    from tests.whatsapp_standins import encode_as
    from voice.messaging.worker import MessageWorker
    from voice.packs.text import basic_normalise

    notes = {text: encode_as(espeak(text), "ogg")[0] for text in BACKLOG}
    with tempfile.TemporaryDirectory() as d:
        cm, line = start_line(Path(d), worker=False, batch_size=batch_size, batch_strategy=strategy)
        try:
            senders = [f"+2217700{i:05d}" for i in range(n)]
            seed_language(line, senders)
            texts = [BACKLOG[i % len(BACKLOG)] for i in range(n)]
            ids = [line.twilio_media(s, notes[t], "audio/ogg") for s, t in zip(senders, texts, strict=True)]
            worker = MessageWorker(Runtime(line.settings))
            worker.run_once(limit=1)  # warm-up: one note (model load); not counted
            first = ids.pop(0)
            texts.pop(0)
            t0 = time.perf_counter()
            worker.run_once()
            wall = time.perf_counter() - t0
            worker.stop()
            jobs = [line.job("twilio", i) for i in ids]
            wers = [
                jiwer.wer(basic_normalise(t), basic_normalise(j.transcript or "") or "<empty>")
                for t, j in zip(texts, jobs, strict=True)
            ]
            sent = sum(j.state == "sent" for j in jobs)
            batched = sum(1 for j in jobs if (j.timings or {}).get("batched"))
            return {
                "mode": "one by one" if batch_size == 1 else f"{strategy} ({batch_size})",
                "batch_size": batch_size,
                "strategy": strategy,
                "notes": len(jobs),
                "wall_s": wall,
                "notes_per_min": 60 * len(jobs) / wall,
                "mean_wer": statistics.mean(wers),
                "sent": sent,
                "batched": batched,
                "speech_s": sum((j.timings or {}).get("audio_s", 0) for j in jobs),
                "warmup_job": line.job("twilio", first).state,
            }
        finally:
            cm.__exit__(None, None, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--backlog", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--skip-backlog", action="store_true")
    a = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    load_before = os.getloadavg()
    print("latency: 10 s voice note -> reply ready", flush=True)
    lat = latency(a.runs)
    rows = [
        [
            label,
            lat[label]["median_ready_s"],
            lat[label]["median_asr_s"],
            lat[label]["median_delivered_s"],
            "yes" if lat[label]["answered"] else "NO",
        ]
        for label in ("returning sender", "new sender")
    ]
    print_table(
        f"10 s voice note -> reply ready (median of {a.runs}; target <= 4 s), whisper-base int8, 2 threads",
        ["sender", "reply ready s", "ASR s", "delivered s", "answered (3000 FCFA)"],
        rows,
    )
    results: dict = {"latency": lat}
    if not a.skip_backlog:
        modes = []
        for size, strategy in ((1, "-"), (a.batch_size, "pipeline"), (a.batch_size, "pack")):
            print(f"backlog: {a.backlog} notes, batch size {size} {strategy}", flush=True)
            modes.append(backlog(a.backlog, size, strategy))
        base = modes[0]["wall_s"]
        print_table(
            f"backlog of {a.backlog} voice notes (one worker, whisper-base int8, 2 threads)",
            ["mode", "notes", "wall s", "notes/min", "speed-up", "mean WER", "sent", "batched"],
            [
                [
                    m["mode"],
                    m["notes"],
                    m["wall_s"],
                    m["notes_per_min"],
                    base / m["wall_s"],
                    m["mean_wer"],
                    m["sent"],
                    m["batched"],
                ]
                for m in modes
            ],
        )
        results["backlog"] = modes
        save_bar_plot(
            "whatsapp_backlog",
            [m["mode"] for m in modes],
            [m["notes_per_min"] for m in modes],
            "voice notes per minute",
            f"backlog of {a.backlog} notes, whisper-base on 2 CPU threads",
        )
    results["load_average"] = {"before": load_before, "after": os.getloadavg()}
    results["cpus"] = os.cpu_count()
    path = save_json("whatsapp", results)
    plot = save_bar_plot(
        "whatsapp_latency",
        ["returning sender", "new sender"],
        [lat["returning sender"]["median_ready_s"], lat["new sender"]["median_ready_s"]],
        "seconds from webhook to reply ready",
        "10 s voice note (target <= 4 s)",
    )
    print(f"saved {path} and {plot}; load average before {load_before}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
