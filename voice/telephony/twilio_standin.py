"""A local stand-in for the two Twilio REST calls a live call uses (update: TwiML or Status).

`voice call` runs it next to an in-process gateway so hand-offs and hang-ups stay on this
machine; tests use it as "Twilio's REST API". It checks HTTP Basic auth like Twilio does and
answers in Twilio's JSON shape.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request, Response


@dataclass
class RestRequest:
    call_sid: str
    form: dict[str, str]
    authorized: bool


@dataclass
class TwilioStandIn:
    account_sid: str
    auth_token: str
    requests: list[RestRequest] = field(default_factory=list)
    on_update: Callable[[RestRequest], None] | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{account}/Calls/{call_sid}.json")
        async def update_call(account: str, call_sid: str, request: Request) -> Response:
            expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            authorized = (
                account == self.account_sid and request.headers.get("authorization") == f"Basic {expected}"
            )
            form = {k: str(v) for k, v in (await request.form()).items()}
            req = RestRequest(call_sid, form, authorized)
            self.requests.append(req)
            if not authorized:
                return Response(
                    '{"code": 20003, "message": "Authenticate", "status": 401}',
                    401,
                    media_type="application/json",
                )
            if self.on_update:
                self.on_update(req)
            status = "completed" if form.get("Status") == "completed" else "in-progress"
            body = f'{{"sid": "{call_sid}", "account_sid": "{account}", "status": "{status}"}}'
            return Response(body, 200, media_type="application/json")

        return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BackgroundServer:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a thread; `with` starts and stops it."""

    def __init__(self, app, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                ws="websockets-sansio",
                lifespan="on",
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"server-{self.port}")

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} failed to start")
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


async def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.02)
    return True
