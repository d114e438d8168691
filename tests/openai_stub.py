"""A small real HTTP server speaking OpenAI's chat-completions wire format (SSE streaming), scripted
per test: the answers a real server gives, including the broken ones (HTTP errors, stalls,
malformed tool calls, old field names). It stands in for a GPU vLLM/Ollama we cannot run here.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SSE:
    """A streamed answer: `chunks` (dicts are sent as JSON, strings raw after `data: `)."""

    chunks: list[dict | str]
    delay: float = 0.0  # before each chunk
    stall: float = 0.0  # after the chunks, before `data: [DONE]`
    done: bool = True


@dataclass
class Fail:
    status: int
    body: dict | str = field(default_factory=lambda: {"error": {"message": "boom", "type": "server_error"}})


@dataclass
class Hang:
    """Read the request, then answer nothing for `seconds`."""

    seconds: float


Response = SSE | Fail | Hang


def chunk(
    content: str | None = None,
    reasoning: str | None = None,
    reasoning_content: str | None = None,
    tool_calls: list[dict] | None = None,
    function_call: dict | None = None,
    finish_reason: str | None = None,
) -> dict:
    delta: dict[str, Any] = {"role": "assistant"}
    for key, value in (
        ("content", content),
        ("reasoning", reasoning),
        ("reasoning_content", reasoning_content),
        ("tool_calls", tool_calls),
        ("function_call", function_call),
    ):
        if value is not None:
            delta[key] = value
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "stub",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def tool_delta(
    index: int, name: str | None = None, arguments: str | None = None, id: str | None = None
) -> dict:
    d: dict[str, Any] = {"index": index, "type": "function", "function": {}}
    if id:
        d["id"] = id
    if name is not None:
        d["function"]["name"] = name
    if arguments is not None:
        d["function"]["arguments"] = arguments
    return d


def usage_chunk(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "stub",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class OpenAIStub:
    """`with OpenAIStub() as stub: stub.script(SSE([...])); backend = OpenAICompatBackend(stub.url)`."""

    def __init__(self) -> None:
        self.responses: list[Response] = []
        self.requests: list[dict] = []
        self.aborted = threading.Event()  # the client closed the connection mid-answer
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                response = stub.responses.pop(0) if stub.responses else Fail(500, "no scripted response")
                self.close_connection = True
                try:
                    stub._answer(self, response)
                except (BrokenPipeError, ConnectionResetError):
                    stub.aborted.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def script(self, *responses: Response) -> OpenAIStub:
        self.responses.extend(responses)
        return self

    def _answer(self, h: BaseHTTPRequestHandler, r: Response) -> None:
        if isinstance(r, Hang):
            time.sleep(r.seconds)
            return
        if isinstance(r, Fail):
            data = (json.dumps(r.body) if isinstance(r.body, dict) else r.body).encode()
            h.send_response(r.status)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            h.send_header("connection", "close")
            h.end_headers()
            h.wfile.write(data)
            return
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.send_header("cache-control", "no-cache")
        h.send_header("connection", "close")
        h.end_headers()
        for c in r.chunks:
            if r.delay:
                time.sleep(r.delay)
            line = c if isinstance(c, str) else json.dumps(c)
            h.wfile.write(f"data: {line}\n\n".encode())
            h.wfile.flush()
        if r.stall:
            time.sleep(r.stall)
        if r.done:
            h.wfile.write(b"data: [DONE]\n\n")
            h.wfile.flush()

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
