"""Audio augmentation for ASR training and evaluation: a telephone channel, noise, gain.

`telephone()` turns wideband 16 kHz speech into what a Twilio call delivers: resampled to 8 kHz,
band-limited to the 300-3400 Hz telephone band, G.711 mu-law coded, optionally with line noise,
then brought back to 16 kHz for Whisper. Training on a share of such audio is what makes a model
work on phone calls; evaluating on it measures the loss (`voice asr eval`).

SpecAugment itself runs inside the model (transformers' Whisper masks the log-mel features when
`config.apply_spec_augment` is on, in training mode only); see `voice.asr.finetune`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voice.audio.mulaw import mulaw_decode, mulaw_encode
from voice.audio.resample import resample

SAMPLE_RATE = 16000
PHONE_RATE = 8000
BAND = (300.0, 3400.0)


@lru_cache(maxsize=8)
def _band_filter(rate: int, low: float, high: float, order: int):
    from scipy.signal import butter

    return butter(order, [low, high], btype="bandpass", fs=rate, output="sos")


def band_limit(
    samples: np.ndarray, rate: int, band: tuple[float, float] = BAND, order: int = 6
) -> np.ndarray:
    """Butterworth band-pass (zero-phase, so speech onsets do not move)."""
    from scipy.signal import sosfiltfilt

    if len(samples) < 64:
        return samples.astype(np.float32)
    sos = _band_filter(rate, float(band[0]), float(band[1]), order)
    return sosfiltfilt(sos, samples.astype(np.float64)).astype(np.float32)


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator, kind: str = "pink") -> np.ndarray:
    """Noise at a signal-to-noise ratio (dB) measured against the signal's mean power."""
    power = float(np.mean(samples.astype(np.float64) ** 2))
    if power <= 0.0:
        return samples
    noise = rng.standard_normal(len(samples))
    if kind == "pink":  # 1/f spectrum: closer to line hum and babble than white noise
        spectrum = np.fft.rfft(noise)
        f = np.arange(len(spectrum), dtype=np.float64)
        f[0] = 1.0
        noise = np.fft.irfft(spectrum / np.sqrt(f), n=len(samples))
    noise *= np.sqrt(power / 10 ** (snr_db / 10) / max(float(np.mean(noise**2)), 1e-12))
    return (samples + noise).astype(np.float32)


def telephone(
    samples: np.ndarray,
    rate: int = SAMPLE_RATE,
    rng: np.random.Generator | None = None,
    snr_db: float | None = None,
    mulaw: bool = True,
    band: tuple[float, float] = BAND,
) -> np.ndarray:
    """Speech as it comes out of a G.711 phone call: 8 kHz, 300-3400 Hz, mu-law; back at `rate`.

    `snr_db` adds pink line noise before coding (None: no noise). Deterministic for a given `rng`.
    """
    x = resample(np.asarray(samples, dtype=np.float32), rate, PHONE_RATE)
    x = band_limit(x, PHONE_RATE, band)
    if snr_db is not None:
        x = add_noise(x, snr_db, rng or np.random.default_rng(0))
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak > 1.0:
        x = x / peak
    if mulaw:
        x = mulaw_decode(mulaw_encode(x))
    return resample(x, PHONE_RATE, rate)


@dataclass(frozen=True)
class AugmentConfig:
    """Per-utterance augmentation during training (each applied with its probability)."""

    telephone_prob: float = 0.0
    telephone_snr_db: tuple[float, float] = (
        10.0,
        35.0,
    )  # noise drawn in this range; None-like when low > high
    noise_prob: float = 0.0
    noise_snr_db: tuple[float, float] = (5.0, 30.0)
    gain_db: tuple[float, float] = (0.0, 0.0)

    @property
    def active(self) -> bool:
        return self.telephone_prob > 0 or self.noise_prob > 0 or self.gain_db != (0.0, 0.0)


def augment(
    samples: np.ndarray, config: AugmentConfig, rng: np.random.Generator, rate: int = SAMPLE_RATE
) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if config.noise_prob > 0 and rng.random() < config.noise_prob:
        x = add_noise(x, float(rng.uniform(*config.noise_snr_db)), rng)
    if config.telephone_prob > 0 and rng.random() < config.telephone_prob:
        x = telephone(x, rate, rng, float(rng.uniform(*config.telephone_snr_db)))
    if config.gain_db != (0.0, 0.0):
        x = x * np.float32(10 ** (rng.uniform(*config.gain_db) / 20))
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return (x / peak if peak > 1.0 else x).astype(np.float32)


def band_energy(samples: np.ndarray, rate: int, freq: float, width: float = 20.0) -> float:
    """Energy of `samples` within +-width Hz of `freq` (for checking what a channel keeps)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
    return float(spectrum[(freqs >= freq - width) & (freqs <= freq + width)].sum())
