"""Supervised conversations in harmony form: one record per agent turn, JSONL on disk.

A record is exactly what the agent's LLM sees at one turn, plus the gold answer:
  system (reasoning effort) + developer (the agent's grounding prompt for that turn, which names
  the language, and the tool schemas) + the history as the agent keeps it (user turns and the
  assistant's spoken finals) + the caller's new turn + the assistant's actions in that turn
  (analysis, tool call, tool result, ..., analysis, final).
The `harmony` field is openai-harmony's own JSON of that conversation (`Conversation.to_json`),
so any harmony tool reads it. Turns of one dialogue share `dialogue` and a split.

Training examples: one per assistant action (a tool call ending in <|call|>, or the final answer
ending in <|return|>), the prompt rendered as the agent renders it, the loss on the action only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai_harmony as oh

from voice.agent import harmony
from voice.agent.tools import TOOL_SCHEMAS
from voice.agent.types import Message

SPLITS = ("train", "dev", "test")
_NO_DROP = oh.RenderConversationConfig(auto_drop_analysis=False)


@dataclass
class Record:
    id: str
    dialogue: str
    turn: int  # 1-based position of this user turn in its dialogue
    language: str
    source: str  # faq | intent | probe | stored | distill:<teacher>
    kind: str  # faq | tool | phrase | clarify | dont_know | probe | handoff
    caller: str  # the demo account the tool results come from
    group: str  # split unit: variants and continuations of one utterance share it
    harmony: dict  # openai-harmony Conversation JSON
    gold: dict  # {"tool_calls": [{name, arguments, result}], "reply", "handoff", "intent", "faq_id"}
    split: str = "train"
    variant: str = "original"  # original | code-switch | greeting-first
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "dialogue": self.dialogue,
            "turn": self.turn,
            "language": self.language,
            "split": self.split,
            "source": self.source,
            "kind": self.kind,
            "variant": self.variant,
            "group": self.group,
            "caller": self.caller,
            "gold": self.gold,
            "meta": self.meta,
            "harmony": self.harmony,
        }

    @classmethod
    def from_json(cls, d: dict) -> Record:
        return cls(
            id=d["id"],
            dialogue=d["dialogue"],
            turn=d["turn"],
            language=d["language"],
            source=d["source"],
            kind=d["kind"],
            caller=d["caller"],
            group=d["group"],
            harmony=d["harmony"],
            gold=d["gold"],
            split=d.get("split", "train"),
            variant=d.get("variant", "original"),
            meta=d.get("meta", {}),
        )

    # -- views ---------------------------------------------------------------------------------
    def conversation(self) -> oh.Conversation:
        return oh.Conversation.from_json(json.dumps(self.harmony))

    def messages(self) -> list[oh.Message]:
        return list(self.conversation().messages)

    @property
    def user_text(self) -> str:
        """The caller's words at this turn (the last user message)."""
        return [text_of(m) for m in self.messages() if m.author.role == oh.Role.USER][-1]

    @property
    def instructions(self) -> str:
        for m in self.messages():
            if m.author.role == oh.Role.DEVELOPER:
                c = m.content[0]
                return getattr(c, "instructions", None) or ""
        return ""

    def final(self) -> str:
        finals = [text_of(m) for m in self.messages() if m.channel == "final"]
        return finals[-1] if finals else ""


def text_of(message: oh.Message) -> str:
    return "".join(c.text for c in message.content if isinstance(c, oh.TextContent))


def to_conversation(messages: list[Message], effort: str = "low") -> dict:
    """Our messages (system = grounding, history, turn, actions) -> harmony Conversation JSON."""
    conv = oh.Conversation.from_messages(harmony.to_harmony(messages, TOOL_SCHEMAS, effort))
    return json.loads(conv.to_json())


# -- files -------------------------------------------------------------------------------------
def write_jsonl(path: Path, records: Iterable[Record]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[Record]:
    path = Path(path)
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(Record.from_json(json.loads(line)))
    return out


def read_split(data_dir: str | Path, split: str) -> list[Record]:
    path = Path(data_dir) / f"{split}.jsonl"
    return read_jsonl(path) if path.exists() else []


def dialogues(records: Iterable[Record]) -> list[list[Record]]:
    """Records grouped by dialogue, turns in order, dialogues in first-seen order."""
    by: dict[str, list[Record]] = {}
    for r in records:
        by.setdefault(r.dialogue, []).append(r)
    return [sorted(turns, key=lambda r: r.turn) for turns in by.values()]


def data_fingerprint(data_dir: str | Path) -> str:
    h = hashlib.sha256()
    for split in SPLITS:
        path = Path(data_dir) / f"{split}.jsonl"
        if path.exists():
            h.update(split.encode() + b"\0")
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
    return h.hexdigest()[:12]


# -- harmony checks ------------------------------------------------------------------------------
class RoundTripError(ValueError):
    pass


def render_tokens(conv: oh.Conversation) -> list[int]:
    return list(harmony.load_encoding().render_conversation_for_training(conv, _NO_DROP))


def check_round_trip(record: Record) -> list[int]:
    """Render the conversation with openai-harmony, parse the tokens back, and check nothing was
    lost: every turn message equal (role, name, channel, recipient, content type, text), the
    system and developer messages equal to their rendered text, and the parsed conversation
    rendering to the very same tokens. Returns the tokens."""
    enc = harmony.load_encoding()
    conv = record.conversation()
    tokens = render_tokens(conv)
    parsed = enc.parse_messages_from_completion_tokens(tokens, None)
    original = list(conv.messages)
    rendered = enc.decode(tokens).split("<|start|>")[1:]  # one piece per message, in order
    if not len(parsed) == len(rendered) == len(original):
        raise RoundTripError(
            f"{record.id}: {len(original)} messages rendered as {len(rendered)}, {len(parsed)} parsed back"
        )
    for a, b, piece in zip(original, parsed, rendered, strict=True):
        if a.author.role in (oh.Role.SYSTEM, oh.Role.DEVELOPER):
            expected = piece.split("<|message|>", 1)[1].removesuffix("<|end|>")
            if b.author.role != a.author.role or text_of(b) != expected:
                raise RoundTripError(f"{record.id}: the {a.author.role.value} message changed")
        elif a.to_dict() != b.to_dict():
            raise RoundTripError(f"{record.id}: {a.to_dict()} parsed back as {b.to_dict()}")
    again = render_tokens(oh.Conversation.from_messages(parsed))
    if again != tokens:
        raise RoundTripError(f"{record.id}: the parsed conversation renders differently")
    return tokens


# -- training examples -----------------------------------------------------------------------------
@dataclass
class Example:
    record: str
    prompt: list[int]
    completion: list[int]

    @property
    def input_ids(self) -> list[int]:
        return self.prompt + self.completion

    @property
    def completion_mask(self) -> list[int]:
        return [0] * len(self.prompt) + [1] * len(self.completion)


def action_spans(messages: list[oh.Message]) -> list[tuple[int, int]]:
    """(start, end) message indices of each assistant action: a run of assistant messages that
    ends with a tool call or a final answer."""
    spans, start = [], None
    for i, m in enumerate(messages):
        if m.author.role != oh.Role.ASSISTANT:
            start = None
            continue
        if start is None:
            start = i
        if (m.recipient or "").startswith("functions.") or m.channel == "final":
            spans.append((start, i))
            start = None
    return spans


def examples(record: Record) -> list[Example]:
    """Prompt/completion token pairs for each action of the record's current turn.

    The prompt is what the agent renders at that point (render_prompt: system, developer,
    history, the turn so far, `<|start|>assistant`); the completion is the action, ending in
    <|call|> or <|return|>. Actions before the last user message are history: not trained."""
    enc = harmony.load_encoding()
    msgs = record.messages()
    last_user = max(i for i, m in enumerate(msgs) if m.author.role == oh.Role.USER)
    out = []
    for start, end in action_spans(msgs):
        if start < last_user:
            continue
        prompt = enc.render_conversation_for_completion(
            oh.Conversation.from_messages(msgs[:start]), oh.Role.ASSISTANT, _NO_DROP
        )
        full = enc.render_conversation_for_training(oh.Conversation.from_messages(msgs[: end + 1]), _NO_DROP)
        if full[: len(prompt)] != prompt:
            raise RoundTripError(f"{record.id}: the training render does not extend the prompt")
        out.append(Example(record.id, list(prompt), list(full[len(prompt) :])))
    return out


def iter_examples(records: Iterable[Record]) -> Iterator[Example]:
    for r in records:
        yield from examples(r)


@dataclass
class Sequence:
    """A whole record as one training sequence, the loss mask on its current turn's actions: the
    same loss as its `examples`, with the long prompt processed once instead of once per action."""

    record: str
    input_ids: list[int]
    completion_mask: list[int]

    @property
    def targets(self) -> int:
        return sum(self.completion_mask)


def sequence(record: Record) -> Sequence:
    enc = harmony.load_encoding()
    msgs = record.messages()
    full = list(enc.render_conversation_for_training(oh.Conversation.from_messages(msgs), _NO_DROP))
    mask = [0] * len(full)
    last_user = max(i for i, m in enumerate(msgs) if m.author.role == oh.Role.USER)
    for start, end in action_spans(msgs):
        if start < last_user:
            continue
        prompt = enc.render_conversation_for_completion(
            oh.Conversation.from_messages(msgs[:start]), oh.Role.ASSISTANT, _NO_DROP
        )
        upto = enc.render_conversation_for_training(oh.Conversation.from_messages(msgs[: end + 1]), _NO_DROP)
        if full[: len(upto)] != list(upto) or upto[: len(prompt)] != prompt:
            raise RoundTripError(f"{record.id}: an action does not render the same inside the conversation")
        mask[len(prompt) : len(upto)] = [1] * (len(upto) - len(prompt))
    return Sequence(record.id, full, mask)
