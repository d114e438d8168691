"""The agent: energy routing (FAQ route vs LLM), tools over the business backend, streaming."""

from voice.agent.loop import Agent, Sentence, TurnResult
from voice.agent.session import Session

__all__ = ["Agent", "Sentence", "Session", "TurnResult"]
