"""gpt-oss's harmony format, offline: render our conversations to prompt tokens, parse the tokens
a model generates back into our events (analysis -> reasoning, final -> speech, tool calls).

openai-harmony needs `o200k_base.tiktoken`; it is taken from the `bpe-openai` wheel (gzipped),
checked against its published sha256 and exposed through TIKTOKEN_ENCODINGS_BASE, so loading the
encoding never touches the network. `CHAT_TEMPLATE` renders the same prompt as `render_prompt`
in Jinja, for servers that template OpenAI messages themselves (llama-server --jinja).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import json
import logging
import os
import uuid
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

import openai_harmony as oh

from voice.agent.backends.repair import ArgumentsError, normalize_tool_name, parse_arguments
from voice.agent.types import BackendEvent, Message, ReasoningDelta, TextDelta, ToolCall, ToolCallEvent

log = logging.getLogger(__name__)

O200K_FILE = "o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
FIRST_SPECIAL_ID = 199998  # <|startoftext|>; o200k's 199,998 byte-level tokens come before it
MODEL_VOCAB_SIZE = 201088  # gpt-oss's embedding rows: ids 0..201087
EFFORTS = {
    "low": oh.ReasoningEffort.LOW,
    "medium": oh.ReasoningEffort.MEDIUM,
    "high": oh.ReasoningEffort.HIGH,
}


class HarmonyFormatError(ValueError):
    """The model's tokens are not valid harmony."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiktoken_dir() -> Path:
    """A directory holding a verified o200k_base.tiktoken (written once from the bpe-openai wheel)."""
    env = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
    if env and (Path(env) / O200K_FILE).is_file():
        return Path(env)
    import platformdirs

    root = Path(platformdirs.user_cache_dir("teranga-voice")) / "tiktoken"
    path = root / O200K_FILE
    if not path.is_file() or _sha256(path) != O200K_SHA256:
        gz = importlib.resources.files("bpe_openai") / "data" / f"{O200K_FILE}.gz"
        data = gzip.decompress(gz.read_bytes())
        if hashlib.sha256(data).hexdigest() != O200K_SHA256:
            raise RuntimeError(f"bpe-openai's {O200K_FILE} does not have the expected sha256 {O200K_SHA256}")
        root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return root


@lru_cache(maxsize=1)
def load_encoding() -> oh.HarmonyEncoding:
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(tiktoken_dir())
    return oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)


def special_token_ids() -> dict[str, int]:
    """Harmony's special tokens inside the model's vocabulary (1,090 of them: 199998..201087)."""
    enc = load_encoding()
    ids = {t: enc.encode(t, allowed_special="all") for t in enc.special_tokens_set}
    return {t: i[0] for t, i in ids.items() if len(i) == 1 and i[0] < MODEL_VOCAB_SIZE}


def token_id(text: str) -> int:
    (tid,) = load_encoding().encode(text, allowed_special="all")
    return tid


def stop_token_ids() -> list[int]:
    """<|return|> and <|call|>: the assistant's turn ends (an <|end|> after `final` ends it too)."""
    return list(load_encoding().stop_tokens_for_assistant_actions())


# -- rendering ---------------------------------------------------------------------------------
def _tool_descriptions(tools: list[dict]) -> list[oh.ToolDescription]:
    out = []
    for tool in tools:
        f = tool.get("function", tool)
        out.append(oh.ToolDescription.new(f["name"], f.get("description") or "", f.get("parameters")))
    return out


def to_harmony(
    messages: list[Message],
    tools: list[dict],
    reasoning_effort: str = "low",
    date: str | None = None,
) -> list[oh.Message]:
    """Our messages -> harmony: system (effort), developer (instructions + `functions` tools), turns."""
    if reasoning_effort not in EFFORTS:
        raise ValueError(f"reasoning_effort must be one of {sorted(EFFORTS)}, not {reasoning_effort!r}")
    system = oh.SystemContent.new().with_reasoning_effort(EFFORTS[reasoning_effort])
    system = system.with_conversation_start_date(date)
    out = [oh.Message.from_role_and_content(oh.Role.SYSTEM, system)]
    instructions = "\n\n".join(m.content for m in messages if m.role in ("system", "developer") and m.content)
    if instructions or tools:
        dev = oh.DeveloperContent.new()
        if instructions:
            dev = dev.with_instructions(instructions)
        if tools:
            dev = dev.with_function_tools(_tool_descriptions(tools))
        out.append(oh.Message.from_role_and_content(oh.Role.DEVELOPER, dev))
    names: dict[str, str] = {}
    last_name = "unknown"
    assistant = oh.Role.ASSISTANT
    for m in messages:
        if m.role == "user":
            out.append(oh.Message.from_role_and_content(oh.Role.USER, m.content))
        elif m.role == "assistant":
            if m.reasoning:
                out.append(oh.Message.from_role_and_content(assistant, m.reasoning).with_channel("analysis"))
            if not m.tool_calls:
                out.append(oh.Message.from_role_and_content(assistant, m.content).with_channel("final"))
                continue
            if m.content:
                out.append(oh.Message.from_role_and_content(assistant, m.content).with_channel("commentary"))
            for call in m.tool_calls:
                names[call.id] = last_name = call.name
                args = json.dumps(call.arguments, ensure_ascii=False)
                msg = oh.Message.from_role_and_content(assistant, args).with_channel("commentary")
                out.append(
                    msg.with_recipient(f"functions.{call.name}").with_content_type("<|constrain|>json")
                )
        elif m.role == "tool":
            name = m.name or names.get(m.tool_call_id or "", last_name)
            author = oh.Author.new(oh.Role.TOOL, f"functions.{name}")
            msg = oh.Message.from_author_and_content(author, m.content)
            out.append(msg.with_channel("commentary").with_recipient("assistant"))
    return out


def render_prompt(
    messages: list[Message], tools: list[dict], reasoning_effort: str = "low", date: str | None = None
) -> list[int]:
    """Prompt token ids ending with `<|start|>assistant`, ready for the model to continue."""
    conversation = oh.Conversation.from_messages(to_harmony(messages, tools, reasoning_effort, date))
    config = oh.RenderConversationConfig(auto_drop_analysis=False)  # the agent loop decides what to keep
    return load_encoding().render_conversation_for_completion(conversation, oh.Role.ASSISTANT, config)


def decode(tokens: list[int]) -> str:
    return load_encoding().decode(tokens)


# -- parsing -----------------------------------------------------------------------------------
class HarmonyEventParser:
    """Generated token ids -> ReasoningDelta (analysis, preambles), TextDelta (final), ToolCallEvent.

    `done` turns true at <|return|>, at <|call|>, or when a final message ends with <|end|>.
    """

    def __init__(self, tool_names: Collection[str] = ()):
        enc = load_encoding()
        self.tool_names = tuple(tool_names)
        self._parser = oh.StreamableParser(enc, oh.Role.ASSISTANT, strict=False)
        self._ends = {token_id("<|end|>"), *stop_token_ids()}
        self._stops = set(stop_token_ids())
        self.done = False
        self.tokens = 0

    def feed(self, token: int) -> list[BackendEvent]:
        if self.done:
            return []
        self.tokens += 1
        p = self._parser
        try:
            p.process(token)
        except oh.HarmonyError as exc:
            raise HarmonyFormatError(f"model output is not valid harmony: {exc}") from exc
        if token in self._ends:
            return self._message_ended(token)
        delta = p.last_content_delta
        if not delta or p.current_recipient not in (None, "assistant"):
            return []  # headers, and tool-call arguments (reported whole when the call ends)
        if p.current_channel == "final":
            return [TextDelta(delta)]
        return [ReasoningDelta(delta)]  # analysis, and commentary preambles: never spoken

    def finish(self) -> list[BackendEvent]:
        """Generation ended without a stop token (max_tokens): a half-written tool call is dropped,
        never executed; the caller reports finish_reason "length"."""
        if not self.done and self._parser.current_recipient not in (None, "assistant"):
            log.warning("dropping a tool call to %s cut off by max_tokens", self._parser.current_recipient)
        self.done = True
        return []

    def _message_ended(self, token: int) -> list[BackendEvent]:
        msgs = self._parser.messages
        last = msgs[-1] if msgs else None
        if token in self._stops or (last is not None and last.channel == "final"):
            self.done = True
        return self._events_for(last) if last is not None and last.recipient else []

    def _events_for(self, msg: oh.Message) -> list[BackendEvent]:
        recipient = msg.recipient or ""
        if recipient == "assistant":
            return []
        raw = "".join(c.text for c in msg.content if isinstance(c, oh.TextContent))
        try:
            args = parse_arguments(raw)
        except ArgumentsError:
            log.warning("tool call %s: unreadable arguments %r", recipient, raw[:200])
            args = {}
        name = normalize_tool_name(recipient.removeprefix("functions."), self.tool_names)
        return [ToolCallEvent(ToolCall(f"call_{uuid.uuid4().hex[:16]}", name, args))]


# -- the same rendering as a Jinja chat template -----------------------------------------------
# Renders byte-for-byte what `render_prompt` renders (tests compare both, and against
# llama-server's /apply-template) for flat JSON-schema parameters: string, number, integer,
# boolean, enum, arrays of those, type lists, defaults. Variables: messages, tools,
# add_generation_prompt, reasoning_effort (default medium), conversation_date (optional).
CHAT_TEMPLATE = r"""
{%- macro ts_scalar(t) -%}
{{- "number" if t == "integer" else t -}}
{%- endmacro -%}
{%- macro ts_type(p) -%}
{%- if p.enum is defined -%}
{%- for v in p.enum -%}{{- v | tojson -}}{{- " | " if not loop.last else "" -}}{%- endfor -%}
{%- elif p.type is not defined -%}any
{%- elif p.type is string and p.type == "array" -%}
{{- (ts_scalar(p["items"].type) if p["items"] is defined and p["items"].type is defined else "any") + "[]" -}}
{%- elif p.type is string -%}{{- ts_scalar(p.type) -}}
{%- else -%}
{%- for t in p.type -%}{{- ts_scalar(t) -}}{{- " | " if not loop.last else "" -}}{%- endfor -%}
{%- endif -%}
{%- endmacro -%}
{%- set has_tools = tools is defined and tools is not none and tools | length > 0 -%}
{%- set effort = reasoning_effort if reasoning_effort is defined and reasoning_effort else "medium" -%}
{{- "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n" -}}
{{- "Knowledge cutoff: 2024-06\n" -}}
{%- if conversation_date is defined and conversation_date -%}
{{- "Current date: " + conversation_date + "\n" -}}
{%- endif -%}
{{- "\nReasoning: " + effort + "\n\n" -}}
{{- "# Valid channels: analysis, commentary, final. Channel must be included for every message." -}}
{%- if has_tools -%}
{{- "\nCalls to these tools must go to the commentary channel: 'functions'." -}}
{%- endif -%}
{{- "<|end|>" -}}
{%- set ns = namespace(instructions="") -%}
{%- for m in messages -%}
{%- if (m.role == "system" or m.role == "developer") and m.content -%}
{%- set ns.instructions = ns.instructions + ("\n\n" if ns.instructions else "") + m.content -%}
{%- endif -%}
{%- endfor -%}
{%- if ns.instructions or has_tools -%}
{{- "<|start|>developer<|message|>" -}}
{%- if ns.instructions -%}{{- "# Instructions\n\n" + ns.instructions -}}{%- endif -%}
{%- if ns.instructions and has_tools -%}{{- "\n\n" -}}{%- endif -%}
{%- if has_tools -%}
{{- "# Tools\n\n## functions\n\nnamespace functions {\n\n" -}}
{%- for tool in tools -%}
{%- set f = tool.function if tool.function is defined else tool -%}
{%- if f.description -%}{{- "// " + f.description.replace("\n", "\n// ") + "\n" -}}{%- endif -%}
{{- "type " + f.name + " = " -}}
{%- if f.parameters is defined and f.parameters is not none -%}
{{- "(_: {\n" -}}
{%- set required = f.parameters.required if f.parameters.required is defined else [] -%}
{%- set required = required if required else [] -%}
{%- if f.parameters.properties is defined and f.parameters.properties -%}
{%- for pname, p in f.parameters.properties.items() -%}
{%- if p.description is defined and p.description -%}{{- "// " + p.description + "\n" -}}{%- endif -%}
{{- pname + ("" if pname in required else "?") + ": " + ts_type(p) + "," -}}
{%- if p.default is defined and p.enum is defined and p.default is string -%}
{{- " // default: " + p.default -}}
{%- elif p.default is defined -%}
{{- " // default: " + (p.default | tojson) -}}
{%- endif -%}
{{- "\n" -}}
{%- endfor -%}
{%- endif -%}
{{- "}) => any;\n\n" -}}
{%- else -%}
{{- "() => any;\n\n" -}}
{%- endif -%}
{%- endfor -%}
{{- "} // namespace functions" -}}
{%- endif -%}
{{- "<|end|>" -}}
{%- endif -%}
{%- set calls = namespace(last="unknown") -%}
{%- for m in messages -%}
{%- if m.role == "user" -%}
{{- "<|start|>user<|message|>" + m.content + "<|end|>" -}}
{%- elif m.role == "assistant" -%}
{%- if m.thinking is defined and m.thinking -%}
{%- set thinking = m.thinking -%}
{%- elif m.reasoning_content is defined and m.reasoning_content -%}
{%- set thinking = m.reasoning_content -%}
{%- elif m.reasoning is defined and m.reasoning -%}
{%- set thinking = m.reasoning -%}
{%- else -%}
{%- set thinking = "" -%}
{%- endif -%}
{%- if thinking -%}
{{- "<|start|>assistant<|channel|>analysis<|message|>" + thinking + "<|end|>" -}}
{%- endif -%}
{%- if m.tool_calls is defined and m.tool_calls -%}
{%- if m.content -%}
{{- "<|start|>assistant<|channel|>commentary<|message|>" + m.content + "<|end|>" -}}
{%- endif -%}
{%- for tc in m.tool_calls -%}
{%- set fn = tc.function if tc.function is defined else tc -%}
{%- set calls.last = fn.name -%}
{{- "<|start|>assistant to=functions." + fn.name + "<|channel|>commentary <|constrain|>json<|message|>" -}}
{%- if fn.arguments is string -%}{{- fn.arguments -}}{%- else -%}{{- fn.arguments | tojson -}}{%- endif -%}
{{- "<|call|>" -}}
{%- endfor -%}
{%- else -%}
{{- "<|start|>assistant<|channel|>final<|message|>" + (m.content if m.content else "") + "<|end|>" -}}
{%- endif -%}
{%- elif m.role == "tool" -%}
{%- set tn = namespace(name=(m.name if m.name is defined and m.name else "")) -%}
{%- if not tn.name and m.tool_call_id is defined and m.tool_call_id -%}
{%- for prev in messages -%}
{%- if prev.role == "assistant" and prev.tool_calls is defined and prev.tool_calls -%}
{%- for tc in prev.tool_calls -%}
{%- if tc.id is defined and tc.id == m.tool_call_id -%}
{%- set tn.name = tc.function.name if tc.function is defined else tc.name -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{{- "<|start|>functions." + (tn.name if tn.name else calls.last) -}}
{{- " to=assistant<|channel|>commentary<|message|>" -}}
{{- m.content + "<|end|>" -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- "<|start|>assistant" -}}{%- endif -%}
""".strip()
