"""Test fixture: a `llama-server` binary built once with cmake (CPU only, cached) from the llama.cpp
source PyPI ships inside llama-cpp-python's sdist, for the OpenAI-compatible path's tests and
benchmarks.

The same source tree gives the product its GGUF converter (voice/agent/gguf.py), so the server,
the converter and the in-process backend agree on the GGUF format and on gpt-oss's chat handling.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

from voice.agent.gguf import (
    LLAMA_CPP_PYTHON_VERSION,
    LlamaBuildError,
    cache_root,
    locked,
    run_logged,
    source_dir,
)

log = logging.getLogger(__name__)

__all__ = ["LlamaBuildError", "build_llama_server", "check_toolchain"]

CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # would download the web UI
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_CUDA=OFF",
]


def _cpu_tag() -> str:
    """Builds use -march=native: key the cache by the CPU's feature flags."""
    try:
        flags = next(
            line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")
        )
    except (OSError, StopIteration):
        flags = os.uname().machine
    return hashlib.sha256(flags.encode()).hexdigest()[:10]


def check_toolchain() -> None:
    missing = [tool for tool in ("cmake", "make") if shutil.which(tool) is None]
    if not any(shutil.which(cc) for cc in ("c++", "g++", "clang++")):
        missing.append("a C++ compiler (g++ or clang++)")
    if missing:
        raise LlamaBuildError(
            f"building llama-server needs {', '.join(missing)}; "
            "on Debian/Ubuntu: apt-get install cmake g++ make"
        )


def build_llama_server(jobs: int = 2, version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """Path to a `llama-server` binary built from the sdist's llama.cpp (cached; ~4 min on 2 cores)."""
    root = cache_root(version)
    out = root / f"bin-{_cpu_tag()}" / "llama-server"
    stamp = out.with_name("build.json")
    if out.is_file() and stamp.is_file():
        return out
    check_toolchain()
    src = source_dir(version)
    with locked(root):
        if out.is_file() and stamp.is_file():
            return out
        build = root / f"build-{_cpu_tag()}"
        log_path = root / "build.log"
        log_path.write_text("")
        t0 = time.perf_counter()
        log.info("building llama-server from %s (log %s)", src, log_path)
        run_logged(["cmake", "-S", str(src), "-B", str(build), *CMAKE_FLAGS], log_path)
        run_logged(
            [
                "cmake",
                "--build",
                str(build),
                "--config",
                "Release",
                "--target",
                "llama-server",
                "-j",
                str(jobs),
            ],
            log_path,
        )
        built = build / "bin" / "llama-server"
        if not built.is_file():
            raise LlamaBuildError(f"the build finished without {built}; log {log_path}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, out)
        elapsed = round(time.perf_counter() - t0, 1)
        stamp.write_text(json.dumps({"version": version, "flags": CMAKE_FLAGS, "build_s": elapsed}))
        shutil.rmtree(build, ignore_errors=True)
    return out
