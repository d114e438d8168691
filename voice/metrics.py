"""Prometheus metrics: typed per stage, one registry the gateway exposes at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

STAGE_SECONDS = Histogram(
    "voice_stage_seconds",
    "Time spent per stage of a turn",
    ["stage"],  # asr, agent_first_token, tts_first_audio, voice_to_voice
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
CALLS = Counter("voice_calls_total", "Phone calls started", ["language"], registry=REGISTRY)
BARGE_INS = Counter("voice_barge_ins_total", "Caller speech that interrupted the bot", registry=REGISTRY)
HANDOFFS = Counter("voice_handoffs_total", "Conversations handed to a human", ["channel"], registry=REGISTRY)
TURNS = Counter("voice_agent_turns_total", "Agent turns by route", ["route"], registry=REGISTRY)
MESSAGES = Counter(
    "voice_messages_total",
    "WhatsApp messages by provider and outcome",
    ["provider", "outcome"],
    registry=REGISTRY,
)
TURN_FAILURES = Counter(
    "voice_turn_failures_total", "Turns whose agent failed (the caller heard an apology)", registry=REGISTRY
)
