"""Whisper language tokens for languages Whisper lacks, and what the tokenizer charges for letters.

Strategies (the pack manifest's `asr.token_strategy`):

- `native`: the language has its own Whisper token (`fr`, `en`); nothing changes.
- `reuse`: decode with an existing token (Wolof as `<|fr|>`); nothing changes in the vocabulary,
  the fine-tune teaches that token a second meaning.
- `new`: a new token (`<|wo|>`) is inserted *inside* the language block, right after the last
  language token and before `<|translate|>`, and its embedding starts as a copy of the source
  language's. Every id from `<|translate|>` on moves up by one (as Whisper large-v3 did for
  `<|yue|>`): transformers (`timestamp_begin = no_timestamps + 1`), CTranslate2 and faster-whisper
  all treat every id after `<|notimestamps|>` as a timestamp, so a token appended at the end of
  the vocabulary would be read as the timestamp 30.02 s. The embedding rows move with their ids,
  so the pretrained model is unchanged apart from the added row.

`token_cost` measures tokens per character of real text, and how many of them the letters
Whisper's byte-level BPE has no merges for (ñ ŋ ë ɓ ɗ ƴ ...) cost (see docs/asr-finetune.md).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from voice.errors import BadInputError, ModelError

LANG_TOKEN = re.compile(r"^<\|([a-z]{2,3}(?:_[a-z]+)?)\|>$")
N_TIMESTAMPS = 1501
STRATEGIES = ("native", "reuse", "new")


def lang_token(code: str) -> str:
    return f"<|{code}|>"


@dataclass(frozen=True)
class LanguageTokenPlan:
    """What the fine-tune decodes with: `code` is the Whisper code of the token (`wo`, `fr`)."""

    language: str  # the pack code the model serves (wol, fuc, fra, ...)
    strategy: str  # native | reuse | new
    code: str  # the Whisper token's code: <|code|>
    source: str | None = None  # reuse/new: the language whose embedding/token it starts from

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise BadInputError(f"token strategy {self.strategy!r}: choose one of {', '.join(STRATEGIES)}")
        if self.strategy == "new" and not self.source:
            raise BadInputError(
                "token strategy 'new' needs a source language to initialise the embedding from"
            )
        if self.strategy == "reuse" and self.source and self.source != self.code:
            raise BadInputError(
                f"token strategy 'reuse': the token is the source's ({self.source}), not {self.code}"
            )

    @property
    def token(self) -> str:
        return lang_token(self.code)

    def as_json(self) -> dict:
        return {
            "language": self.language,
            "whisper_language": self.code,
            "token_strategy": self.strategy,
            "token_source": self.source,
        }


def plan_from_pack(
    language: str, strategy: str | None = None, code: str | None = None, source: str | None = None
) -> LanguageTokenPlan:
    """The plan the pack declares, with any field overridden by the training config."""
    from voice.packs import find_pack

    pack = find_pack(language)
    asr = pack.manifest.asr if pack is not None else None
    strategy = strategy or (asr.token_strategy if asr else "native")
    source = source or (asr.token_source if asr else None)
    if code is None:
        if strategy == "new":
            raise BadInputError(
                f"token strategy 'new' for {language}: say which code the new token has (e.g. token: wo)"
            )
        code = asr.whisper_language if asr else language
    if strategy == "reuse":
        source = code
    return LanguageTokenPlan(pack.code if pack else language, strategy, code, source)


# --- vocabulary surgery -------------------------------------------------------------------------


@dataclass
class TokenInsertion:
    """The result of inserting a token: its id and the old -> new id map for special tokens."""

    token: str
    token_id: int
    source_id: int
    shift_from: int  # ids >= this (old numbering) moved up by one
    timestamps_added: int = 0
    vocab_size: int = 0
    notes: list[str] = field(default_factory=list)

    def new_id(self, old: int) -> int:
        return old + 1 if old >= self.shift_from else old


def _special(content: str, special: bool = True) -> dict:
    return {
        "id": -1,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": False,
        "special": special,
    }


def _complete_timestamps(data: dict, model_vocab_size: int) -> int:
    """Add <|0.00|>..<|30.00|> when the tokenizer lacks them (CTranslate2's tokenizer.json does)."""
    added = data["added_tokens"]
    if any(t["content"] == "<|0.00|>" for t in added):
        return 0
    by_content = {t["content"]: t["id"] for t in added}
    if "<|notimestamps|>" not in by_content:
        raise ModelError("not a Whisper tokenizer: no <|notimestamps|> token")
    begin = by_content["<|notimestamps|>"] + 1
    if begin + N_TIMESTAMPS != model_vocab_size:
        raise ModelError(
            f"tokenizer and model disagree: timestamps would end at {begin + N_TIMESTAMPS}, "
            f"the model has {model_vocab_size} embeddings"
        )
    for i in range(N_TIMESTAMPS):
        entry = _special(f"<|{i * 0.02:.2f}|>", special=False)
        entry["id"] = begin + i
        added.append(entry)
    return N_TIMESTAMPS


def insert_language_token(
    tokenizer_json: dict, code: str, source: str, model_vocab_size: int
) -> tuple[dict, TokenInsertion]:
    """A copy of a Whisper tokenizer.json with `<|code|>` inserted after the last language token."""
    data = copy.deepcopy(tokenizer_json)
    added_ts = _complete_timestamps(data, model_vocab_size)
    by_content = {t["content"]: t["id"] for t in data["added_tokens"]}
    token, source_token = lang_token(code), lang_token(source)
    if token in by_content:
        raise BadInputError(f"{token} is already in the vocabulary: use token strategy 'native' or 'reuse'")
    if source_token not in by_content:
        raise BadInputError(f"source language token {source_token} is not in this Whisper vocabulary")
    if "<|translate|>" not in by_content:
        raise ModelError("not a multilingual Whisper tokenizer: no <|translate|> token")
    insert_at = by_content["<|translate|>"]
    langs = [i for c, i in by_content.items() if LANG_TOKEN.match(c) and i < insert_at]
    if not langs or max(langs) != insert_at - 1:
        raise ModelError(
            "unexpected Whisper vocabulary: the language tokens do not end right before <|translate|>"
        )

    for entry in data["added_tokens"]:
        if entry["id"] >= insert_at:
            entry["id"] += 1
    vocab = data["model"]["vocab"]
    for key, value in vocab.items():
        if value >= insert_at:
            vocab[key] = value + 1
    new = _special(token)
    new["id"] = insert_at
    data["added_tokens"].append(new)
    data["added_tokens"].sort(key=lambda t: t["id"])
    post = data.get("post_processor") or {}
    for spec in (post.get("special_tokens") or {}).values():
        spec["ids"] = [i + 1 if i >= insert_at else i for i in spec["ids"]]
    info = TokenInsertion(
        token=token,
        token_id=insert_at,
        source_id=by_content[source_token],
        shift_from=insert_at,
        timestamps_added=added_ts,
        vocab_size=model_vocab_size + 1,
    )
    return data, info


def remap_generation_config(gen, info: TokenInsertion, code: str):
    """The generation config with ids moved and the new language in lang_to_id."""
    gen = copy.deepcopy(gen)
    m = info.new_id
    for name in (
        "decoder_start_token_id",
        "bos_token_id",
        "eos_token_id",
        "pad_token_id",
        "no_timestamps_token_id",
        "prev_sot_token_id",
    ):
        value = getattr(gen, name, None)
        if isinstance(value, int):
            setattr(gen, name, m(value))
        elif isinstance(value, list):
            setattr(gen, name, [m(v) for v in value])
    if getattr(gen, "lang_to_id", None):
        gen.lang_to_id = {k: m(v) for k, v in gen.lang_to_id.items()}
    gen.lang_to_id = {**(gen.lang_to_id or {}), lang_token(code): info.token_id}
    if getattr(gen, "task_to_id", None):
        gen.task_to_id = {k: m(v) for k, v in gen.task_to_id.items()}
    for name in ("suppress_tokens", "begin_suppress_tokens"):
        value = getattr(gen, name, None)
        if value:
            setattr(gen, name, [m(v) for v in value])
    gen.forced_decoder_ids = None
    return gen


def apply_new_token(model, tokenizer, code: str, source: str):
    """Insert `<|code|>` into a loaded Whisper model + fast tokenizer; returns (tokenizer, info).

    The embedding (tied to the output projection) gets one row at the token's id, copied from the
    source language's row; all rows after it move up by one with their ids.
    """
    import torch
    from tokenizers import Tokenizer
    from transformers import WhisperTokenizerFast

    data = json.loads(tokenizer.backend_tokenizer.to_str())
    old_size = model.get_input_embeddings().weight.shape[0]
    data, info = insert_language_token(data, code, source, old_size)
    new_tok = WhisperTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(data)),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[
            t["content"] for t in data["added_tokens"] if t["special"] and t["content"] != "<|endoftext|>"
        ],
        add_prefix_space=False,
    )
    with torch.no_grad():
        old = model.get_input_embeddings().weight.detach().clone()
        model.resize_token_embeddings(old_size + 1, mean_resizing=False)
        weight = model.get_input_embeddings().weight
        at = info.token_id
        weight[:at] = old[:at]
        weight[at] = old[info.source_id]
        weight[at + 1 :] = old[at:]
    model.config.vocab_size = old_size + 1
    for name in ("suppress_tokens", "begin_suppress_tokens"):
        value = getattr(model.config, name, None)
        if value:
            setattr(model.config, name, [info.new_id(v) for v in value])
    if hasattr(model.config, "forced_decoder_ids"):
        model.config.forced_decoder_ids = None
    model.config.decoder_start_token_id = info.new_id(model.config.decoder_start_token_id)
    model.generation_config = remap_generation_config(model.generation_config, info, code)
    if len(new_tok) != old_size + 1:
        raise ModelError(f"tokenizer has {len(new_tok)} tokens after insertion, model {old_size + 1}")
    return new_tok, info


def special_ids(tokenizer, code: str) -> dict[str, int]:
    """Ids of the prompt tokens for a language, checked to exist."""
    ids = {}
    for name, tok in (
        ("sot", "<|startoftranscript|>"),
        ("eot", "<|endoftext|>"),
        ("transcribe", "<|transcribe|>"),
        ("notimestamps", "<|notimestamps|>"),
        ("language", lang_token(code)),
    ):
        i = tokenizer.convert_tokens_to_ids(tok)
        if i is None or (i == tokenizer.unk_token_id and tok != "<|endoftext|>"):
            raise ModelError(f"{tok} is not in the tokenizer")
        ids[name] = i
    ids["timestamp_begin"] = ids["notimestamps"] + 1
    return ids


# --- token cost -----------------------------------------------------------------------------------

# Letters the Whisper BPE splits into raw bytes, and the ASCII letter each one replaces when folded.
SPECIAL_LETTERS = {"ñ": "n", "ŋ": "n", "ë": "e", "ɓ": "b", "ɗ": "d", "ƴ": "y"}


@dataclass
class TokenCost:
    name: str
    lines: int
    chars: int
    words: int
    tokens: int
    folded_tokens: int  # with SPECIAL_LETTERS replaced by their ASCII letter
    letters: dict[str, dict[str, float]]  # per letter: count, tokens alone, extra tokens in context

    @property
    def tokens_per_char(self) -> float:
        return self.tokens / max(self.chars, 1)

    @property
    def tokens_per_word(self) -> float:
        return self.tokens / max(self.words, 1)

    @property
    def special_letter_overhead(self) -> float:
        """Share of extra tokens the special letters cause (0.10 = 10 % more tokens)."""
        return self.tokens / max(self.folded_tokens, 1) - 1.0

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "lines": self.lines,
            "chars": self.chars,
            "words": self.words,
            "tokens": self.tokens,
            "tokens_per_char": round(self.tokens_per_char, 4),
            "tokens_per_word": round(self.tokens_per_word, 4),
            "special_letter_overhead": round(self.special_letter_overhead, 4),
            "letters": self.letters,
        }


def token_cost(texts: Iterable[str], tokenizer, name: str = "") -> TokenCost:
    """Tokens per character/word of `texts` under a `tokenizers.Tokenizer` (Whisper's)."""

    def count(t: str) -> int:
        return len(tokenizer.encode(" " + t, add_special_tokens=False).ids)

    lines = chars = words = tokens = folded = 0
    per_letter = {c: {"count": 0, "extra_tokens": 0} for c in SPECIAL_LETTERS}
    table = str.maketrans(SPECIAL_LETTERS)
    for text in texts:
        text = text.strip()
        if not text:
            continue
        lines += 1
        chars += len(text)
        words += len(text.split())
        n = count(text)
        tokens += n
        folded += count(text.translate(table))
        for letter, ascii_letter in SPECIAL_LETTERS.items():
            k = text.count(letter)
            if k:
                per_letter[letter]["count"] += k
                per_letter[letter]["extra_tokens"] += n - count(text.replace(letter, ascii_letter))
    letters = {}
    for letter, d in per_letter.items():
        alone = len(tokenizer.encode(letter, add_special_tokens=False).ids)
        letters[letter] = {
            "count": d["count"],
            "tokens_alone": alone,
            "extra_per_occurrence": round(d["extra_tokens"] / d["count"], 3) if d["count"] else 0.0,
        }
    return TokenCost(name, lines, chars, words, tokens, folded, letters)


def load_tokenizer_json(path: str | Path):
    from tokenizers import Tokenizer

    path = Path(path)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.exists():
        raise ModelError(f"{path} not found: give a Whisper model dir with tokenizer.json")
    return Tokenizer.from_file(str(path))
