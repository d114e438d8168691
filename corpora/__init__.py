"""Corpus recipes: turn speech datasets into one manifest format, with data cards.

Formats: Kaldi data dirs (ALFFA), NIST STM + audio (Kallaama), Hugging Face datasets (FLEURS,
galsenai/wolof_tts, WAXAL; from the hub or a local/saved copy) and plain folders (audio + .txt).
`corpora.ingest.ingest` reads one source, cleans and normalises the text with the language
pack, filters, removes duplicates, makes speaker-disjoint splits and writes a JSONL manifest
(`corpora.manifest`); `corpora.card` writes its data card. CLI: `voice corpus ingest|stats|card`.
Example fine-tuning configs are in `corpora/configs/` (see docs/asr-finetune.md).
"""

from corpora.manifest import Entry, iter_manifest, read_manifest, write_manifest

__all__ = ["Entry", "iter_manifest", "read_manifest", "write_manifest"]
