"""End of turn on a live call: has the caller finished, or only paused mid-sentence?

Silero VAD hears silence but not meaning: "What is the balance of ... my account?" has a pause
as long as the one after the question. Waiting 600 ms of silence every time makes the bot slow;
answering at every 200 ms pause makes it rude. Smart Turn v3 (pipecat-ai/smart-turn,
BSD-2-Clause, see SMART_TURN_NOTICE.md) is a Whisper-tiny encoder with a classifier that judges
the turn from the sound alone (intonation, pace, trailing words) in tens of milliseconds on one
CPU thread, so the call can answer soon after a complete turn and keep waiting after a hesitation.

`TurnModel` is the interface the call session depends on; `SmartTurn` is the ONNX model behind
it. The features are computed here in numpy (no transformers/torch, which are optional extras)
and match the reference inference: the last 8 s of 16 kHz audio, zero-padded at the start,
normalised to zero mean and unit variance, then Whisper's 80-bin log-mel spectrogram.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from voice.errors import ModelError, ModelNotFoundError

SAMPLE_RATE = 16000
WINDOW_S = 8  # the model sees at most the last 8 s of the turn
WINDOW_SAMPLES = WINDOW_S * SAMPLE_RATE
N_FFT = 400  # 25 ms windows
HOP = 160  # 10 ms hop -> 800 frames over 8 s
N_MELS = 80
MODEL_GLOB = "smart-turn-v3*.onnx"
CACHE_SUBDIR = Path("models") / "smart-turn-v3"  # under the cache dir; turn_fetch writes here
HOW_TO_GET = (
    "get it with `python -m voice.audio.turn_fetch` (what `./dev setup` runs: it downloads the "
    "pipecat-ai wheel from PyPI and keeps only the .onnx), `pip install pipecat-ai`, or point "
    "VOICE_CALL_SMART_TURN_MODEL at a smart-turn-v3*.onnx file"
)


@runtime_checkable
class TurnModel(Protocol):
    """Anything that can say whether the caller's turn is over (the call session needs only this)."""

    def probability(self, samples_16k: np.ndarray) -> float:
        """Probability in [0, 1] that the turn in this 16 kHz mono audio (ending now) is complete."""
        ...


# --- features ---------------------------------------------------------------------------------


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above (what Whisper was trained with)."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3.0)
    log = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) * (27.0 / np.log(6.4))
    return np.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3.0)
    log = 1000.0 * np.exp((mel - 15.0) * (np.log(6.4) / 27.0))
    return np.where(mel >= 15.0, log, linear)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """(80, 201) triangular filters from 0 Hz to 8 kHz, each scaled to unit area (Slaney norm)."""
    bins = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    edges = _mel_to_hz(np.linspace(0.0, float(_hz_to_mel(SAMPLE_RATE / 2)), N_MELS + 2))
    low, mid, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (bins[None, :] - low) / (mid - low)
    fall = (high - bins[None, :]) / (high - mid)
    return np.clip(np.minimum(rise, fall), 0.0, None) * (2.0 / (high - low))


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    """Periodic Hann window (the STFT convention, not numpy's symmetric one)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)


def fit_window(samples_16k: np.ndarray) -> np.ndarray:
    """Exactly 8 s ending with the newest sample: older audio dropped, silence added before.

    The end of the turn is what matters, so it always sits at the same place in the window.
    """
    x = np.asarray(samples_16k, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {x.shape}")
    x = x[-WINDOW_SAMPLES:]
    return np.pad(x, (WINDOW_SAMPLES - len(x), 0))


def smart_turn_features(samples_16k: np.ndarray) -> np.ndarray:
    """The (80, 800) float32 log-mel input of Smart Turn v3 for the end of this audio.

    Same steps as the reference (WhisperFeatureExtractor(chunk_length=8), do_normalize=True):
    the normalisation uses the whole padded window, the last STFT frame is dropped, and the
    log spectrum is floored 8 decades below its maximum then scaled by (x + 4) / 4.
    """
    x = fit_window(samples_16k)
    x = (x - x.mean()) / np.sqrt(x.var() + np.float32(1e-7))  # float32, like the reference
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP][:-1]  # 801 centred frames, last dropped
    power = np.abs(np.fft.rfft(frames * _hann(), axis=-1)) ** 2
    log_mel = np.log10(np.maximum(power @ _mel_filters().T, 1e-10)).T
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)
    return ((log_mel + 4.0) / 4.0).astype(np.float32)


# --- the model --------------------------------------------------------------------------------

_sessions_lock = threading.Lock()
_sessions: dict[tuple[str, int], object] = {}


def _session(path: Path, threads: int):
    """One onnxruntime session per model file, shared by every call (run() is thread-safe)."""
    key = (str(path), threads)
    with _sessions_lock:
        if key in _sessions:
            return _sessions[key]
        if not path.is_file():
            raise ModelNotFoundError(f"Smart Turn model not found: {path}; {HOW_TO_GET}")
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 4
        try:
            session = onnxruntime.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(
                f"{path}: not a loadable ONNX model ({exc.__class__.__name__}: {str(exc)[:200]}); "
                f"delete it and {HOW_TO_GET}"
            ) from exc
        inputs = session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape[1:]) != [N_MELS, WINDOW_S * SAMPLE_RATE // HOP]:
            shapes = [(i.name, i.shape) for i in inputs]
            raise ModelError(f"{path}: not a Smart Turn v3 model (inputs {shapes}); {HOW_TO_GET}")
        _sessions[key] = session
        return session


class SmartTurn:
    """Smart Turn v3 through onnxruntime: `probability(audio)` of the turn being complete.

    Cheap to construct: instances with the same file and thread count share one session.
    """

    def __init__(self, path: str | Path, threads: int = 1):
        self.path = Path(path).expanduser().resolve()
        self.threads = threads
        self._session = _session(self.path, threads)
        self._input = self._session.get_inputs()[0].name

    def probability(self, samples_16k: np.ndarray) -> float:
        """Probability that the turn is complete, from the last <= 8 s of mono 16 kHz audio.

        Give the whole current turn (with the silence heard since the caller stopped), not only
        the newest fragment: the model needs the context. Audio from earlier turns is not needed.
        """
        features = smart_turn_features(samples_16k)[None]
        (out, *_) = self._session.run(None, {self._input: features})
        return float(np.asarray(out).reshape(-1)[0])

    def __repr__(self) -> str:
        return f"SmartTurn({str(self.path)!r}, threads={self.threads})"


# --- finding the file -------------------------------------------------------------------------


def _version_key(path: Path) -> tuple:
    """Prefer the int8 CPU build, then the newest v3.x ("smart-turn-v3.2-cpu.onnx")."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", path.stem))
    return ("cpu" in path.stem, numbers)


def _pick(folder: Path | None) -> Path | None:
    if folder is None or not folder.is_dir():
        return None
    found = sorted(folder.glob(MODEL_GLOB), key=_version_key)
    return found[-1] if found else None


def pipecat_data_dir() -> Path | None:
    """Where an installed `pipecat-ai` keeps its bundled models (without importing pipecat)."""
    try:
        spec = find_spec("pipecat")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "audio" / "turn" / "smart_turn" / "data"


def find_smart_turn_model(configured: str | Path | None, cache_dir: Path) -> Path | None:
    """The Smart Turn v3 .onnx to use, or None when there is none on this machine.

    Looks in order at: the configured path (a file, or a folder holding smart-turn-v3*.onnx; a
    configured path that does not exist is an error, not a silent fallback), an installed
    pipecat-ai package, then `<cache_dir>/models/smart-turn-v3/` (where turn_fetch puts it).
    """
    if configured:
        path = Path(configured).expanduser()
        if path.is_file():
            return path
        found = _pick(path)
        if found is None:
            raise ModelNotFoundError(
                f"configured Smart Turn model {str(configured)!r}: no such file (or folder with "
                f"{MODEL_GLOB}); {HOW_TO_GET}"
            )
        return found
    return _pick(pipecat_data_dir()) or _pick(Path(cache_dir) / CACHE_SUBDIR)


def load_smart_turn(configured: str | Path | None, cache_dir: Path, threads: int = 1) -> SmartTurn:
    """`find_smart_turn_model` + `SmartTurn`, with an error that says how to get the model."""
    path = find_smart_turn_model(configured, cache_dir)
    if path is None:
        where = Path(cache_dir) / CACHE_SUBDIR
        raise ModelNotFoundError(f"no Smart Turn v3 model (looked in pipecat-ai and {where}); {HOW_TO_GET}")
    return SmartTurn(path, threads=threads)
