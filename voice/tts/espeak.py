"""espeak-ng through its command line: small, robotic, available for fr/en/sw and many more.

The fallback voice for languages without a neural voice; which espeak voice reads which
language is pack data (`manifest.tts.espeak_voice`).
"""

from __future__ import annotations

import io
import shutil
import subprocess

import soundfile as sf

from voice.audio import Audio
from voice.errors import ModelError
from voice.tts.base import TTSEngine


class EspeakEngine(TTSEngine):
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng", rate: int = 160, default_voice: str = "en"):
        path = shutil.which(binary)
        if path is None:
            raise ModelError(f"{binary} is not installed (Debian/Ubuntu: `apt-get install espeak-ng`)")
        self.binary, self.rate, self.default_voice = path, rate, default_voice

    def synthesize_sentence(self, text: str, voice: str | None = None) -> Audio:
        voice = voice or self.default_voice
        # Text goes through stdin, never the command line: no option injection, no length limit.
        proc = subprocess.run(
            [self.binary, "-v", voice, "-s", str(self.rate), "--stdout"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0 or not proc.stdout:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise ModelError(f"espeak-ng failed for voice {voice!r}: {err or f'exit {proc.returncode}'}")
        samples, rate = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
        return Audio(samples.mean(axis=1), rate)

    def voices(self) -> list[str]:
        out = subprocess.run([self.binary, "--voices"], capture_output=True, text=True, check=False).stdout
        return [line.split()[1] for line in out.splitlines()[1:] if len(line.split()) > 1]
