"""Decoding every format callers send, telephony mu-law, Ogg/Opus, and clear errors on bad input."""

from __future__ import annotations

import io
import warnings

import av
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import tone
from voice.audio import Audio, encode_audio, frame_bytes, load_audio, mulaw_decode, mulaw_encode, resample
from voice.audio.frames import FRAME_BYTES
from voice.errors import AudioError


def _best_lag_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 4000) -> float:
    """Codecs add delay (Opus pre-skip, MP3/AAC priming): compare at the best alignment."""
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    size = 1 << (2 * n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    lags = np.concatenate([xc[: max_lag + 1], xc[-max_lag:]])
    return float(np.max(lags) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _encode_with_av(audio: Audio, container: str, codec: str, rate: int, layout: str = "mono") -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        samples = audio.to_rate(rate).samples
        data = samples.reshape(1, -1) if layout == "mono" else np.stack([samples, samples * 0.5])
        fmt = "flt" if layout == "mono" else "fltp"
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def speech(speak) -> Audio:
    return speak("Hello, I would like to check my balance please.")


@pytest.mark.parametrize(
    ("container", "codec", "rate"),
    [
        ("ogg", "libopus", 48000),
        ("mp3", "libmp3lame", 44100),
        ("ipod", "aac", 44100),
        ("amr", "libopencore_amrnb", 8000),
    ],
    ids=["ogg-opus", "mp3", "m4a-aac", "amr-nb"],
)
def test_decodes_compressed_formats_to_16k_mono(speech, container, codec, rate):
    data = _encode_with_av(speech, container, codec, rate)
    decoded = load_audio(data, 16000, name=f"note.{container}")
    assert decoded.sample_rate == 16000
    assert decoded.samples.ndim == 1
    assert abs(decoded.duration - speech.duration) < 0.15
    reference = (
        speech.to_rate(8000).to_rate(16000).samples if codec.startswith("libopencore") else speech.samples
    )
    assert _best_lag_correlation(reference, decoded.samples) > (0.6 if "amr" in codec else 0.9)


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_wav_and_flac_stereo_are_mixed_down(tmp_path, subtype):
    left = tone(440, 1.0, 44100).samples
    right = tone(440, 1.0, 44100, amplitude=0.25).samples
    for fmt, ext in (("WAV", "wav"), ("FLAC", "flac")):
        path = tmp_path / f"stereo.{ext}"
        sf.write(
            path,
            np.stack([left, right], axis=1),
            44100,
            format=fmt,
            subtype="PCM_16" if fmt == "FLAC" else subtype,
        )
        audio = load_audio(path, 16000)
        assert audio.sample_rate == 16000
        assert abs(audio.duration - 1.0) < 0.01
        # The mono mix of a 0.5 and a 0.25 amplitude sine in phase has amplitude 0.375.
        assert 0.36 < np.max(np.abs(audio.samples)) < 0.39


def test_soxr_resampling_keeps_a_tone():
    x = tone(1000, 1.0, 48000)
    y = resample(x.samples, 48000, 8000)
    assert len(y) == 8000
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) - 1000) <= 1  # 1 Hz bins over one second


def test_mulaw_matches_the_reference_g711_coder():
    pcm = np.arange(-32768, 32768, dtype=np.int16)
    ours = mulaw_encode(pcm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop", reason="audioop (the reference) is gone from Python >= 3.13")
    assert ours == audioop.lin2ulaw(pcm.tobytes(), 2)
    codes = bytes(range(256))
    assert np.array_equal(
        (mulaw_decode(codes) * 32768).astype(np.int16), np.frombuffer(audioop.ulaw2lin(codes, 2), np.int16)
    )


def test_mulaw_round_trip_keeps_speech(speech):
    narrow = speech.to_rate(8000).samples
    back = mulaw_decode(mulaw_encode(narrow))
    noise = back - narrow
    snr = 10 * np.log10(np.sum(narrow**2) / np.sum(noise**2))
    assert snr > 25  # 8-bit companding: ~35 dB on speech


def test_twenty_ms_frames_for_twilio(speech):
    data = encode_audio(speech, "mulaw")
    frames = list(frame_bytes(data))
    assert all(len(f) == FRAME_BYTES == 160 for f in frames)
    assert len(frames) == -(-len(data) // 160)
    assert frames[-1].endswith(b"\xff") or len(data) % 160 == 0  # padded with mu-law silence


def test_ogg_opus_voice_note_round_trip(speech):
    data = encode_audio(speech, "ogg")
    assert data[:4] == b"OggS" and b"OpusHead" in data[:200]
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.audio[0]
        assert s.codec_context.name == "opus" and s.codec_context.channels == 1
    back = load_audio(data, 16000)
    assert abs(back.duration - speech.duration) < 0.1
    assert _best_lag_correlation(speech.samples, back.samples) > 0.9


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"this is not audio at all" * 10), "cannot be opened as audio"),
        (lambda p: p.write_text("[tool.ruff]\nline-length = 110\n"), "no audio stream"),
    ],
    ids=["empty", "garbage", "text-file"],
)
def test_bad_files_raise_one_typed_error(tmp_path, make, reason):
    path = tmp_path / "bad.ogg"
    make(path)
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert str(path) in str(err.value) and reason in str(err.value)


def test_truncated_wav_and_ogg(tmp_path, speech):
    wav = encode_audio(speech, "wav")
    ogg = encode_audio(speech, "ogg")
    for name, data in (("cut.wav", wav[: len(wav) // 3]), ("cut.ogg", ogg[: len(ogg) // 3])):
        with pytest.raises(AudioError) as err:
            load_audio(data, name=name)
        assert name in str(err.value)
        assert "truncated" in str(err.value) or "corrupt" in str(err.value)


def test_video_without_audio_and_missing_file(tmp_path):
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(AudioError, match="no audio stream"):
        load_audio(buf.getvalue(), name="clip.mp4")
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_line_buffer_keeps_the_last_seconds_addressable_by_stream_time():
    from voice.audio.resample import LineBuffer

    line = LineBuffer(10, seconds=2)  # a 20-sample ring
    stream = np.arange(57, dtype=np.float32)
    for i in range(0, len(stream), 4):  # frames that wrap around the ring unevenly
        line.append(stream[i : i + 4])
    assert line.slice(4.0, 5.7).tolist() == stream[40:57].tolist()
    assert line.slice(0.0, 2.0).size == 0, "older than the buffer: gone, not wrong samples"
    assert line.slice(3.0, 9.0).tolist() == stream[37:57].tolist()
