"""GET /v1/calls/{call_sid}: a stored call and its turns (what was heard, what the bot said)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from voice.store.models import Call

router = APIRouter(prefix="/v1")


@router.get("/calls/{call_sid}")
async def get_call(call_sid: str, request: Request) -> dict:
    db = request.app.state.runtime.db

    def load() -> dict | None:
        with db.session() as s:
            call = s.scalar(select(Call).where(Call.call_sid == call_sid))
            if call is None:
                return None
            return {
                "call_sid": call.call_sid,
                "language": call.language,
                "started_at": call.started_at.isoformat(),
                "ended_at": call.ended_at.isoformat() if call.ended_at else None,
                "outcome": call.outcome,
                "turns": [
                    {
                        "index": t.index,
                        "caller_text": t.caller_text,
                        "bot_text": t.bot_text,
                        "bot_text_planned": t.bot_text_planned,
                        "route": t.route,
                        "interrupted": t.interrupted,
                        "timings": t.timings,
                    }
                    for t in call.turns
                ],
            }

    data = await run_in_threadpool(load)
    if data is None:
        raise HTTPException(404, "no such call")
    return data
