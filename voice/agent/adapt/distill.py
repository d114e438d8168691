"""`voice agent distill`: a teacher answers the data builder's prompts; a smaller student learns
the teacher's answers with the same recipe; both are evaluated on the same held-out dialogues.

The teacher is any backend `voice agent eval` accepts (a GPU server with gpt-oss-120b, the
adapted 20b, the FAQ route). It plays the train and dev dialogues of a `voice agent data`
directory through the real agent, tools and all; its reasoning, tool calls (with the executor's
results) and spoken answers become new records of the same format. Turns the teacher failed
(backend errors, replies the language identifier does not assign to the language) end their
dialogue and are counted. The student is then fine-tuned on those records (`voice agent finetune`
with data_dir pointing at them) and the teacher and the student answer the held-out split.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from voice.agent.adapt.analysis import Analysis
from voice.agent.adapt.config import AdaptConfig
from voice.agent.adapt.evaluate import EvalOptions, ModelSpec
from voice.agent.adapt.oracle import Oracle, demo_business, dialogue_seed
from voice.agent.adapt.records import Record, dialogues, read_split, to_conversation, write_jsonl
from voice.agent.backends.base import GenerationOptions, LLMBackend
from voice.agent.types import (
    BackendEvent,
    Message,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallEvent,
)
from voice.packs import LanguagePack

log = logging.getLogger(__name__)


@dataclass
class Round:
    reasoning: str = ""
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)


class RecordingBackend(LLMBackend):
    """Wraps a backend and keeps what it produced in each round of the agent's tool loop."""

    name = "recording"

    def __init__(self, inner: LLMBackend):
        self.inner = inner
        self.rounds: list[Round] = []

    def stream(
        self,
        messages: list[Message],
        tools: list[dict],
        options: GenerationOptions,
        cancel: threading.Event | None = None,
    ) -> Iterator[BackendEvent]:
        r = Round()
        self.rounds.append(r)
        for event in self.inner.stream(messages, tools, options, cancel):
            if isinstance(event, ReasoningDelta):
                r.reasoning += event.text
            elif isinstance(event, TextDelta):
                r.text += event.text
            elif isinstance(event, ToolCallEvent):
                r.calls.append(event.call)
            yield event


def teacher_turn_messages(
    oracle: Oracle, history: list[Message], text: str, result, rounds: list[Round]
) -> list[Message]:
    """The teacher's turn as messages: its own reasoning, calls (with the executor's results, in the
    order the agent ran them) and its spoken answer."""
    from voice.agent.loop import grounding

    out = [Message("system", grounding(oracle.pack, oracle.index, text, oracle.kb_entries)), *history]
    out.append(Message("user", text))
    results = iter(result.tool_calls)
    for r in rounds:
        if not r.calls:
            continue
        out.append(Message("assistant", r.text, tool_calls=list(r.calls), reasoning=r.reasoning or None))
        for call in r.calls:
            done = next(results, None)
            payload = done["result"] if done is not None else {"error": "not run"}
            out.append(
                Message("tool", json.dumps(payload, ensure_ascii=False), tool_call_id=call.id, name=call.name)
            )
    final = rounds[-1] if rounds and not rounds[-1].calls else None
    out.append(Message("assistant", result.reply, reasoning=(final.reasoning if final else None) or None))
    return out


def teacher_records(
    pack: LanguagePack,
    spec: ModelSpec,
    data_dir: str | Path,
    options: EvalOptions,
    splits: tuple[str, ...] = ("train", "dev"),
    backend: LLMBackend | None = None,
    analysis: Analysis | None = None,
    progress: Callable[[str], None] | None = None,
    limit: int | None = None,
) -> tuple[list[Record], dict]:
    """The teacher's answers to the data dir's dialogues (same dialogue ids, groups and splits)."""
    from voice.agent.adapt.oracle import GoldTurn
    from voice.agent.backends.base import BackendError
    from voice.agent.loop import Agent
    from voice.agent.session import Session
    from voice.config import AgentSettings
    from voice.packs.langid import LanguageIdentifier

    lid = LanguageIdentifier.installed()
    inner = backend if backend is not None else spec.backend(options.threads)
    recorder = RecordingBackend(inner) if inner is not None else None
    common = {
        "max_tokens": options.max_tokens,
        "reasoning_effort": options.reasoning_effort,
        "turn_timeout_s": options.turn_timeout_s,
    }
    settings = AgentSettings(**common) if recorder is None else AgentSettings(faq_threshold=2.0, **common)
    stats = {"dialogues": 0, "turns": 0, "kept_turns": 0, "errors": 0, "off_language": 0, "empty": 0}
    out: list[Record] = []
    t0 = time.perf_counter()
    with demo_business() as business:
        oracle = Oracle(pack, business, analysis or Analysis())
        agent = Agent(business, recorder, settings)
        for split in splits:
            ds = dialogues(read_split(data_dir, split))
            for dialogue in ds[:limit] if limit else ds:
                stats["dialogues"] += 1
                business.reset(dialogue_seed(dialogue[0].dialogue))
                session = Session(pack.code, dialogue[0].caller)
                history: list[Message] = []
                for src in dialogue:
                    stats["turns"] += 1
                    text = src.user_text
                    if recorder is not None:
                        recorder.rounds.clear()
                    try:
                        result = agent.respond(session, text)
                    except (BackendError, RuntimeError, ValueError) as exc:
                        log.warning("teacher failed on %s: %s", src.id, exc)
                        stats["errors"] += 1
                        break
                    if session.failures:  # the agent fell back (backend error) or did not understand
                        stats["errors"] += 1
                        break
                    if not result.reply.strip():
                        stats["empty"] += 1
                        break
                    if lid.identify(pack.verbalise(result.reply))[0] != pack.code:
                        stats["off_language"] += 1
                        break
                    if result.route == "llm" and recorder is not None:
                        messages = teacher_turn_messages(oracle, history, text, result, recorder.rounds)
                    else:  # the agent's FAQ route answered: analysis from the templates
                        gold = oracle.from_result(text, result)
                        messages = oracle.messages(history, gold, f"{src.dialogue}_{src.turn}")
                    gold = GoldTurn(text, result.reply, result.tool_calls, result.handoff).to_gold()
                    gold["intent"] = result.intent
                    out.append(
                        Record(
                            id=src.id,
                            dialogue=src.dialogue,
                            turn=src.turn,
                            language=pack.code,
                            source=f"distill:{spec.label}",
                            kind=src.kind,
                            caller=src.caller,
                            group=src.group,
                            harmony=to_conversation(messages, options.reasoning_effort),
                            gold=gold,
                            split=split,
                            variant=src.variant,
                            meta={"route": result.route, "teacher": spec.label},
                        )
                    )
                    stats["kept_turns"] += 1
                    history += [Message("user", text), Message("assistant", result.reply)]
                if progress and stats["dialogues"] % 10 == 0:
                    progress(f"teacher {spec.label}: {stats['dialogues']} dialogues")
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    return out, stats


def distill(
    pack: LanguagePack,
    teacher: ModelSpec,
    cfg: AdaptConfig,
    source_data: str | Path,
    out_dir: str | Path,
    options: EvalOptions | None = None,
    teacher_backend: LLMBackend | None = None,
    progress: Callable[[str], None] | None = None,
    limit: int | None = None,
) -> dict:
    """Teacher data -> student adapter -> one eval table (teacher vs student, same held-out set).

    `cfg.base_model` is the student; its data_dir and output_dir are set here (OUT/data,
    OUT/student)."""
    from voice.agent.adapt.builder import summarise
    from voice.agent.adapt.evaluate import evaluate, parse_model, write_report
    from voice.agent.adapt.records import check_round_trip
    from voice.agent.adapt.train import finetune

    say = progress or log.info
    options = options or EvalOptions()
    out = Path(out_dir)
    data = out / "data"
    records, stats = teacher_records(
        pack, teacher, source_data, options, backend=teacher_backend, progress=say, limit=limit
    )
    for r in records:
        check_round_trip(r)
    for split in ("train", "dev"):
        write_jsonl(data / f"{split}.jsonl", (r for r in records if r.split == split))
    summary = summarise(records)
    (data / "build.json").write_text(
        json.dumps(
            {"teacher": teacher.label, "source_data": str(source_data), "stats": stats, "counts": summary},
            indent=2,
        )
    )
    say(
        f"teacher kept {stats['kept_turns']}/{stats['turns']} turns ({stats['errors']} errors, "
        f"{stats['off_language']} off-language)"
    )
    if not any(r.split == "train" for r in records):
        from voice.errors import BadInputError

        raise BadInputError(f"the teacher {teacher.label} produced no usable training turn")
    student_cfg = cfg.model_copy(update={"data_dir": str(data), "output_dir": str(out / "student")})
    adapter = finetune(student_cfg, progress=say)
    student = parse_model(str(adapter))
    student.label = f"student:{Path(cfg.base_model).name}"
    teacher_eval = ModelSpec(
        f"teacher:{teacher.label}", teacher.kind, teacher.target, teacher.adapter, teacher.model_name
    )
    backends = {teacher_eval.label: teacher_backend} if teacher_backend is not None else None
    report = evaluate(pack, [teacher_eval, student], source_data, options, say, backends)
    report["distill"] = {
        "teacher": teacher.label,
        "student": cfg.base_model,
        "adapter": str(adapter),
        "teacher_data": stats,
    }
    write_report(report, out / "eval")
    return report
