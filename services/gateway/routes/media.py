"""GET /media/{id}?exp=...&sig=...: voice-note replies, for providers that fetch them (Twilio).

403 for a missing, wrong or expired signature (checked before the id is looked up, so a URL
without a valid signature learns nothing); 404 for a signed id we do not (or no longer) hold.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from voice.messaging.media import check_signature, load_blob, media_secret, servable

router = APIRouter()


@router.api_route("/media/{media_id}", methods=["GET", "HEAD"])
async def get_media(media_id: str, request: Request) -> Response:
    state = request.app.state
    if not hasattr(state, "media_secret"):
        state.media_secret = media_secret(state.settings)
    q = request.query_params
    if not check_signature(state.media_secret, media_id, q.get("exp"), q.get("sig")):
        raise HTTPException(403, "invalid or expired media signature")
    blob = await run_in_threadpool(load_blob, state.runtime.db, media_id)
    if not servable(blob):
        raise HTTPException(404, "no such media")
    body = b"" if request.method == "HEAD" else blob.data
    headers = {"Cache-Control": "private, no-store", "Content-Length": str(len(blob.data))}
    return Response(body, media_type=blob.content_type, headers=headers)
