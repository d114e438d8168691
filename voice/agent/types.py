"""Messages, tool calls and the events a backend streams (OpenAI chat shapes, harmony-aware)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "developer", "user", "assistant", "tool"]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    def to_openai(self) -> dict:
        import json

        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False)},
        }


@dataclass
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # for role "tool"
    name: str | None = None  # the tool's name, for role "tool"
    reasoning: str | None = None  # analysis channel; kept only inside an unfinished tool loop

    def to_openai(self) -> dict:
        msg: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        if self.tool_call_id:
            msg["tool_call_id"] = self.tool_call_id
        if self.role == "tool" and self.name:
            msg["name"] = self.name
        return msg


# -- what a backend streams ------------------------------------------------------------------
@dataclass
class ReasoningDelta:
    text: str


@dataclass
class TextDelta:
    text: str  # final channel only: the only text ever spoken


@dataclass
class ToolCallEvent:
    call: ToolCall


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Done:
    usage: Usage = field(default_factory=Usage)
    first_token_s: float | None = None  # from request to the first token of any kind
    first_text_s: float | None = None  # from request to the first final-channel token
    total_s: float = 0.0
    finish_reason: str = "stop"


BackendEvent = ReasoningDelta | TextDelta | ToolCallEvent | Done
