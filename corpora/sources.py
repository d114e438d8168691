"""Known speech sources: licence and attribution, so manifests and data cards carry them.

`--source NAME` on `voice corpus ingest` picks the licence from here unless `--licence` is given.
Licences are what each source's own page states; check them again before publishing a model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceInfo:
    name: str
    licence: str
    attribution: str
    url: str
    note: str = ""


SOURCES: dict[str, SourceInfo] = {
    s.name: s
    for s in (
        SourceInfo(
            "kallaama",
            "CC-BY-4.0",
            "Kallaama (Gauthier, Ndiaye, Guissé, RAIL 2024; Jokalante, Orange Innovation, "
            "École Polytechnique de Thiès)",
            "https://arxiv.org/abs/2404.01991",
            "raw (not expert-checked) transcripts; spontaneous radio/phone speech about agriculture",
        ),
        SourceInfo(
            "fleurs",
            "CC-BY-4.0",
            "FLEURS (Conneau et al., 2022, Google)",
            "https://huggingface.co/datasets/google/fleurs",
            "read Wikipedia sentences; configs wo_sn (Wolof) and ff_sn (Fula)",
        ),
        SourceInfo(
            "alffa",
            "unspecified",
            "ALFFA Wolof (Gauthier, Besacier, Voisin, Melese, Elingui, LREC 2016)",
            "https://github.com/getalp/ALFFA_PUBLIC/tree/master/ASR/WOLOF",
            "read speech, Kaldi data dirs train/dev/test; the repository states no licence: "
            "ask the authors before redistributing a model trained on it",
        ),
        SourceInfo(
            "wolof_tts",
            "CC-BY-4.0",
            "galsenai/wolof_tts (GalsenAI)",
            "https://huggingface.co/datasets/galsenai/wolof_tts",
            "studio TTS recordings of few speakers: training only, never a speaker-disjoint test set",
        ),
        SourceInfo(
            "waxal",
            "CC-BY-4.0",
            "WAXAL (Google Research and African partner institutions, 2026)",
            "https://research.google/blog/waxal-a-large-scale-open-resource-for-african-language-speech-technology",
            "image-prompted natural speech; check the Fula/Pulaar config and licence on the hub",
        ),
    )
}


def source_info(name: str) -> SourceInfo | None:
    key = name.lower().replace("-", "_")
    if key in SOURCES:
        return SOURCES[key]
    for s in SOURCES.values():
        if key.startswith(s.name) or s.name in key:
            return s
    return None
