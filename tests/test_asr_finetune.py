"""Whisper fine-tuning end to end on CPU: a tiny real-architecture Whisper learns 20 utterances.

The model is built in the run (random weights, the real multilingual tokenizer) and taught a NEW
language token `<|wo|>` (initialised from `<|fr|>`) on 20 espeak-ng utterances of Wolof text.
Reaching train-set WER <= 0.2 proves the labels, special tokens, token insertion, collator and
generation config are right; the CTranslate2 export must then decode the same through our
recognizer (faster-whisper). The fine-tuned model is cached under the test-fixture cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from corpora.ingest import IngestOptions, ingest
from corpora.manifest import read_manifest, read_manifests
from tests.conftest import espeak, fixture_cache, install_wheel
from voice.asr.augment import BAND, band_energy, telephone
from voice.asr.finetune.config import FinetuneConfig, load_config
from voice.asr.finetune.data import PromptIds, SpeechCollator, make_labels
from voice.asr.finetune.tokens import insert_language_token, plan_from_pack, token_cost
from voice.audio import write_audio
from voice.errors import BadInputError
from voice.packs.verify import tree_digest

ROOT = Path(__file__).resolve().parents[1]
VOICE = str(Path(sys.executable).parent / "voice")
TEXTS = [
    "naka nga def", "jërëjëf waaw", "ñaata la credit bi", "dama bëgg pass internet",
    "sama telefon dafa yàqu", "fan la boutique bi nekk", "xaalis bi agsiwul", "ma ngi lay nuyu",
    "ñaari junni francs", "code bi dafa dem", "balance bi ñaata la", "dama bëgg wax ak kenn",
    "réseau bi amul", "bokk naa ci orange", "ñett fukki giga", "jox ma sama code puk",
    "benn pass bu bés", "yobbal ma xaalis", "ndax mën nga ma dimbali", "ba beneen yoon",
]  # fmt: skip
# One encoder layer: the 1500-position encoder attention dominates CPU time (measured: 1 layer ~1.0 s,
# 2 layers ~1.5 s per batch of 10 under load); the decoder keeps two layers.
TINY_DIMS = {"d_model": 64, "encoder_layers": 1, "decoder_layers": 2, "heads": 2, "ffn": 256}
FIXTURE_VERSION = "asr-finetune-tiny-v2"


def wer(refs: list[str], hyps: list[str]) -> float:
    from voice.asr.eval import error_rates

    return error_rates(refs, hyps)["wer"]


# --- quick checks (no training) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer_json() -> dict:
    from voice.testing.asr_models import multilingual_tokenizer_json

    return json.loads(multilingual_tokenizer_json().read_text())


def test_new_token_goes_inside_the_language_block(tokenizer_json):
    data, info = insert_language_token(tokenizer_json, "wo", "fr", 51865)
    ids = {t["content"]: t["id"] for t in data["added_tokens"]}
    old = {t["content"]: t["id"] for t in tokenizer_json["added_tokens"]}
    assert ids["<|wo|>"] == old["<|translate|>"] == info.token_id == 50358
    assert ids["<|su|>"] == old["<|su|>"]  # languages before it keep their ids
    assert (
        ids["<|translate|>"] == old["<|translate|>"] + 1
        and ids["<|notimestamps|>"] == old["<|notimestamps|>"] + 1
    )
    assert info.timestamps_added == 1501 and ids["<|0.00|>"] == ids["<|notimestamps|>"] + 1
    assert ids["<|30.00|>"] == 51865 == info.vocab_size - 1  # timestamps stay last
    post = data["post_processor"]["special_tokens"]
    assert post["<|notimestamps|>"]["ids"] == [ids["<|notimestamps|>"]]
    assert info.source_id == old["<|fr|>"]
    with pytest.raises(BadInputError, match="already"):
        insert_language_token(tokenizer_json, "fr", "en", 51865)


def test_token_plan_follows_the_pack_unless_overridden():
    plan = plan_from_pack("wol")
    assert (plan.language, plan.strategy, plan.code) == ("wol", "reuse", "fr")  # what the pack declares
    new = plan_from_pack("wo", "new", "wo", "fr")
    assert (new.language, new.token, new.source) == ("wol", "<|wo|>", "fr")
    with pytest.raises(BadInputError, match="which code"):
        plan_from_pack("wol", "new")


def test_token_cost_of_special_letters(tokenizer_json):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(json.dumps(tokenizer_json))
    fuc = token_cost(["mbaɗɗa e tampere woɗɗo radio jaafoɗa", "eyyi ɓe ƴeewi ŋaari"], tok, "fuc")
    fra = token_cost(["je voudrais connaître le solde de ma ligne"], tok, "fra")
    assert fuc.letters["ɗ"]["tokens_alone"] == 2 and fuc.letters["ɗ"]["count"] == 5
    assert fuc.special_letter_overhead > 0.1 and fra.special_letter_overhead == 0
    assert fuc.tokens_per_char > fra.tokens_per_char


def test_labels_with_and_without_timestamps():
    ids = PromptIds(
        sot=50258, eot=50257, language=50358, transcribe=50360, notimestamps=50364, timestamp_begin=50365
    )
    assert make_labels([10, 11], ids) == [50358, 50360, 50364, 10, 11, 50257]
    assert make_labels([10, 11], ids, duration=1.23) == [50358, 50360, 50365, 10, 11, 50365 + 62, 50257]
    assert make_labels([10], ids, duration=99)[-2] == 50365 + 1500  # clipped at <|30.00|>
    batch = SpeechCollator()(
        [
            {"input_features": np.zeros((80, 3000), np.float32), "labels": [1, 2, 3]},
            {"input_features": np.ones((80, 3000), np.float32), "labels": [4]},
        ]
    )
    assert batch["input_features"].shape == (2, 80, 3000)
    assert batch["labels"].tolist() == [[1, 2, 3], [4, -100, -100]]


def test_telephone_channel_keeps_300_to_3400_hz_and_drops_the_rest():
    rate = 16000
    t = np.arange(2 * rate) / rate
    middle = slice(rate // 4, -rate // 4)
    for freq in (100, 150, 500, 1000, 2000, 3000, 4500, 6000, 7500):
        tone = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        out = telephone(tone, rate)
        assert len(out) == len(tone)
        kept = band_energy(out[middle], rate, freq) / band_energy(tone[middle], rate, freq)
        if BAND[0] + 150 <= freq <= BAND[1] - 300:
            assert 0.8 < kept < 1.25, (freq, kept)  # within 1 dB
        else:
            assert kept < 1e-3, (freq, kept)  # more than 30 dB down
    noisy = telephone(espeak("hello").samples, rate, np.random.default_rng(1), snr_db=10)
    again = telephone(espeak("hello").samples, rate, np.random.default_rng(1), snr_db=10)
    assert np.array_equal(noisy, again)  # deterministic per seed (eval uses one per utterance)


def test_config_validation_and_example_configs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "base_model: x\nlanguage: wol\ntrain_manifests: [a.jsonl]\noutput_dir: o\nlearning_rate: 1\n"
    )
    with pytest.raises(BadInputError, match="learning_rate"):
        load_config(bad)
    # corpora/configs holds ASR fine-tuning configs and the agent's (agent-<code>.yaml): check each
    # with its own loader.
    from voice.agent.adapt.config import load_config as load_agent_config

    configs = sorted((ROOT / "corpora" / "configs").glob("*.yaml"))
    asr = [p for p in configs if not p.name.startswith("agent-")]
    agent = [p for p in configs if p.name.startswith("agent-")]
    assert len(asr) >= 2 and len(agent) >= 2
    for path in asr:
        cfg = load_config(path)
        assert cfg.train_manifests and Path(cfg.output_dir).is_absolute()
    for path in agent:
        load_agent_config(path)


def test_recognizer_decodes_with_the_models_own_token(tmp_path):
    from voice.asr.models import ResolvedModel
    from voice.asr.recognizer import model_languages, whisper_language_for

    (tmp_path / "voice-asr.json").write_text(
        json.dumps({"languages": [{"language": "wol", "whisper_language": "wo", "token_strategy": "new"}]})
    )
    tokens = model_languages(ResolvedModel(tmp_path, "ctranslate2", "m", "local path"))
    assert tokens == {"wol": "wo"}
    assert whisper_language_for("wol", tokens) == ("wol", "wo")
    assert whisper_language_for("wo", tokens) == ("wol", "wo")  # pack alias
    assert whisper_language_for("wol", {}) == ("wol", "fr")  # the pack's default (reuse <|fr|>)
    assert whisper_language_for("fra", tokens) == ("fra", "fr")


# --- the tiny fine-tune (cached) -----------------------------------------------------------------


def _data(root: Path) -> Path:
    audio = root / "audio"
    for i, text in enumerate(TEXTS):
        path = audio / f"spk{i % 4}" / f"u{i:02d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, espeak(text, voice="fr"))
        path.with_suffix(".txt").write_text(text + "\n")
    manifest = root / "train.jsonl"
    ingest(
        IngestOptions(
            fmt="folder",
            src=str(audio),
            out=str(manifest),
            language="wol",
            source="synthetic",
            licence="CC0-1.0",
            split="train",
            min_duration=0.3,
        )
    )
    return manifest


def _config(
    root: Path, manifest: Path, out: Path, method: str = "full", steps: int = 300, **training
) -> FinetuneConfig:
    return FinetuneConfig.model_validate(
        {
            "base_model": str(root / "base"),
            "language": "wol",
            "token": {"strategy": "new", "code": "wo", "source": "fr"},
            "train_manifests": [str(manifest)],
            "eval_split": "train",
            "output_dir": str(out),
            "method": method,
            "timestamps_prob": 0.5,
            "cache_features": True,
            "spec_augment": {"enabled": False},
            "augment": {"telephone_prob": 0, "noise_prob": 0, "gain_db": [0, 0]},
            "training": {
                "max_steps": steps,
                "batch_size": 10,
                "learning_rate": 5e-3,
                "warmup_steps": 20,
                "eval_steps": 100,
                "logging_steps": 20,
                "gradient_checkpointing": False,
                "num_workers": 0,
                "max_eval_samples": None,
                "generation_max_length": 40,
                **training,
            },
        }
    )


@pytest.fixture(scope="module")
def finetuned() -> dict[str, Path]:
    """Data, base, fine-tuned model and its CTranslate2 export (float32), built once and cached."""
    from voice.asr.export import export_model
    from voice.asr.finetune import finetune
    from voice.testing.asr_models import build_random_whisper

    root = fixture_cache() / FIXTURE_VERSION
    paths = {
        "root": root,
        "manifest": root / "train.jsonl",
        "base": root / "base",
        "run": root / "run",
        "final": root / "run" / "final",
        "export": root / "export",
    }
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        _data(root)
        build_random_whisper(paths["base"], dims=TINY_DIMS, seed=0)
        finetune(_config(root, paths["manifest"], paths["run"]))
        export_model(paths["final"], paths["export"], quantization="float32")
        (root / "done").write_text("ok")
    return paths


def _hf_transcripts(model_dir: Path, manifest: Path) -> tuple[list[str], list[list[int]], list[str]]:
    """Greedy transformers decoding (no timestamps) of every utterance, in one batch."""
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from corpora.audio import load_segment

    model = WhisperForConditionalGeneration.from_pretrained(str(model_dir)).eval()
    processor = WhisperProcessor.from_pretrained(str(model_dir))
    eot = processor.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    entries = read_manifest(manifest)
    audio = [load_segment(e.audio, e.offset, e.duration) for e in entries]
    features = processor(audio, sampling_rate=16000, return_tensors="pt").input_features
    with torch.no_grad():
        out = model.generate(features, language="<|wo|>", task="transcribe", max_new_tokens=40, num_beams=1)
    tokens = [[int(t) for t in row if int(t) < eot] for row in out]
    texts = [processor.tokenizer.decode(ids, skip_special_tokens=True).strip() for ids in tokens]
    return [e.text_norm for e in entries], tokens, texts


@pytest.fixture(scope="module")
def hf_decoded(finetuned):
    return _hf_transcripts(finetuned["final"], finetuned["manifest"])


@pytest.mark.slow
def test_tiny_whisper_learns_the_train_set_with_a_new_language_token(finetuned, hf_decoded):
    info = json.loads((finetuned["final"] / "voice-asr.json").read_text())
    lang = info["languages"][0]
    assert lang == {
        "language": "wol",
        "whisper_language": "wo",
        "token_strategy": "new",
        "token_source": "fr",
        "token_id": 50358,
    }
    gen = json.loads((finetuned["final"] / "generation_config.json").read_text())
    assert gen["lang_to_id"]["<|wo|>"] == 50358 and gen["no_timestamps_token_id"] == 50364
    assert gen["task_to_id"] == {"translate": 50359, "transcribe": 50360}
    assert info["dev_eval"]["wer"] <= 0.2, info["dev_eval"]  # the Trainer's own evaluation (generate)
    log = [json.loads(x) for x in (finetuned["run"] / "train_log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log if "eval_wer" in x][:3] == [100, 200, 300]  # evaluated every 100 steps
    refs, _, texts = hf_decoded
    assert wer(refs, texts) <= 0.2, list(zip(refs, texts, strict=True))
    assert any("ñ" in t or "ë" in t for t in texts)


@pytest.mark.slow
def test_ctranslate2_export_decodes_the_same_through_the_recognizer(finetuned, hf_decoded):
    from corpora.audio import load_segment
    from voice.asr import get_recognizer
    from voice.audio import Audio
    from voice.config import ASRSettings

    export = finetuned["export"]
    ct2_config = json.loads((export / "config.json").read_text())
    assert 50358 in ct2_config["lang_ids"] and (export / "voice-asr.json").exists()
    refs, hf_tokens, hf_texts = hf_decoded
    settings = ASRSettings(compute_type="float32", beam_size=1, vad_gate=False)
    recognizer = get_recognizer("faster-whisper", str(export), settings)
    assert recognizer.model_tokens == {"wol": "wo"}
    same_tokens, texts = 0, []
    for e, tokens in zip(read_manifest(finetuned["manifest"]), hf_tokens, strict=True):
        samples = load_segment(e.audio, e.offset, e.duration)
        same_tokens += recognizer.engine.greedy_tokens(samples, "wo", 40) == tokens[:40]
        t = recognizer.transcribe(Audio(samples, 16000), "wol")
        assert t.language == "wol"
        texts.append(t.text)
    assert same_tokens == len(hf_tokens)  # no-timestamp greedy decoding: token for token
    assert wer(refs, texts) <= 0.2, list(zip(refs, texts, strict=True))  # the full path, timestamps on
    assert sum(a == b for a, b in zip(texts, hf_texts, strict=True)) >= 0.8 * len(texts)
    production = get_recognizer("faster-whisper", str(export), ASRSettings())  # int8, beam 5, VAD gate
    texts = [
        production.transcribe(Audio(load_segment(e.audio, e.offset, e.duration), 16000), "wol").text
        for e in read_manifest(finetuned["manifest"])
    ]
    assert wer(refs, texts) <= 0.2, list(zip(refs, texts, strict=True))


@pytest.mark.slow
def test_eval_output_shape_and_pack_fragment(finetuned, tmp_path):
    from voice.asr.eval import evaluate, write_results
    from voice.asr.export import export_model, pack_fragment
    from voice.config import ASRSettings
    from voice.packs.manifest import PackManifest
    from voice.packs.verify import tree_digest

    settings = ASRSettings(compute_type="float32", beam_size=1, vad_gate=False)
    results = evaluate(
        str(finetuned["export"]), [str(finetuned["manifest"])], split="train", limit=6, settings=settings
    )
    clean, phone = results["conditions"]["clean"], results["conditions"]["telephone"]
    assert results["utterances"] == 6 and set(results["conditions"]) == {"clean", "telephone"}
    for c in (clean, phone):
        assert {"wer", "cer", "words", "utterances", "per_source", "per_speaker", "per_language"} <= set(c)
        assert set(c["per_source"]) == {"synthetic"} and c["per_language"]["wol"]["utterances"] == 6
        assert sum(s["utterances"] for s in c["per_speaker"].values()) == 6
    assert clean["wer"] <= 0.34 and results["telephone_wer_delta"] == pytest.approx(
        phone["wer"] - clean["wer"]
    )
    assert results["normalisers"] == ["wol@1"] and len(results["utterance_results"]) == 6
    j, m = write_results(results, tmp_path / "eval")
    md = m.read_text()
    assert (
        "| condition | source | utterances | hours | WER | CER |" in md and "| telephone | synthetic |" in md
    )
    exported = export_model(
        finetuned["final"], tmp_path / "export", quantization="int8", evals=[j], name="tiny-wo"
    )
    card = (exported / "README.md").read_text()
    assert card.startswith("---\n") and "model-index:" in card and "<|wo|>" in card
    frag = pack_fragment(exported)
    sha, size = tree_digest(exported)
    assert frag["artifact"]["sha256"] == sha and frag["artifact"]["size"] == size
    assert frag["asr"]["whisper_language"] == "wo" and frag["asr"]["token_strategy"] == "new"
    assert frag["asr"]["tiers"]["edge"]["model"] == "artifact:asr-edge"
    assert {e["metric"] for e in frag["eval"]} == {"wer", "cer", "wer-telephone", "cer-telephone"}
    wol = PackManifest.model_validate(
        {  # the pieces fit the pack schema
            "code": "wol",
            "bcp47": "wo-SN",
            "names": {"native": "Wolof", "fr": "Wolof", "en": "Wolof"},
            "scripts": ["Latn"],
            "version": "0.1.0",
            "core": ">=0.1",
            "asr": frag["asr"],
            "tts": {"espeak_voice": "sw"},
            "artifacts": [frag["artifact"]],
            "eval": frag["eval"],
        }
    )
    assert wol.artifact("asr-edge").path == "models/asr-edge"


@pytest.mark.slow
def test_lora_and_resume(finetuned, tmp_path):
    """LoRA trains the new token's embedding (trainable_token_indices), merges, exports; a second
    run with more steps resumes from the last checkpoint instead of starting over."""
    import torch
    from safetensors.torch import load_file

    from voice.asr.export import to_ct2
    from voice.asr.finetune import finetune

    out = tmp_path / "lora"
    cfg = _config(
        finetuned["root"],
        finetuned["manifest"],
        out,
        method="lora",
        steps=4,
        batch_size=4,
        eval_steps=2,
        save_steps=2,
        learning_rate=1e-2,
        max_eval_samples=4,  # an untrained LoRA rambles to the length limit: keep evaluation short
        generation_max_length=8,
    )
    final = finetune(cfg)
    prepared = load_file(str(out / "prepared" / "model.safetensors"))
    merged = load_file(str(final / "model.safetensors"))
    key = "model.decoder.embed_tokens.weight"
    assert merged[key].shape == prepared[key].shape == (51866, 64)
    assert not torch.allclose(merged[key][50358], prepared[key][50358])  # the new token learned
    assert torch.allclose(merged[key][50357], prepared[key][50357])  # other rows untouched
    assert (out / "adapter" / "adapter_config.json").exists()
    cfg.training.max_steps = 6
    finetune(cfg)
    steps = [json.loads(x)["step"] for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and max(steps) == 6 and steps.count(2) <= 2  # resumed at 4, not from 0
    assert json.loads((out / "final" / "voice-asr.json").read_text())["training"]["steps"] == 6
    ct2 = to_ct2(out / "adapter", tmp_path / "lora-ct2", quantization="int8")  # adapter dir merges on export
    assert (ct2 / "model.bin").exists()


@pytest.mark.slow
def test_cli_finetune_eval_export(finetuned, tmp_path):
    """The three commands as users run them, on a 2-step run."""
    cfg = tmp_path / "tiny.yaml"
    data = _config(
        finetuned["root"],
        finetuned["manifest"],
        tmp_path / "run",
        steps=2,
        batch_size=4,
        eval_steps=2,
        max_eval_samples=4,
        generation_max_length=8,
    ).model_dump()
    cfg.write_text(yaml.safe_dump(data))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([VOICE, *args], capture_output=True, text=True, timeout=600, env=env)

    proc = run("asr", "finetune", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "steps" in proc.stderr and (tmp_path / "run" / "final" / "voice-asr.json").exists()
    proc = run(
        "asr",
        "eval",
        str(finetuned["export"]),
        str(finetuned["manifest"]),
        "--split",
        "train",
        "--limit",
        "2",
        "--clean-only",
        "--compute-type",
        "float32",
        "-o",
        str(tmp_path / "ev"),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert set(summary["conditions"]) == {"clean"} and (tmp_path / "ev" / "eval.md").exists()
    exp = tmp_path / "exp"
    final, eval_json = tmp_path / "run" / "final", tmp_path / "ev" / "eval.json"
    proc = run("asr", "export", str(final), "-o", str(exp), "--eval", str(eval_json), "--fragment")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["artifact"]["kind"] == "asr-model"
    # The export goes into the pack: weights, the language-token choice and the eval results.
    proc = run("packs", "build", "wol", "--asr-model", str(exp), "-o", str(tmp_path / "dist"))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))) as wheel:
        names = set(wheel.namelist())
        manifest = yaml.safe_load(wheel.read("voice_pack_wol/manifest.yaml"))
    assert "voice_pack_wol/models/asr-edge/model.bin" in names
    token = json.loads((exp / "voice-asr.json").read_text())["languages"][0]
    assert manifest["asr"]["tiers"]["edge"]["model"] == "artifact:asr-edge"
    assert manifest["asr"]["whisper_language"] == token["whisper_language"]
    assert manifest["asr"]["token_strategy"] == token["token_strategy"]
    art = next(a for a in manifest["artifacts"] if a["name"] == "asr-edge")
    assert (art["sha256"], art["size"]) == tree_digest(exp)
    assert {e["metric"] for e in manifest["eval"] if e.get("model")} >= {"wer", "cer"}
    bad = run("asr", "export", str(tmp_path / "run" / "final"), "-o", str(tmp_path / "x"), "-q", "int3")
    assert bad.returncode == 2 and "quantization" in bad.stderr


# What an installed pack serves: run in a fresh interpreter whose PYTHONPATH puts the wheel's pack
# ahead of the editable checkout, with no ASR model configured (so the pack's edge tier serves).
SERVE_FROM_PACK = """
import json, sys
import voice_pack_wol
from voice.asr.recognizer import recognizer_for
from voice.audio import load_audio
from voice.packs import get_pack

recognizer = recognizer_for("wol")
print(json.dumps({
    "module": voice_pack_wol.__file__,
    "edge": get_pack("wol").manifest.asr.tiers["edge"].model_dump(),
    "model": str(recognizer.engine.model.path),
    "texts": [recognizer.transcribe(load_audio(p), "wol").text for p in sys.argv[1:]],
}))
"""


@pytest.fixture(scope="module")
def installed_wol_pack(finetuned, tmp_path_factory) -> Path:
    """The wol pack wheel bundling the fine-tuned export as its edge tier, pip-installed into a dir."""
    from voice.packs import get_pack
    from voice.packs.build import build_pack

    built = build_pack(get_pack("wol"), tmp_path_factory.mktemp("dist"), asr_model=finetuned["export"])
    wheel = next(p for p in built if p.suffix == ".whl")
    return install_wheel(wheel, tmp_path_factory.mktemp("site"))


@pytest.mark.slow
def test_installed_pack_serves_the_export_through_the_recognizer(finetuned, installed_wol_pack, tmp_path):
    """With the pack wheel installed and no model configured, `recognizer_for` and `voice transcribe`
    use the bundled export (the edge tier) and transcribe exactly as the export dir does directly."""
    from voice.asr import get_recognizer
    from voice.audio import load_audio
    from voice.config import ASRSettings

    site = installed_wol_pack
    items = read_manifests([finetuned["manifest"]])
    audio = [str(e.audio_path(root)) for e, root in items]
    env = {k: v for k, v in os.environ.items() if k not in ("VOICE_ASR_MODEL", "VOICE_ASR_ENGINE")}
    env |= {"PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}

    def run(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc

    served = json.loads(run(sys.executable, "-c", SERVE_FROM_PACK, *audio).stdout)
    assert Path(served["module"]).is_relative_to(site)  # the wheel's pack, not the checkout
    assert (served["edge"]["model"], served["edge"]["engine"]) == ("artifact:asr-edge", "faster-whisper")
    assert Path(served["model"]) == site / "voice_pack_wol" / "models" / "asr-edge"  # no fallback model
    direct = get_recognizer("faster-whisper", str(finetuned["export"]), ASRSettings())  # same defaults
    expected = [direct.transcribe(load_audio(p), "wol").text for p in audio]
    assert served["texts"] == expected
    refs = [e.text_norm for e, _ in items]
    assert wer(refs, served["texts"]) <= 0.2, list(zip(refs, served["texts"], strict=True))
    assert "OK" in run(VOICE, "packs", "verify", "wol").stdout  # the shipped digests match what shipped
    cli = json.loads(run(VOICE, "transcribe", audio[0], "--lang", "wol", "--json").stdout)
    assert (cli["text"], cli["language"], cli["model"]) == (expected[0], "wol", "asr-edge")


@pytest.mark.slow
def test_training_with_augmentation_on(finetuned, tmp_path):
    """SpecAugment, noise, the telephone channel (always) and gradient checkpointing on: a short run
    trains with finite loss, records the settings, and the utterances it trained on were phone audio."""
    from transformers import TrainerCallback, WhisperFeatureExtractor

    from corpora.audio import load_segment
    from voice.asr.finetune import finetune

    data = _config(
        finetuned["root"],
        finetuned["manifest"],
        tmp_path / "aug",
        steps=3,
        batch_size=4,
        eval_steps=3,
        logging_steps=1,
        max_eval_samples=2,
        generation_max_length=8,
        gradient_checkpointing=True,
    ).model_dump()
    data["cache_features"] = False  # augmented audio differs every epoch
    data["spec_augment"] = {"enabled": True, "mask_time_prob": 0.1, "mask_feature_prob": 0.1}
    data["augment"] = {
        "telephone_prob": 1.0,
        "telephone_snr_db": (30.0, 30.0),
        "noise_prob": 1.0,
        "noise_snr_db": (25.0, 25.0),
        "gain_db": (-3.0, 3.0),
    }
    cfg = FinetuneConfig.model_validate(data)

    class Seen(TrainerCallback):  # observes what the Trainer was given; changes nothing
        def on_train_begin(self, args, state, control, model=None, train_dataloader=None, **kw):
            self.checkpointing = model.is_gradient_checkpointing
            self.spec_augment = model.config.apply_spec_augment
            self.dataset = train_dataloader.dataset

    seen = Seen()
    final = finetune(cfg, callbacks=[seen])
    assert seen.checkpointing and seen.spec_augment
    info = json.loads((final / "voice-asr.json").read_text())
    t = info["training"]
    assert t["steps"] == 3 and np.isfinite(t["train_loss"]) and np.isfinite(info["dev_eval"]["loss"])
    # the card is JSON: compare with the config as JSON (its tuples come back as lists)
    assert (
        t["spec_augment"] == json.loads(cfg.spec_augment.model_dump_json()) and t["spec_augment"]["enabled"]
    )
    assert t["augment"] == json.loads(cfg.augment.model_dump_json()) and t["augment"]["telephone_prob"] == 1.0
    log = [json.loads(x) for x in (tmp_path / "aug" / "train_log.jsonl").read_text().splitlines()]
    losses = [x["loss"] for x in log if "loss" in x]
    assert len(losses) == 3 and all(np.isfinite(losses))
    checkpoint = json.loads((tmp_path / "aug" / "checkpoint-3" / "config.json").read_text())
    assert checkpoint["apply_spec_augment"] and checkpoint["mask_time_prob"] == 0.1
    assert not json.loads((final / "config.json").read_text())["apply_spec_augment"]  # off for inference

    # The utterances the Trainer drew went through the phone channel: nothing above 4 kHz is left
    # (8 kHz G.711) while the 300-3400 Hz band still carries the speech.
    fe = WhisperFeatureExtractor.from_pretrained(str(final))
    entry, root = read_manifests([finetuned["manifest"]])[0]
    frames = int(entry.duration * 100)  # the utterance, not the 30 s padding
    clean = fe(load_segment(entry.audio_path(root), entry.offset, entry.duration), sampling_rate=16000)
    clean = clean.input_features[0][:, :frames]
    phone = seen.dataset.features(0, np.random.default_rng(0))[:, :frames]

    def above_floor(feats: np.ndarray) -> np.ndarray:
        """Mean level of each mel bin above Whisper's floor (peak - 80 dB), in units of 40 dB."""
        return feats.mean(axis=1) - (feats.max() - 2.0)

    centre = fe.mel_filters.argmax(axis=0) * 16000 / fe.n_fft  # each mel bin's centre frequency
    high, band = centre > 4300, (centre > 400) & (centre < 3200)
    assert not np.allclose(phone, clean)
    assert above_floor(phone)[high].max() < 0.01 and above_floor(clean)[high].mean() > 0.2
    assert above_floor(phone)[band].mean() > 0.5  # speech level, more than 20 dB above the floor
