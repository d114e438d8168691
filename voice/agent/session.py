"""What the agent remembers about one conversation (a call or a WhatsApp thread)."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice.agent.types import Message

MAX_HISTORY = 12  # messages kept for the LLM; older turns fall off


@dataclass
class Session:
    language: str
    caller: str
    history: list[Message] = field(default_factory=list)
    pending_offer: str | None = None  # an offer the agent asked the caller to confirm
    failures: int = 0  # consecutive turns the agent could not serve
    handed_off: bool = False

    def add_user(self, text: str) -> None:
        self.history.append(Message("user", text))
        self._trim()

    def add_assistant(self, text: str) -> None:
        self.history.append(Message("assistant", text))
        self._trim()

    def keep_heard(self, heard: str) -> None:
        """After a barge-in: remember the latest reply only as far as the caller heard it.

        A reply cut off while it was still being generated never reached the history (the turn
        ended early), so what was heard becomes it; one that did reach it is replaced. Either way
        an earlier reply is never touched."""
        if self.history and self.history[-1].role == "assistant":
            self.history[-1].content = heard
        elif heard:
            self.add_assistant(heard)

    def _trim(self) -> None:
        del self.history[:-MAX_HISTORY]

    def to_json(self) -> dict:
        return {
            "language": self.language,
            "caller": self.caller,
            "history": [{"role": m.role, "content": m.content} for m in self.history],
            "pending_offer": self.pending_offer,
            "failures": self.failures,
        }

    @classmethod
    def from_json(cls, data: dict) -> Session:
        return cls(
            language=data["language"],
            caller=data.get("caller", ""),
            history=[Message(m["role"], m["content"]) for m in data.get("history", [])],
            pending_offer=data.get("pending_offer"),
            failures=data.get("failures", 0),
        )
