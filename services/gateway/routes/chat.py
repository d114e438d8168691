"""POST /v1/chat: one agent turn for integrations (the same agent as calls and WhatsApp)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/v1")


class ChatRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    lang: str | None = Field(None, description="pack code; default: the conversation's last language")
    caller: str | None = Field(None, description="the customer's phone number (tools use it)")
    conversation_id: str | None = Field(None, description="keep history across turns under this id")


@router.post("/chat")
async def chat(req: ChatRequest, request: Request) -> dict:
    from voice.agent import Session
    from voice.errors import BadInputError
    from voice.packs import get_pack
    from voice.store.conversations import load_session, save_session

    runtime = request.app.state.runtime
    caller = req.caller or runtime.settings.agent.demo_caller

    def work() -> dict:
        db = runtime.db
        session = load_session(db, "api", req.conversation_id, caller) if req.conversation_id else None
        if req.lang:
            code = get_pack(req.lang).code
            session = session or Session(code, caller)
            session.language = code
        if session is None:
            raise BadInputError("give `lang` for a new conversation")
        result = runtime.agent.respond(session, req.text)
        if req.conversation_id:
            save_session(db, "api", req.conversation_id, session)
        return result.to_json()

    return await run_in_threadpool(work)
