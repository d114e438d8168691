"""llama.cpp from the source PyPI ships inside llama-cpp-python's sdist: `llama-server` (built
once with cmake, CPU only, cached) and the Hugging Face -> GGUF converter.

The sdist pins one llama.cpp revision for the in-process backend (llama-cpp-python), the server
and the converter alike, so all three agree on the GGUF format and on gpt-oss's chat handling.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
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


class LlamaBuildError(RuntimeError):
    """llama.cpp could not be fetched, built or run (message says what to install or read)."""


def cache_root(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    import platformdirs

    base = (
        os.environ.get("VOICE_LLAMA_CPP_CACHE")
        or Path(platformdirs.user_cache_dir("teranga-voice")) / "llama.cpp"
    )
    root = Path(base) / version
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One build at a time across processes (two test sessions, a test and a benchmark)."""
    with open(root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], log_path: Path, **kw) -> None:
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
    with _locked(root):
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
                _run(cmd, root / "download.log")
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
    with _locked(root):
        if out.is_file() and stamp.is_file():
            return out
        build = root / f"build-{_cpu_tag()}"
        log_path = root / "build.log"
        log_path.write_text("")
        t0 = time.perf_counter()
        log.info("building llama-server from %s (log %s)", src, log_path)
        _run(["cmake", "-S", str(src), "-B", str(build), *CMAKE_FLAGS], log_path)
        _run(
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
    _run(cmd, log_path, env=env)
    if not out_file.is_file():
        raise LlamaBuildError(f"the converter wrote no {out_file}; log {log_path}")
    return out_file
