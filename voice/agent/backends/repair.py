"""Repair the malformed tool calls that gpt-oss servers are known to emit.

Seen in the wild (Ollama #11704, #12187; vLLM #22519): tool names with harmony markup left in
("functions.get_balance", "get_balance<|channel|>commentary", "to=functions.get_balance",
"get_balance <|constrain|>json"), and arguments that are not JSON (single quotes, Python
literals, trailing junk after the object, markdown fences, an empty string, JSON inside a string).
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections.abc import Collection
from typing import Any

_SPECIAL = re.compile(r"<\|[a-z_]+\|>.*", re.DOTALL)  # a harmony token and whatever follows it
_TOKEN = re.compile(r"<\|[a-z_]+\|>")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_JSON_LITERALS = {"true": "True", "false": "False", "null": "None"}


class ArgumentsError(ValueError):
    """The arguments could not be read as a JSON object, even after repair."""


def normalize_tool_name(raw: str, known: Collection[str] = ()) -> str:
    """The tool's real name when `raw` is a known name wrapped in harmony markup, else `raw` stripped.

    An unknown name is returned as given (stripped) so the caller can answer "unknown tool".
    """
    name = raw.strip()
    if name in known:
        return name
    cleaned = _SPECIAL.sub("", name).strip()  # "x<|channel|>commentary" -> "x"
    cleaned = cleaned.split()[0] if cleaned.split() else cleaned  # "x json" -> "x"
    cleaned = cleaned.removeprefix("to=").removeprefix("functions.").strip(" .:\"'")
    if cleaned in known or (cleaned and not known):
        return cleaned
    # "assistant to=functions.x" and other orders: take the last `functions.NAME` mentioned.
    found = re.findall(r"functions\.([A-Za-z0-9_\-]+)", name)
    if found and (found[-1] in known or not known):
        return found[-1]
    return name


def parse_arguments(raw: str | dict | None) -> dict[str, Any]:
    """A JSON object from tool-call arguments as models really write them. Raises ArgumentsError."""
    if isinstance(raw, dict):
        return raw
    text = (raw or "").strip()
    if not text:
        return {}
    for candidate in _candidates(text):
        value = _load(candidate)
        if isinstance(value, str):  # JSON double-encoded as a string
            value = _load(value.strip())
        if isinstance(value, dict):
            return value
    raise ArgumentsError(f"tool arguments are not a JSON object: {text[:200]!r}")


def _candidates(text: str) -> list[str]:
    text = _FENCE.sub("", _TOKEN.sub(" ", text).strip()).strip()
    out = [text]
    start = text.find("{")
    if start >= 0:
        end = _matching_brace(text, start)
        out.append(text[start : end + 1] if end is not None else text[start:] + "}")
    return out


def _matching_brace(text: str, start: int) -> int | None:
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:  # JSON followed by junk
        return json.JSONDecoder().raw_decode(text)[0]
    except ValueError:
        pass
    try:  # Python literals: single quotes, True/False/None, and JSON's true/false/null mixed in
        return ast.literal_eval(_pythonize(text))
    except (ValueError, SyntaxError, MemoryError, RecursionError, tokenize.TokenError):
        return None


def _pythonize(text: str) -> str:
    tokens = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string in _JSON_LITERALS:
            tok = tok._replace(string=_JSON_LITERALS[tok.string])
        tokens.append(tok)
    return tokenize.untokenize(tokens)


class MarkupFilter:
    """Route harmony markup that a server leaked into `content` instead of parsing it.

    Text after `<|channel|>final<|message|>` stays text; after an analysis or commentary header it
    becomes reasoning (never spoken); the markup itself is dropped. Plain content passes through.
    """

    def __init__(self) -> None:
        self.buffer, self.header, self.mode = "", "", "text"  # mode: text | reasoning | header

    def feed(self, text: str) -> list[tuple[str, str]]:
        self.buffer += text
        out: list[tuple[str, str]] = []
        while self.buffer:
            i = self.buffer.find("<|")
            if i < 0:
                keep = 1 if self.buffer.endswith("<") else 0  # maybe the start of a token
                self._emit(self.buffer[: len(self.buffer) - keep], out)
                self.buffer = self.buffer[len(self.buffer) - keep :]
                break
            self._emit(self.buffer[:i], out)
            self.buffer = self.buffer[i:]
            j = self.buffer.find("|>")
            if j < 0:
                if len(self.buffer) > 40:  # too long for a token: plain text after all
                    self._emit(self.buffer[:2], out)
                    self.buffer = self.buffer[2:]
                    continue
                break
            token, self.buffer = self.buffer[: j + 2], self.buffer[j + 2 :]
            self._token(token)
        return out

    def flush(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        self._emit(self.buffer, out)
        self.buffer = ""
        return out

    def _token(self, token: str) -> None:
        if token in ("<|channel|>", "<|start|>"):
            self.header = self.header + " " if self.mode == "header" else ""
            self.mode = "header"
        elif token == "<|message|>":
            self.mode = (
                "text" if re.search(r"\bfinal\b", self.header) and "to=" not in self.header else "reasoning"
            )
        elif token in ("<|end|>", "<|return|>", "<|call|>"):
            self.mode = "text"

    def _emit(self, text: str, out: list[tuple[str, str]]) -> None:
        if not text:
            return
        if self.mode == "header":
            self.header += text
        else:
            out.append((self.mode, text))
