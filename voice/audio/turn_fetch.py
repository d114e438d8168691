"""Put the Smart Turn v3 model in the cache dir without Hugging Face: it ships in a PyPI wheel.

The pipecat-ai wheel bundles smart-turn-v3.2-cpu.onnx (8.7 MB, BSD-2-Clause). Installing
pipecat would pull in its whole dependency tree, so this downloads the one wheel with pip
(which honours the machine's index and proxy settings), keeps only the .onnx and the licence,
and checks the model's sha256 so a changed or corrupted download is refused.

    python -m voice.audio.turn_fetch [--cache-dir DIR]     # what ./dev setup runs
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from voice.audio.turn import CACHE_SUBDIR
from voice.errors import ModelError

PIPECAT_VERSION = "1.14.0"
WHEEL_MODEL = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
WHEEL_LICENSE = f"pipecat_ai-{PIPECAT_VERSION}.dist-info/licenses/LICENSE"
MODEL_NAME = Path(WHEEL_MODEL).name
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"


def _manual(target_dir: Path) -> str:
    return (
        f"to do it by hand: `pip download --no-deps pipecat-ai=={PIPECAT_VERSION} -d DIR`, then unzip "
        f"{WHEEL_MODEL} from the wheel into {target_dir}"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_from_wheel(wheel: Path, target_dir: Path, sha256: str = MODEL_SHA256) -> Path:
    """Copy the model (sha256-checked) and the wheel's LICENSE out of a pipecat-ai wheel."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            if WHEEL_MODEL not in names:
                raise ModelError(
                    f"{wheel.name}: no {WHEEL_MODEL} inside; is it pipecat-ai {PIPECAT_VERSION}?"
                )
            data = zf.read(WHEEL_MODEL)
            licence = zf.read(WHEEL_LICENSE) if WHEEL_LICENSE in names else None
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{wheel}: not a valid wheel ({exc})") from exc
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise ModelError(f"{WHEEL_MODEL} in {wheel.name}: sha256 {got}, expected {sha256}; refusing it")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / MODEL_NAME
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)  # a crash never leaves a half-written model under the real name
    if licence is not None:
        (target_dir / "LICENSE").write_bytes(licence)
    return target


def fetch_smart_turn(cache_dir: Path, timeout_s: float = 600.0) -> Path:
    """The checked model under `<cache_dir>/models/smart-turn-v3/`, downloading it if needed."""
    target_dir = Path(cache_dir) / CACHE_SUBDIR
    target = target_dir / MODEL_NAME
    if target.is_file() and _sha256(target) == MODEL_SHA256:
        return target
    with tempfile.TemporaryDirectory(prefix="smart-turn-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
        cmd += [f"pipecat-ai=={PIPECAT_VERSION}", "-d", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ModelError(f"pip download of pipecat-ai failed ({exc}); {_manual(target_dir)}") from exc
        wheels = sorted(Path(tmp).glob("pipecat_ai-*.whl"))
        if proc.returncode != 0 or not wheels:
            tail = (proc.stderr or proc.stdout).strip()[-500:]
            raise ModelError(
                f"pip download of pipecat-ai=={PIPECAT_VERSION} failed: {tail}; " + _manual(target_dir)
            )
        return extract_from_wheel(wheels[0], target_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voice.audio.turn_fetch", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cache-dir", type=Path, help="default: VOICE_CACHE_DIR / the user cache dir")
    args = parser.parse_args(argv)
    cache_dir = args.cache_dir
    if cache_dir is None:
        from voice.config import get_settings

        cache_dir = get_settings().paths.cache_dir
    try:
        path = fetch_smart_turn(cache_dir)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
