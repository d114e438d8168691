"""GET /packs/index.json and /packs/{file}: built language packs for public services to download."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

router = APIRouter(prefix="/packs")


def _packs_dir(request: Request) -> Path:
    directory = request.app.state.settings.paths.packs_dir
    if directory is None or not Path(directory).is_dir():
        raise HTTPException(404, "this gateway serves no packs (set VOICE_PACKS_DIR)")
    return Path(directory).resolve()


@router.get("/index.json")
async def pack_index(request: Request) -> JSONResponse:
    from voice.packs.index import build_index

    directory = _packs_dir(request)
    return JSONResponse(await run_in_threadpool(build_index, directory))


@router.get("/{filename}")
async def pack_file(filename: str, request: Request) -> FileResponse:
    directory = _packs_dir(request)
    path = (directory / filename).resolve()
    # Only archives directly in the packs dir: no traversal, no other files.
    if path.parent != directory or not path.is_file() or not filename.endswith((".whl", ".tar.gz")):
        raise HTTPException(404, "no such pack file")
    return FileResponse(path, media_type="application/octet-stream", filename=filename)
