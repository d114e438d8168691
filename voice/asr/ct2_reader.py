"""Read CTranslate2 `model.bin` files, and rebuild a transformers Whisper from one.

The only real Whisper weights reachable offline are CTranslate2 dirs (what faster-whisper
loads); this turns them back into a transformers model dir, from which `convert.hf_to_openai`
makes the openai-whisper checkpoint, so all three engines can run the same real weights.

model.bin layout (little endian; written by ctranslate2/specs/model_spec.py `_serialize`, read by
src/models/model.cc `Model::load`), strings being uint16 length (NUL included) + bytes + NUL:

    uint32 binary_version                      (1..6)
    string spec_name; uint32 spec_revision     (binary_version >= 2)
    uint32 n_variables, then per variable:
        string name; uint8 rank; uint32 dims[rank]
        v >= 4: uint8 dtype_id; uint32 n_bytes | v < 4: uint8 item_size; uint32 n_items
        n_bytes of raw data
    uint32 n_aliases, then (string alias, string target) pairs   (binary_version >= 3)
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import numpy as np

from voice.errors import ModelError

MAX_BINARY_VERSION = 6
# Type ids follow the DataType enum of include/ctranslate2/types.h; 5 is bfloat16 (decoded by hand).
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),
}
_BFLOAT16 = 5
# Binary versions < 4 stored an item size instead of a type id (model.cc: get_dtype_from_item_size).
_ITEM_SIZE_DTYPES = {4: 0, 2: 2, 1: 1}
# int16 weights saved without a scale by old converters used this global one (ops/quantize.cc).
_GLOBAL_INT16_SCALE = 1000.0


class _Cursor:
    """Sequential reader over the file bytes that turns any overrun into a ModelError."""

    def __init__(self, data: memoryview, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelError(
                f"{self.path}: truncated CTranslate2 model (needed {n} bytes at offset {self.pos}, "
                f"file has {len(self.data)})"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def string(self) -> str:
        (length,) = self.unpack("H")
        raw = bytes(self.take(length))
        if length == 0 or raw[-1] != 0:
            raise ModelError(f"{self.path}: corrupt CTranslate2 model (bad string ending at {self.pos})")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelError(f"{self.path}: corrupt CTranslate2 model (string is not UTF-8)") from exc


def _decode(raw: memoryview, type_id: int, shape: tuple[int, ...]) -> np.ndarray:
    array = np.frombuffer(raw, dtype=_DTYPES[type_id]).reshape(shape)
    if type_id == _BFLOAT16:  # bfloat16 is the top half of a float32
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.copy()  # own the memory: the file buffer is released after reading


def _dequantize(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """int8/int16 weights -> float32 (value / scale), dropping the `_scale` variables."""
    out = dict(variables)
    for name, value in variables.items():
        # Only non-scalar "...weight" variables are quantized (model.cc: is_quantizable); int8/int16
        # scalars are settings such as decoder/activation or encoder/num_heads.
        if value.dtype not in (np.int8, np.int16) or value.ndim == 0 or not name.endswith("weight"):
            continue
        scale = variables.get(name + "_scale")
        if scale is None:
            if value.dtype != np.int16:
                raise ModelError(f"int8 variable {name} has no {name}_scale")
            scale = np.float32(_GLOBAL_INT16_SCALE)
        scale = np.asarray(scale, dtype=np.float32)
        flat = value.reshape(value.shape[0], -1).astype(np.float32)
        # int8 scales are per output row (conv weights flattened to 2-D first); int16 is one scalar.
        per_row = scale.reshape(-1, 1) if scale.size > 1 else scale.reshape(())
        out[name] = (flat / per_row).reshape(value.shape)
        out.pop(name + "_scale", None)
    return out


def read_ct2_model(
    path: str | Path, dequantize: bool = True
) -> tuple[str, dict[str, np.ndarray], dict[str, str]]:
    """Parse a CTranslate2 model.bin (or the dir holding it): (spec name, variables, aliases).

    Float variables keep their stored dtype (bfloat16 becomes float32). With `dequantize`,
    int8/int16 weights come back as float32 and their `_scale` variables are dropped. Aliases
    map a variable name to the stored variable it shares weights with (e.g. a tied projection).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.bin"
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise ModelError(f"cannot read CTranslate2 model {path}: {exc}") from exc
    cur = _Cursor(data, path)
    (version,) = cur.unpack("I")
    if not 1 <= version <= MAX_BINARY_VERSION:
        raise ModelError(
            f"{path}: not a CTranslate2 model.bin or an unsupported binary version ({version}; "
            f"this reader knows 1..{MAX_BINARY_VERSION})"
        )
    spec, _revision = (cur.string(), cur.unpack("I")[0]) if version >= 2 else ("", 1)
    (count,) = cur.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = cur.string()
        (rank,) = cur.unpack("B")
        shape = cur.unpack(f"{rank}I")
        if version >= 4:
            type_id, n_bytes = cur.unpack("BI")
        else:
            item_size, n_items = cur.unpack("BI")
            type_id, n_bytes = _ITEM_SIZE_DTYPES.get(item_size, -1), item_size * n_items
        if type_id not in _DTYPES:
            raise ModelError(f"{path}: variable {name!r} has an unsupported data type ({type_id})")
        if n_bytes != int(np.prod(shape, dtype=np.int64)) * _DTYPES[type_id].itemsize:
            raise ModelError(f"{path}: variable {name!r}: {n_bytes} bytes do not fit shape {shape}")
        variables[name] = _decode(cur.take(n_bytes), type_id, shape)
    aliases: dict[str, str] = {}
    if version >= 3:
        (n_aliases,) = cur.unpack("I")
        for _ in range(n_aliases):
            alias = cur.string()
            aliases[alias] = cur.string()
    if cur.pos != len(data):
        raise ModelError(f"{path}: {len(data) - cur.pos} unexpected bytes after the model data")
    return spec, (_dequantize(variables) if dequantize else variables), aliases


# CTranslate2 Whisper variable names -> transformers WhisperForConditionalGeneration names: the
# inverse of ctranslate2/converters/transformers.py (WhisperLoader, BartLoader). Names are
# "<module path>/<leaf>"; layer modules live under "(encoder|decoder)/layer_<i>/".
_TOP_MODULES = {
    "encoder/conv1": "model.encoder.conv1",
    "encoder/conv2": "model.encoder.conv2",
    "encoder/position_encodings": "model.encoder.embed_positions",
    "encoder/layer_norm": "model.encoder.layer_norm",
    "decoder/position_encodings": "model.decoder.embed_positions",
    "decoder/embeddings": "model.decoder.embed_tokens",
    "decoder/layer_norm": "model.decoder.layer_norm",
    "decoder/projection": "proj_out",
}
_LAYER_MODULES = {
    "self_attention/layer_norm": "self_attn_layer_norm",
    "self_attention/linear_1": "self_attn.out_proj",
    "attention/layer_norm": "encoder_attn_layer_norm",
    "attention/linear_0": "encoder_attn.q_proj",
    "attention/linear_2": "encoder_attn.out_proj",
    "ffn/layer_norm": "final_layer_norm",
    "ffn/linear_0": "fc1",
    "ffn/linear_1": "fc2",
}
# The converter fuses attention projections: self-attention q|k|v, cross-attention k|v.
_FUSED = {"self_attention/linear_0": ("self_attn", "qkv"), "attention/linear_1": ("encoder_attn", "kv")}
_LEAVES = {"gamma": "weight", "beta": "bias", "encodings": "weight", "weight": "weight", "bias": "bias"}
_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)$")


def _hf_weights(name: str, value: np.ndarray) -> dict[str, np.ndarray]:
    """The transformers weight(s) one CTranslate2 variable holds; ModelError if it is unknown."""
    module, _, leaf = name.rpartition("/")
    hf_leaf = _LEAVES.get(leaf)
    if m := _LAYER.match(module):
        prefix, module = f"model.{m[1]}.layers.{m[2]}.", m[3]
    else:
        prefix = ""
    if hf_leaf and module in _FUSED:
        attn, letters = _FUSED[module]
        parts = dict(zip(letters, np.split(value, len(letters)), strict=True))
        if hf_leaf == "bias":
            parts.pop("k")  # Whisper's k_proj has no bias: the converter fused in zeros
        return {f"{prefix}{attn}.{p}_proj.{hf_leaf}": v for p, v in parts.items()}
    hf_module = (_LAYER_MODULES if prefix else _TOP_MODULES).get(module)
    if hf_leaf is None or hf_module is None:
        raise ModelError(f"unexpected variable {name!r} in a CTranslate2 Whisper model")
    return {f"{prefix}{hf_module}.{hf_leaf}": value}


def ct2_state_dict(variables: dict[str, np.ndarray], aliases: dict[str, str]) -> dict[str, np.ndarray]:
    """transformers state dict (float32 numpy) from dequantized CTranslate2 Whisper variables."""
    resolved = dict(variables)
    resolved.update({alias: variables[target] for alias, target in aliases.items() if target in variables})
    state: dict[str, np.ndarray] = {}
    for name, value in resolved.items():
        if value.ndim == 0:
            continue  # scalar settings (num_heads, activation, pre_norm, ...), not weights
        for hf_name, tensor in _hf_weights(name, value).items():
            state[hf_name] = np.ascontiguousarray(tensor, dtype=np.float32)
    # transformers ties proj_out to the token embedding; an untied projection cannot be represented.
    proj = state.get("proj_out.weight")
    if proj is not None and not np.array_equal(proj, state.get("model.decoder.embed_tokens.weight")):
        raise ModelError("the CTranslate2 model's output projection differs from its token embedding")
    return state


def _whisper_config(state: dict[str, np.ndarray], variables: dict[str, np.ndarray], gen):
    """WhisperConfig whose dims are read off the weight shapes."""
    from transformers import WhisperConfig

    def count(prefix: str) -> int:
        return len({k.split(".")[3] for k in state if k.startswith(prefix)})

    def heads(side: str) -> int:
        value = variables.get(f"{side}/num_heads")
        if value is None:
            raise ModelError(f"CTranslate2 model has no {side}/num_heads; cannot infer attention heads")
        return int(value)

    vocab_size, d_model = state["model.decoder.embed_tokens.weight"].shape
    return WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=state["model.encoder.conv1.weight"].shape[1],
        d_model=d_model,
        encoder_layers=count("model.encoder.layers."),
        decoder_layers=count("model.decoder.layers."),
        encoder_attention_heads=heads("encoder"),
        decoder_attention_heads=heads("decoder"),
        encoder_ffn_dim=state["model.encoder.layers.0.fc1.weight"].shape[0],
        decoder_ffn_dim=state["model.decoder.layers.0.fc1.weight"].shape[0],
        max_source_positions=state["model.encoder.embed_positions.weight"].shape[0],
        max_target_positions=state["model.decoder.embed_positions.weight"].shape[0],
        decoder_start_token_id=gen.decoder_start_token_id,
        bos_token_id=gen.eos_token_id,
        eos_token_id=gen.eos_token_id,
        pad_token_id=gen.eos_token_id,
    )


def ct2_to_transformers(ct2_dir: str | Path, out_dir: str | Path) -> Path:
    """Write a transformers Whisper dir (float32 weights + processor) from a CTranslate2 Whisper dir."""
    import torch
    from transformers import (
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    from voice.asr.generation import generation_config

    ct2_dir, out_dir = Path(ct2_dir), Path(out_dir)
    spec, variables, aliases = read_ct2_model(ct2_dir)
    if spec != "WhisperSpec":
        raise ModelError(f"{ct2_dir}: a {spec or 'pre-v2'} CTranslate2 model, not Whisper")
    if not (ct2_dir / "tokenizer.json").exists():
        raise ModelError(f"{ct2_dir}: tokenizer.json is missing; cannot build the Whisper processor")
    config_file = ct2_dir / "config.json"
    ct2_config = json.loads(config_file.read_text()) if config_file.exists() else {}

    tokenizer = WhisperTokenizerFast(tokenizer_file=str(ct2_dir / "tokenizer.json"))
    gen = generation_config(tokenizer)
    # Prefer what the CTranslate2 config carries (the original model's values) over the defaults.
    if ct2_config.get("alignment_heads"):
        gen.alignment_heads = [list(h) for h in ct2_config["alignment_heads"]]
    if ct2_config.get("suppress_ids") is not None:
        gen.suppress_tokens = list(ct2_config["suppress_ids"])
    if ct2_config.get("suppress_ids_begin") is not None:
        gen.begin_suppress_tokens = list(ct2_config["suppress_ids_begin"])

    state = ct2_state_dict(variables, aliases)
    config = _whisper_config(state, variables, gen)
    model = WhisperForConditionalGeneration(config).eval()
    expected = set(model.state_dict())
    if missing := expected - set(state):
        raise ModelError(f"{ct2_dir}: CTranslate2 model lacks weights for {sorted(missing)[:5]}")
    if extra := set(state) - expected:
        raise ModelError(f"{ct2_dir}: unmapped CTranslate2 variables {sorted(extra)[:5]}")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    model.generation_config = gen

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    extractor = WhisperFeatureExtractor(feature_size=config.num_mel_bins)
    WhisperProcessor(extractor, tokenizer).save_pretrained(str(tmp))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)  # a half-written dir never looks like a model
    return out_dir
