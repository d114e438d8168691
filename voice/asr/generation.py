"""Whisper's generation settings for transformers, derived from a multilingual vocabulary.

A transformers Whisper dir needs a `GenerationConfig` (start, language and task tokens, the
tokens real Whisper suppresses) that a CTranslate2 model or a tokenizer alone does not carry;
this builds it from the tokenizer, the same way for every multilingual Whisper.
"""

from __future__ import annotations

# Used when the source model does not name its cross-attention heads for word timestamps.
ALIGNMENT_HEADS = [[1, 0]]
_CONTROL_TOKENS = (
    "<|startoftranscript|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|nocaptions|>",
)


def generation_config(tokenizer):
    """The generation settings transformers needs for multilingual Whisper, from the vocabulary."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES, Tokenizer
    from transformers import GenerationConfig

    vocab = tokenizer.get_vocab()
    lang_to_id = {f"<|{c}|>": vocab[f"<|{c}|>"] for c in _LANGUAGE_CODES if f"<|{c}|>" in vocab}
    fw = Tokenizer(tokenizer.backend_tokenizer, multilingual=True, task="transcribe", language="en")
    eot = vocab["<|endoftext|>"]
    return GenerationConfig(
        decoder_start_token_id=vocab["<|startoftranscript|>"],
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        lang_to_id=lang_to_id,
        task_to_id={"transcribe": vocab["<|transcribe|>"], "translate": vocab["<|translate|>"]},
        no_timestamps_token_id=vocab["<|notimestamps|>"],
        prev_sot_token_id=vocab["<|startofprev|>"],
        is_multilingual=True,
        max_initial_timestamp_index=50,
        max_length=448,
        # As real Whisper: non-speech symbols plus the task and control tokens.
        suppress_tokens=sorted({*fw.non_speech_tokens, *(vocab[t] for t in _CONTROL_TOKENS if t in vocab)}),
        begin_suppress_tokens=[vocab.get(" ", 220), eot],
        alignment_heads=ALIGNMENT_HEADS,
    )
