"""Training data for Whisper: manifest utterances -> log-mel features + labels, and the collator.

Labels follow Whisper's own format; the model prepends `<|startoftranscript|>` when it shifts them:

    no timestamps:  <|lang|> <|transcribe|> <|notimestamps|> text... <|endoftext|>
    timestamps:     <|lang|> <|transcribe|> <|0.00|> text... <|t_end|> <|endoftext|>

A share of utterances (`timestamps_prob`) trains the timestamp form, so the model keeps working in
faster-whisper's default (timestamped) decoding. The language token is part of the loss, which
teaches a new token to be detected as well as decoded with.

Padding: transformers pads the *audio* to 30 s (the padding becomes log-mel of silence, about -1
after Whisper's scaling); faster-whisper's `transcribe` computes features of the audio alone and
pads the *features* with 0. A share of training utterances (`fw_padding_prob`) gets the
faster-whisper form, so the exported model sees at training what it gets in production (measured
on the tiny test model: without it, 3 of 20 utterances decoded differently in faster-whisper).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpora.audio import load_segment
from corpora.manifest import Entry
from voice.asr.augment import AugmentConfig, augment

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
N_FRAMES = 3000
TIME_PRECISION = 0.02
MAX_TIMESTAMP = 1500  # <|30.00|>


@dataclass(frozen=True)
class PromptIds:
    sot: int
    eot: int
    language: int
    transcribe: int
    notimestamps: int
    timestamp_begin: int

    @classmethod
    def from_tokenizer(cls, tokenizer, code: str) -> PromptIds:
        from voice.asr.finetune.tokens import special_ids

        s = special_ids(tokenizer, code)
        return cls(
            s["sot"], s["eot"], s["language"], s["transcribe"], s["notimestamps"], s["timestamp_begin"]
        )


def make_labels(text_ids: list[int], ids: PromptIds, duration: float | None = None) -> list[int]:
    """Whisper labels for one utterance; with `duration`, the timestamped form."""
    if duration is None:
        return [ids.language, ids.transcribe, ids.notimestamps, *text_ids, ids.eot]
    end = min(int(round(duration / TIME_PRECISION)), MAX_TIMESTAMP)
    return [ids.language, ids.transcribe, ids.timestamp_begin, *text_ids, ids.timestamp_begin + end, ids.eot]


def text_of(entry: Entry, target: str) -> str:
    return entry.text_norm if target == "text_norm" else entry.text


class SpeechDataset:
    """A torch-style dataset over manifest entries (map-style: len + getitem)."""

    def __init__(
        self,
        items: list[tuple[Entry, Path]],
        feature_extractor,
        tokenizer,
        ids: PromptIds,
        target: str = "text_norm",
        train: bool = True,
        timestamps_prob: float = 0.0,
        augment_config: AugmentConfig | None = None,
        cache_features: bool = False,
        max_label_tokens: int = 448,
        fw_padding_prob: float = 0.0,
    ):
        self.fe = feature_extractor
        self.ids = ids
        self.train = train
        self.timestamps_prob = timestamps_prob if train else 0.0
        self.fw_padding_prob = fw_padding_prob if train else 0.0
        self._fw_fe = None
        self.augment = augment_config if (train and augment_config and augment_config.active) else None
        self.cache: dict[tuple[int, bool], np.ndarray] | None = (
            {} if cache_features and self.augment is None else None
        )
        self.items: list[tuple[Entry, Path]] = []
        self.text_ids: list[list[int]] = []
        self.too_long = 0
        for entry, root in items:
            tids = tokenizer(" " + text_of(entry, target).strip(), add_special_tokens=False).input_ids
            if len(tids) + 5 > max_label_tokens:
                self.too_long += 1
                continue
            self.items.append((entry, root))
            self.text_ids.append(tids)
        if self.too_long:
            log.warning("%d utterances dropped: label longer than %d tokens", self.too_long, max_label_tokens)

    def __len__(self) -> int:
        return len(self.items)

    def _rng(self, i: int) -> np.random.Generator:
        import torch  # DataLoader seeds torch differently per worker and per epoch

        return np.random.default_rng([int(torch.randint(0, 2**31 - 1, (1,)).item()), i])

    def _fw_features(self, audio: np.ndarray) -> np.ndarray:
        """Log-mel as faster-whisper's transcribe makes it: of the audio alone, then 0-padded."""
        if self._fw_fe is None:
            from faster_whisper.feature_extractor import FeatureExtractor

            self._fw_fe = FeatureExtractor(feature_size=self.fe.feature_size)
        feats = self._fw_fe(audio)[:, :N_FRAMES]
        out = np.zeros((feats.shape[0], N_FRAMES), dtype=np.float32)
        out[:, : feats.shape[1]] = feats
        return out

    def features(
        self, i: int, rng: np.random.Generator | None = None, fw_padding: bool = False
    ) -> np.ndarray:
        key = (i, fw_padding)
        if self.cache is not None and key in self.cache:
            return self.cache[key]
        entry, root = self.items[i]
        audio = load_segment(entry.audio_path(root), entry.offset, entry.duration)
        if self.augment is not None:
            audio = augment(audio, self.augment, rng or self._rng(i))
        if fw_padding:
            feats = self._fw_features(audio)
        else:
            feats = self.fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="np").input_features[0]
        feats = feats.astype(np.float32)
        if self.cache is not None:
            self.cache[key] = feats
        return feats

    def __getitem__(self, i: int) -> dict:
        random = self.augment is not None or self.timestamps_prob > 0 or self.fw_padding_prob > 0
        rng = self._rng(i) if random else None
        entry = self.items[i][0]
        with_ts = rng is not None and self.timestamps_prob > 0 and rng.random() < self.timestamps_prob
        fw_padding = rng is not None and self.fw_padding_prob > 0 and rng.random() < self.fw_padding_prob
        labels = make_labels(self.text_ids[i], self.ids, entry.duration if with_ts else None)
        return {"input_features": self.features(i, rng, fw_padding), "labels": labels}

    def lengths(self) -> list[int]:
        return [len(t) for t in self.text_ids]


@dataclass
class SpeechCollator:
    """Stacks features; pads labels with -100 (ignored by the loss)."""

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        features = torch.from_numpy(np.stack([b["input_features"] for b in batch]))
        longest = max(len(b["labels"]) for b in batch)
        labels = torch.full((len(batch), longest), -100, dtype=torch.long)
        for row, b in enumerate(batch):
            labels[row, : len(b["labels"])] = torch.tensor(b["labels"], dtype=torch.long)
        return {"input_features": features, "labels": labels}


def select(
    items: list[tuple[Entry, Path]], split: str | None, language: str | None = None
) -> list[tuple[Entry, Path]]:
    return [
        (e, r)
        for e, r in items
        if (split is None or e.split == split) and (language is None or e.language == language)
    ]
