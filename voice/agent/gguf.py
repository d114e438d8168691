"""Hugging Face -> GGUF with llama.cpp's own converter, from the source PyPI ships inside
llama-cpp-python's sdist (fetched once, cached).

The sdist pins one llama.cpp revision for the in-process backend (llama-cpp-python), the server
and the converter alike, so all three agree on the GGUF format and on gpt-oss's chat handling.
Exported agent adapters and models go through `convert_hf_to_gguf`; the test fixtures build their
`llama-server` from the same source tree (voice/testing/llama_server.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

LLAMA_CPP_PYTHON_VERSION = "0.3.36"


class LlamaBuildError(RuntimeError):
    """llama.cpp could not be fetched, built or run (message says what to install or read)."""


def cache_root(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """Where the sdist, its source tree and builds from it are cached (VOICE_LLAMA_CPP_CACHE)."""
    import platformdirs

    base = (
        os.environ.get("VOICE_LLAMA_CPP_CACHE")
        or Path(platformdirs.user_cache_dir("teranga-voice")) / "llama.cpp"
    )
    root = Path(base) / version
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """One fetch or build at a time across processes (two test sessions, a test and a benchmark)."""
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_logged(cmd: list[str], log_path: Path, **kw) -> None:
    """Run `cmd` with its output appended to `log_path`; on failure raise with the log's tail."""
    with open(log_path, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kw)
    if proc.returncode != 0:
        tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-30:])
        raise LlamaBuildError(f"{cmd[0]} failed (exit {proc.returncode}); log {log_path}:\n{tail}")


def source_dir(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """llama.cpp's source tree (vendor/llama.cpp of the llama-cpp-python sdist), fetched once.

    VOICE_LLAMA_CPP_SDIST may point at a local sdist; otherwise pip downloads it from PyPI.
    """
    root = cache_root(version)
    src = root / "src" / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    if (src / "CMakeLists.txt").is_file() and (root / "src" / "done").exists():
        return src
    with locked(root):
        if (root / "src" / "done").exists():
            return src
        sdist = os.environ.get("VOICE_LLAMA_CPP_SDIST")
        if not sdist:
            dl = root / "sdist"
            found = sorted(dl.glob(f"llama_cpp_python-{version}.tar.gz"))
            if not found:
                dl.mkdir(exist_ok=True)
                cmd = [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    f"llama-cpp-python=={version}",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "-d",
                    str(dl),
                ]
                run_logged(cmd, root / "download.log")
                found = sorted(dl.glob(f"llama_cpp_python-{version}.tar.gz"))
            if not found:
                raise LlamaBuildError(f"pip did not download llama-cpp-python {version}'s sdist into {dl}")
            sdist = str(found[0])
        shutil.rmtree(root / "src", ignore_errors=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(root / "src", filter="data")
        if not (src / "convert_hf_to_gguf.py").is_file():
            raise LlamaBuildError(f"{sdist} has no vendor/llama.cpp/convert_hf_to_gguf.py")
        (root / "src" / "done").write_text(sdist)
    return src


def convert_hf_to_gguf(hf_dir: str | Path, out_file: str | Path, outtype: str = "f32") -> Path:
    """Convert a transformers checkpoint (gpt-oss included) to GGUF with llama.cpp's own converter."""
    src = source_dir()
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    log_path = out_file.with_suffix(".convert.log")
    log_path.write_text("")
    cmd = [
        sys.executable,
        str(src / "convert_hf_to_gguf.py"),
        str(hf_dir),
        "--outfile",
        str(out_file),
        "--outtype",
        outtype,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("NO_LOCAL_GGUF", None)  # the converter must use its own gguf-py, not a pip one
    run_logged(cmd, log_path, env=env)
    if not out_file.is_file():
        raise LlamaBuildError(f"the converter wrote no {out_file}; log {log_path}")
    return out_file
