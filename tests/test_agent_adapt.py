"""Adapting the agent to a language: dialogue data in harmony form, anonymised stored calls, LoRA
fine-tuning of the tiny gpt-oss fixture with the gpt-oss recipe (TRL + PEFT), the adapter in the
in-process backend, merge + GGUF in llama.cpp, the held-out evaluation and distillation.

The fine-tuned adapter is built once and cached under tests.conftest.fixture_cache(), keyed by
the tiny fixture, the code that builds data and trains, and the recipe below.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.agent_fixtures import tiny_gpt_oss  # noqa: F401
from tests.conftest import fixture_cache, install_wheel
from voice.agent import harmony
from voice.agent.adapt.records import (
    Record,
    RoundTripError,
    check_round_trip,
    dialogues,
    examples,
    read_jsonl,
    read_split,
    sequence,
    text_of,
    write_jsonl,
)
from voice.packs import get_pack

ROOT = Path(__file__).resolve().parents[1]
ADAPT_SOURCES = ["analysis", "builder", "config", "oracle", "records", "train"]
# The recipe's code path with a rank and a rate a 2-layer, 64-wide model can learn from in 60 steps.
# The output layer gets LoRA too: the fixture's frozen lm_head rows of the words it never saw (the
# Wolof analysis) are random, and two layers cannot steer around them (the 20b recipe leaves it).
TINY_RECIPE = {
    "lora": {
        "r": 32,
        "alpha": 64,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "lm_head"],
        "expert_layers": [0, 1],
    },
    "training": {
        "max_steps": 60,
        "batch_size": 2,
        "grad_accum": 1,
        "learning_rate": 5e-3,
        "warmup_ratio": 0.1,
        "gradient_checkpointing": False,
        "eval_steps": 1000,
        "save_steps": 30,
        "logging_steps": 5,
        "max_length": 2560,
    },
}
PHRASE_KINDS = ("phrase",)


def _f1(a: str, b: str) -> float:
    x, y = re.findall(r"\w+", a.lower()), re.findall(r"\w+", b.lower())
    common = sum((Counter(x) & Counter(y)).values())
    return 0.0 if not common else 2 * common / (len(x) + len(y))


@pytest.fixture(scope="module")
def wol_data(tmp_path_factory) -> Path:
    from voice.agent.adapt.builder import build_dataset
    from voice.agent.adapt.config import default_data_options

    options, path = default_data_options("wol")
    assert path is not None and path.name == "agent-wol.yaml"
    out = tmp_path_factory.mktemp("agent-data") / "wol"
    build_dataset(get_pack("wol"), out, options, path)
    return out


def subset(src: Path, dst: Path, kinds: tuple[str, ...], n_train: int, n_dev: int) -> Path:
    """A small data dir: the first records of the given kinds (whole dialogues in dev and test)."""
    dst.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("dev", n_dev)):
        write_jsonl(dst / f"{split}.jsonl", [r for r in read_split(src, split) if r.kind in kinds][:n])
    return dst


# -- data ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["wol", "fuc"])
def test_built_conversations_render_and_parse_back_losslessly(lang, wol_data, tmp_path):
    import openai_harmony as oh

    from voice.agent.adapt.builder import build_dataset
    from voice.agent.adapt.config import default_data_options

    pack = get_pack(lang)
    if lang == "wol":
        data = wol_data
    else:
        options, path = default_data_options(lang)
        data = tmp_path / lang
        build_dataset(pack, data, options, path)
    records = [r for split in ("train", "dev", "test") for r in read_split(data, split)]
    assert len(records) > 300
    enc = harmony.load_encoding()
    for r in records:
        tokens = check_round_trip(r)  # render -> parse -> identical messages and tokens
        msgs = r.messages()
        roles = [m.author.role for m in msgs]
        assert roles[:3] == [oh.Role.SYSTEM, oh.Role.DEVELOPER, oh.Role.USER]
        # the developer message is the agent's grounding prompt: it names the language and the tools
        assert f"Always reply in {pack.manifest.names.en}" in r.instructions
        assert "namespace functions" in enc.decode(tokens)
        turn = msgs[max(i for i, m in enumerate(msgs) if m.author.role == oh.Role.USER) + 1 :]
        assert turn[-1].channel == "final" and text_of(turn[-1]) == r.gold["reply"] == r.final()
        for i, m in enumerate(turn):  # reasoning before every action; a result after every call
            if m.channel == "final" or (m.recipient or "").startswith("functions."):
                assert turn[i - 1].channel == "analysis" and text_of(turn[i - 1]).strip()
            if (m.recipient or "").startswith("functions."):
                result = turn[i + 1]
                assert result.author.role == oh.Role.TOOL and result.author.name == m.recipient
                assert isinstance(json.loads(text_of(result)), dict)
        calls = [
            m.recipient.removeprefix("functions.")
            for m in turn
            if (m.recipient or "").startswith("functions.")
        ]
        assert calls == [c["name"] for c in r.gold["tool_calls"]]
        exs = examples(r)
        assert len(exs) == len(calls) + 1
        seq = sequence(r)  # one sequence, the same targets as the per-action examples
        assert [t for t, m in zip(seq.input_ids, seq.completion_mask, strict=True) if m] == [
            t for e in exs for t in e.completion
        ]
        assert enc.decode(exs[-1].completion[-1:]) == "<|return|>"
        assert all(enc.decode(e.completion[-1:]) == "<|call|>" for e in exs[:-1])
        assert all(enc.decode(e.prompt).endswith("<|start|>assistant") for e in exs)
    # what a pack gives, in the language, with French code-switching
    kinds = Counter(r.kind for r in records)
    assert {"faq", "tool", "phrase", "clarify", "handoff", "probe"} <= set(kinds)
    tools = Counter(c["name"] for r in records for c in r.gold["tool_calls"])
    assert set(tools) >= {"get_balance", "list_offers", "buy_offer", "mobile_money_status", "report_lost_sim"}
    assert {"create_ticket", "transfer_to_human"} <= set(tools)
    confirmed = [
        r
        for r in records
        if any(c["arguments"].get("confirmed") for c in r.gold["tool_calls"] if c["name"] == "buy_offer")
    ]
    assert confirmed and all(r.turn >= 2 for r in confirmed)  # a purchase only after a yes turn
    assert {
        c["result"].get("status") or c["result"].get("error") for r in confirmed for c in r.gold["tool_calls"]
    } >= {
        "done",
        "insufficient_balance",
    }
    switched = [r for r in records if r.variant == "code-switch"]
    assert len(switched) > 20
    french = {t.strip().split()[0].lower() for g in pack.content.glossary for t in g.term.split("/")[:1]}
    assert sum(any(w in r.user_text.lower() for w in french) for r in switched) > len(switched) / 2
    # analysis in the language (the config's templates), never English fallbacks
    info = json.loads((data / "build.json").read_text())
    assert info["counts"]["analysis"] == {
        "config": info["counts"]["analysis"]["config"],
        "default": 0,
        "language": lang,
    }
    # dedup and splits: no caller sequence twice; a group and its variants in one split; probes held out
    keys = Counter((r.dialogue, r.turn) for r in records)
    assert max(keys.values()) == 1
    seqs = [tuple(pack.normalise(r.user_text) for r in d) for d in dialogues(records)]
    assert len(seqs) == len(set(seqs))
    split_of = {}
    for r in records:
        assert split_of.setdefault(r.group, r.split) == r.split
    test = read_split(data, "test")
    assert {r.kind for r in test} >= {"faq", "tool", "probe"}
    probes_train = {r.user_text for r in read_split(data, "train") if r.kind == "probe"}
    assert probes_train and not probes_train & {r.user_text for r in test if r.kind == "probe"}


def test_round_trip_check_catches_a_lossy_conversation(wol_data):
    """A final answer that smuggles a harmony token in does not survive render -> parse."""
    record = read_split(wol_data, "train")[0]
    bad = json.loads(json.dumps(record.to_json()))
    final = bad["harmony"]["messages"][-1]
    final["content"][0]["text"] += "<|end|><|start|>assistant<|channel|>final<|message|>extra"
    with pytest.raises(RoundTripError):
        check_round_trip(Record.from_json(bad))


def test_data_card_names_sources_licences_counts_and_review(wol_data):
    card = (wol_data / "card.md").read_text()
    info = json.loads((wol_data / "build.json").read_text())
    assert "## Sources and licences" in card and "Apache-2.0" in card
    assert "demo backend" in card and "agent-wol.yaml" in card
    for split in ("train", "dev", "test"):
        n = sum(1 for _ in (wol_data / f"{split}.jsonl").open())
        assert info["counts"]["splits"][split]["records"] == n
        assert f"| {split} | {info['counts']['dialogues_per_split'][split]} | {n} |" in card
    assert "native speaker reviews" in card and "code-switched" in card
    assert info["counts"]["duplicates_dropped"] > 0 and info["counts"]["actions"] > info["counts"]["records"]


def test_data_build_is_reproducible(wol_data, tmp_path):
    from voice.agent.adapt.builder import build_dataset
    from voice.agent.adapt.config import default_data_options
    from voice.agent.adapt.records import data_fingerprint

    options, path = default_data_options("wol")
    build_dataset(get_pack("wol"), tmp_path / "again", options, path)
    assert data_fingerprint(tmp_path / "again") == data_fingerprint(wol_data)


# -- stored calls, anonymised -----------------------------------------------------------------------
NAMES = ["Awa Ndiaye", "Mamadou Sow", "Ousmane Diallo", "Zoumana Koné", "Bineta", "Coumba Faye", "ibrahima"]
PHONES = [
    "+221 76 321 45 67",
    "765432109",
    "00221769990011",
    "77-654-32-10",
    "+220 790 4321",
    "+221765550000",
]
STORED_CALLS = [
    (
        "+221 76 321 45 67",
        ["Asalaamaalekum, maa ngi tudd Awa Ndiaye", "Ñaata moo des ci sama keredi?", "Jërëjëf"],
    ),
    (
        "00221769990011",
        ["Sama tur Ousmane Diallo, sama nimero mooy 77-654-32-10", "Bëgg naa jënd Pass Jour", "Waaw"],
    ),
    (
        "+221765550000",
        [
            "Yónnee naa 15000 FCFA ci Coumba Faye ci 765432109, référence MM-2026-0042",
            "Sama rakk Zoumana Koné moo ko jot, nimeroom +220 790 4321",
            "Jërëjëf Bineta, ba beneen yoon",
        ],
    ),
    (
        "+221765550000",
        ["sama tur ibrahima, sama puce dafa réer", "Bëgg naa wax ak ab liggéeykat, 00221769990011"],
    ),
]
THREAD = [
    "Salaamaalekum, Mamadou Sow laa, Ndax mën nga seetal sama keredi?",
    "Dafa am 2300 FCFA ci sama compte?",
]


def _stored_db(path: Path) -> str:
    from voice.agent.demo_backend import DemoBackend
    from voice.store.db import Database
    from voice.store.models import Call, Conversation, Turn

    url = f"sqlite:///{path}"
    db = Database(url)
    db.create_all()
    DemoBackend(db)  # the operator's customer records live in the same database
    with db.session() as s:
        for n, (caller, texts) in enumerate(STORED_CALLS):
            call = Call(call_sid=f"CA{n:032d}", caller=caller, language="wol", outcome="completed")
            call.turns = [
                Turn(index=i, caller_text=t, bot_text=f"Baax na {NAMES[0]}, {PHONES[0]}", route="faq")
                for i, t in enumerate(texts)
            ]
            s.add(call)
        s.add(
            Call(
                call_sid="CAfra",
                caller="+221770000000",
                language="fra",
                turns=[Turn(index=0, caller_text="Bonjour")],
            )
        )
        history = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(THREAD)
        ]
        s.add(
            Conversation(
                channel="twilio", sender="whatsapp:+221769990011", language="wol", state={"history": history}
            )
        )
    db.dispose()
    return url


def test_anonymiser_masks_phones_names_and_personal_amounts():
    from voice.agent.adapt.builder import anonymiser_for
    from voice.agent.adapt.config import DataOptions

    pack = get_pack("wol")
    anon = anonymiser_for(pack, DataOptions())
    anon.add_known(["+221763214567"], ["Awa Ndiaye"])
    texts = [t for _, turns in STORED_CALLS for t in turns] + THREAD
    masked = [anon.mask(t) for t in texts]
    for original, m in zip(texts, masked, strict=True):
        assert not anon.residue(NAMES, PHONES, m), (original, m)
    joined = " ".join(masked)
    assert "15000" not in joined and "2300" not in joined and "MM-2026-0042" not in joined
    # public facts stay: the operator's codes, hotline and prices are not personal
    public = anon.mask("Bësal *123#, walla woo 1400. Pass Jour 500 FCFA la, 1 GB; Pass Semaine 2000 FCFA.")
    assert public == "Bësal *123#, walla woo 1400. Pass Jour 500 FCFA la, 1 GB; Pass Semaine 2000 FCFA."
    assert anon.mask("Ñaata moo des ci sama keredi? Bëgg naa jënd Pass Jour ci Dakar") == (
        "Ñaata moo des ci sama keredi? Bëgg naa jënd Pass Jour ci Dakar"
    )
    assert anon.counts["[NAME]"] >= len(NAMES) and anon.counts["[PHONE]"] == 4  # four numbers are said


def test_stored_calls_become_anonymised_training_dialogues(tmp_path):
    from voice.agent.adapt.builder import build_dataset
    from voice.agent.adapt.config import default_data_options

    url = _stored_db(tmp_path / "operator.db")
    options, path = default_data_options("wol")
    result = build_dataset(get_pack("wol"), tmp_path / "data", options, path, stored_db=url)
    stored = [
        r for s in ("train", "dev", "test") for r in read_split(tmp_path / "data", s) if r.source == "stored"
    ]
    assert stored and {r.split for r in stored} <= {"train", "dev"}  # never in the published test split
    assert result.counts["stored_dialogues"] == len(STORED_CALLS) + 1  # the French call is not Wolof
    assert {c["name"] for r in stored for c in r.gold["tool_calls"]} >= {"get_balance", "buy_offer"}
    everything = "\n".join(p.read_text() for p in (tmp_path / "data").iterdir() if p.is_file())
    for name in NAMES:
        for part in name.split():
            assert not re.search(rf"(?<!\w){re.escape(part)}(?!\w)", everything, re.IGNORECASE), part
    for phone in PHONES:  # however the digits are grouped
        assert not re.search(r"\D{0,3}".join(re.sub(r"\D", "", phone)[-7:]), everything), phone
    said = " ".join(r.user_text for r in stored)  # amounts and references tied to the caller: masked
    assert "15000" not in said and "MM-2026-0042" not in said and "[" not in said
    assert sum(result.counts["anonymised"].values()) >= len(NAMES) + len(PHONES)
    assert "anonymised" in result.card.read_text() and "sqlite:…" in result.card.read_text()


# -- fine-tuning the tiny gpt-oss --------------------------------------------------------------------
def _adapter_key(tiny_fingerprint: str) -> str:
    h = hashlib.sha256(tiny_fingerprint.encode())
    for name in ADAPT_SOURCES:
        h.update((ROOT / "voice" / "agent" / "adapt" / f"{name}.py").read_bytes())
    h.update((ROOT / "corpora" / "configs" / "agent-wol.yaml").read_bytes())
    h.update(json.dumps(TINY_RECIPE, sort_keys=True).encode())
    return h.hexdigest()[:10]


@pytest.fixture(scope="module")
def tuned(tiny_gpt_oss, wol_data, tmp_path_factory) -> dict:  # noqa: F811
    """The tiny gpt-oss fine-tuned with LoRA on Wolof phrase dialogues (cached)."""
    from voice.agent.adapt.config import AdaptConfig
    from voice.agent.adapt.train import finetune
    from voice.testing.agent_models import fingerprint

    root = fixture_cache() / f"agent-adapter-{_adapter_key(fingerprint())}"
    if not (root / "adapter" / "voice-adapter.json").exists():
        tmp = root.with_name(root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        data = subset(wol_data, tmp / "data", PHRASE_KINDS, 32, 8)
        cfg = AdaptConfig.model_validate(
            {
                "name": "tiny-gpt-oss-wol-lora",
                "language": "wol",
                "base_model": str(tiny_gpt_oss["hf"]),
                "data_dir": str(data),
                "output_dir": str(tmp / "run"),
                **TINY_RECIPE,
            }
        )
        adapter = finetune(cfg)
        shutil.copytree(adapter, tmp / "adapter")
        shutil.rmtree(tmp / "run")
        for stale in fixture_cache().glob("agent-adapter-*"):  # built from older code: never read again
            if stale != tmp:
                shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(root)
    return {"adapter": root / "adapter", "data": root / "data", "base": tiny_gpt_oss["hf"]}


def _greedy(model, prompt: list[int], n: int = 60) -> list[int]:
    from voice.testing.agent_models import greedy_completion

    return greedy_completion(model, prompt, n)[0]


@pytest.mark.slow
def test_lora_finetune_lowers_heldout_loss_and_moves_replies_to_the_data(tuned):
    from transformers import AutoModelForCausalLM

    from voice.agent.adapt.train import read_adapter_info
    from voice.agent.backends.harmony_local import HarmonyLocalBackend

    info = read_adapter_info(tuned["adapter"])
    config = json.loads((tuned["adapter"] / "adapter_config.json").read_text())
    assert config["r"] == 32 and config["lora_alpha"] == 64
    assert sorted(config["target_parameters"]) == sorted(
        f"{n}.mlp.experts.{p}" for n in (0, 1) for p in ("gate_up_proj", "down_proj")
    )
    assert info["training"]["steps"] == 60 and info["training"]["device"] == "cpu"
    assert info["trainable_params"] < info["total_params"] / 4
    before, after = info["eval_loss"]["before"], info["eval_loss"]["after"]
    assert after < 0.5 * before, (before, after)
    losses = info["training"]["losses"]
    assert sum(losses[-4:]) / 4 < 0.5 * losses[0]
    # greedy replies to held-out prompts: closer to the training data's answers than before
    enc = harmony.load_encoding()
    base = AutoModelForCausalLM.from_pretrained(str(tuned["base"])).eval()
    adapted = HarmonyLocalBackend(tuned["base"], adapter_path=tuned["adapter"]).model
    dev = read_split(tuned["data"], "dev")
    scores = {"base": [], "adapted": []}
    for r in dev:
        ex = examples(r)[0]
        gold = enc.decode(ex.completion)
        scores["base"].append(_f1(enc.decode(_greedy(base, ex.prompt)), gold))
        scores["adapted"].append(_f1(enc.decode(_greedy(adapted, ex.prompt)), gold))
    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    assert mean["adapted"] > mean["base"] + 0.1, mean


def greeting_record(data: Path) -> Record:
    """A held-out first turn greeting: its trained analysis is Wolof, the base model's is not."""
    return next(r for r in read_split(data, "dev") if r.gold["intent"] == "greeting" and r.turn == 1)


def trained_analysis(record: Record) -> str:
    return next(text_of(m) for m in record.messages() if m.channel == "analysis")


def greeting_reasoning(backend, record: Record, language: str | None = None) -> str:
    """What the backend reasons (never spoken) for the record's first turn."""
    from voice.agent.backends.base import GenerationOptions
    from voice.agent.tools import TOOL_SCHEMAS
    from voice.agent.types import Message, ReasoningDelta

    messages = [Message("system", record.instructions), Message("user", record.user_text)]
    events = backend.stream(messages, TOOL_SCHEMAS, GenerationOptions(max_tokens=80, language=language))
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


@pytest.mark.slow
def test_adapter_loads_through_the_in_process_backend(tuned):
    from peft import PeftModel

    from voice.agent.backends.harmony_local import HarmonyLocalBackend

    record = greeting_record(tuned["data"])
    adapted = HarmonyLocalBackend(tuned["base"], adapter_path=tuned["adapter"])
    assert isinstance(adapted.model, PeftModel) and adapted.adapter_path == str(tuned["adapter"])
    trained = trained_analysis(record)  # Wolof, from the config
    assert _f1(greeting_reasoning(adapted, record), trained) > 0.6
    assert _f1(greeting_reasoning(HarmonyLocalBackend(tuned["base"]), record), trained) < 0.2


# Run inside the installed pack's environment: the agent the configuration builds, then the
# greeting prompt's reasoning per language (argv: instructions, user text).
_ASK_PER_LANGUAGE = """
import json, sys
import voice_pack_wol
from voice.agent.backends.base import GenerationOptions
from voice.agent.factory import make_llm
from voice.agent.tools import TOOL_SCHEMAS
from voice.agent.types import Message, ReasoningDelta
from voice.config import get_settings

llm = make_llm(get_settings())
messages = [Message("system", sys.argv[1]), Message("user", sys.argv[2])]
out = {"pack": voice_pack_wol.__file__, "adapters": llm.adapters, "reasoning": []}
for lang in ("wol", "eng", "wol"):  # back to Wolof: the adapter is switched on again
    events = llm.stream(messages, TOOL_SCHEMAS, GenerationOptions(max_tokens=80, language=lang))
    out["reasoning"].append("".join(e.text for e in events if isinstance(e, ReasoningDelta)))
print(json.dumps(out))
"""


@pytest.mark.slow
def test_pack_bundles_the_adapter_and_the_agent_uses_it_for_its_language(tuned, tmp_path):
    """`voice packs build wol --llm-adapter`: the wheel carries the adapter, its manifest names it
    with its eval results; installed, the in-process agent uses it for Wolof turns only."""
    import yaml

    from voice.agent.adapt.export import save_eval
    from voice.packs.verify import tree_digest

    adapter = tmp_path / "adapter"
    shutil.copytree(tuned["adapter"], adapter)
    save_eval(
        adapter,
        [
            {
                "test_set": "agent-wol-dev",
                "metric": "task_success",
                "value": 0.5,
                "normaliser_version": "1",
                "model": "tiny-gpt-oss-wol-lora",
            }
        ],
    )
    voice = Path(sys.executable).parent / "voice"
    dist = tmp_path / "dist"
    proc = subprocess.run(
        [voice, "packs", "build", "wol", "--llm-adapter", str(adapter), "-o", str(dist)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        manifest = yaml.safe_load(zf.read("voice_pack_wol/manifest.yaml"))
    assert "voice_pack_wol/models/llm-adapter/adapter_model.safetensors" in names
    assert manifest["llm"]["adapter"] == "llm-adapter"
    art = next(a for a in manifest["artifacts"] if a["name"] == "llm-adapter")
    assert art["kind"] == "llm-adapter" and (art["sha256"], art["size"]) == tree_digest(adapter)
    assert {"agent-wol-dev"} <= {e["test_set"] for e in manifest["eval"]}

    site = install_wheel(wheel, tmp_path / "site")  # where a user gets it, shadowing the checkout
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "VOICE_AGENT_BACKEND": "harmony",
        "VOICE_AGENT_MODEL_PATH": str(tuned["base"]),
    }
    env.pop("VOICE_AGENT_ADAPTER_PATH", None)
    verify = subprocess.run([voice, "packs", "verify", "wol"], capture_output=True, text=True, env=env)
    assert verify.returncode == 0, verify.stderr

    record = greeting_record(tuned["data"])
    proc = subprocess.run(
        [sys.executable, "-c", _ASK_PER_LANGUAGE, record.instructions, record.user_text],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert Path(out["pack"]).is_relative_to(site)
    assert out["adapters"] == {"wol": str(site / "voice_pack_wol" / "models" / "llm-adapter")}
    trained = trained_analysis(record)
    wol, eng, wol_again = out["reasoning"]
    assert _f1(wol, trained) > 0.6  # the pack's adapter speaks for Wolof
    assert _f1(eng, trained) < 0.2  # other languages get the base model
    assert wol_again == wol

    other = tmp_path / "other"  # an adapter trained for another language is refused, not bundled
    shutil.copytree(adapter, other)
    info = json.loads((other / "voice-adapter.json").read_text())
    (other / "voice-adapter.json").write_text(json.dumps({**info, "language": "fuc"}))
    proc = subprocess.run(
        [voice, "packs", "build", "wol", "--llm-adapter", str(other), "-o", str(tmp_path / "d2")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0 and "trained for fuc" in proc.stderr


@pytest.mark.slow
def test_a_pack_adapter_that_does_not_fit_is_skipped_and_the_others_serve(tuned, tmp_path):
    """One pack's adapter does not fit the served base (here: its config says another rank than
    its weights): that language gets the base model with a warning, the others keep their
    adapters; an adapter the operator forces for every language fails loudly instead."""
    from voice.agent.backends.base import BackendError
    from voice.agent.backends.harmony_local import HarmonyLocalBackend

    bad = tmp_path / "bad"
    shutil.copytree(tuned["adapter"], bad)
    config = json.loads((bad / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps({**config, "r": 8, "lora_alpha": 16}))
    backend = HarmonyLocalBackend(tuned["base"], adapters={"fuc": bad, "wol": tuned["adapter"]})
    assert backend.adapters == {"wol": str(tuned["adapter"])}

    record = greeting_record(tuned["data"])
    trained = trained_analysis(record)
    assert _f1(greeting_reasoning(backend, record, "wol"), trained) > 0.6
    assert _f1(greeting_reasoning(backend, record, "fuc"), trained) < 0.2
    with pytest.raises(BackendError, match="cannot load LoRA adapter"):
        HarmonyLocalBackend(tuned["base"], adapter_path=bad)


@pytest.mark.slow
def test_merge_and_gguf_export_load_in_llama_cpp(tuned, tmp_path):
    import numpy as np
    import torch
    from llama_cpp import Llama

    from voice.agent.adapt.export import export_gguf, pack_fragment, save_eval
    from voice.agent.backends.harmony_local import HarmonyLocalBackend
    from voice.packs.manifest import Artifact, EvalResult, LLMConfig
    from voice.packs.verify import tree_digest

    gguf = export_gguf(
        tuned["adapter"], tmp_path / "model-f32.gguf", outtype="f32", keep_merged=tmp_path / "merged"
    )
    adapted = HarmonyLocalBackend(tuned["base"], adapter_path=tuned["adapter"]).model
    merged = HarmonyLocalBackend(tmp_path / "merged").model
    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=2, verbose=False)
    assert llm.metadata["general.architecture"] == "gpt-oss"
    try:
        for r in read_split(tuned["data"], "dev")[:3]:
            prompt = examples(r)[0].prompt
            with torch.inference_mode():
                want = adapted(input_ids=torch.tensor([prompt]), logits_to_keep=1).logits[0, -1]
                got = merged(input_ids=torch.tensor([prompt]), logits_to_keep=1).logits[0, -1]
            assert float((want - got).abs().max()) < 1e-3  # the LoRA (experts included) is merged exactly
            # llama.cpp's next-token logits, a dozen tokens into the adapted model's answer
            tokens = prompt + _greedy(merged, prompt, 12)
            with torch.inference_mode():
                hf = merged(input_ids=torch.tensor([tokens]), logits_to_keep=1).logits[0, -1].numpy()
            llm.reset()
            llm.eval(tokens)
            cpp = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),)).copy()
            assert int(cpp.argmax()) == int(hf.argmax())
            assert set(np.argsort(-cpp)[:5]) == set(np.argsort(-hf)[:5])
            assert float(np.abs(cpp - hf).max()) < 0.1
    finally:
        llm.close()
    # what `voice packs build --bundle-models` puts in the manifest
    adapter = shutil.copytree(tuned["adapter"], tmp_path / "adapter")
    entry = {
        "test_set": "agent-heldout@x",
        "metric": "agent-task-success",
        "value": 0.5,
        "normaliser_version": "1",
    }
    save_eval(adapter, [entry])
    frag = pack_fragment(adapter)
    art = Artifact.model_validate(frag["artifact"])
    assert art.kind == "llm-adapter" and (art.sha256, art.size) == tree_digest(adapter)
    assert LLMConfig.model_validate(frag["llm"]).adapter == art.name
    assert [EvalResult.model_validate(e).metric for e in frag["eval"]] == ["agent-task-success"]


# -- evaluation ---------------------------------------------------------------------------------------
def heldout_subset(src: Path, dst: Path) -> Path:
    """Held-out dialogues of different kinds: phrase, FAQ, tools, a purchase, a probe, a clarification."""
    chosen, seen = [], set()
    for d in dialogues(read_split(src, "test")):
        key = (d[-1].kind, len(d) > 1)
        if key not in seen and d[0].variant == "original":
            seen.add(key)
            chosen += d
    dst.mkdir(parents=True, exist_ok=True)
    write_jsonl(dst / "test.jsonl", chosen)
    return dst


@pytest.mark.slow
def test_eval_end_to_end_on_the_fixture_and_the_faq_route(tuned, wol_data, tmp_path):
    import yaml

    from voice.agent.adapt.evaluate import EvalOptions, evaluate, parse_model, write_manifest, write_report
    from voice.errors import BadInputError
    from voice.packs.base import LanguagePack
    from voice.packs.manifest import PackManifest

    pack = get_pack("wol")
    data = heldout_subset(wol_data, tmp_path / "heldout")
    n_dialogues = len(dialogues(read_jsonl(data / "test.jsonl")))
    assert n_dialogues >= 5
    specs = [parse_model("faq"), parse_model(str(tuned["base"])), parse_model(str(tuned["adapter"]))]
    assert specs[2].kind == "harmony" and specs[2].adapter == str(tuned["adapter"])
    report = evaluate(pack, specs, data, EvalOptions(max_tokens=96))
    j, md = write_report(report, tmp_path / "eval")
    summaries = {m["label"]: m["summary"] for m in report["models"]}
    assert len(summaries) == 3 and all(s["dialogues"] == n_dialogues for s in summaries.values())
    faq, base, adapted = (summaries[s.label] for s in specs)
    for s in summaries.values():
        for key in ("task_success", "language_fidelity", "speakable", "probe_pass", "invented_fact_turns"):
            assert s[key] is not None and 0.0 <= s[key] <= 1.0, key
        assert s["orthography"] is not None  # the Wolof pack has a lexicon
    assert faq["model_turns"] == 0.0 and base["model_turns"] > 0.5 and adapted["model_turns"] > 0.5
    assert faq["task_success"] > base["task_success"]  # the tiny model knows 3 turns, not this pack
    assert faq["tool_accuracy"] > 0.5 and faq["language_fidelity"] >= 0.5
    turns = json.loads(j.read_text())["models"][0]["turns"]
    assert len(turns) == report["turns"] and {"reply", "gold_reply", "success", "language"} <= set(turns[0])
    table = md.read_text()
    assert all(s.label in table for s in specs) and "language fidelity" in table
    # results into a pack manifest (a source checkout; here a copy of the Wolof pack)
    src = ROOT / "lang_packs" / "wolof"
    copy = tmp_path / "wolof"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("tests", "*.egg-info", "__pycache__"))
    local = LanguagePack(copy / "voice_pack_wol")
    for _ in range(2):  # written twice: replaced, not duplicated
        write_manifest(local, report)
    manifest = PackManifest.model_validate(
        yaml.safe_load((copy / "voice_pack_wol" / "manifest.yaml").read_text())
    )
    ours = [e for e in manifest.eval if e.test_set == report["test_set"]]
    assert len(ours) == len({(e.metric, e.model) for e in ours}) >= 3 * 3
    assert {e.model for e in ours} == set(summaries)
    assert any(e.metric == "accuracy" for e in manifest.eval)  # the pack's own results are kept
    (copy / "pyproject.toml").unlink()
    with pytest.raises(BadInputError, match="source checkout"):
        write_manifest(LanguagePack(copy / "voice_pack_wol"), report)


def test_faq_route_eval_through_the_cli(tmp_path):
    env_bin = Path(sys.executable).parent / "voice"
    data = tmp_path / "fuc"
    run = subprocess.run(
        [str(env_bin), "agent", "data", "--lang", "fuc", "-o", str(data), "--json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    counts = json.loads(run.stdout)["counts"]
    assert counts["splits"]["test"]["records"] == sum(1 for _ in (data / "test.jsonl").open())
    run = subprocess.run(
        [
            str(env_bin),
            "agent",
            "eval",
            "faq",
            "--lang",
            "fuc",
            "--data",
            str(data),
            "--limit",
            "8",
            "--json",
            "-o",
            str(tmp_path / "e"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["test_set"].startswith("agent-heldout@") and out["models"]["faq"]["dialogues"] == 8
    assert (tmp_path / "e" / "eval.md").exists()
    bad = subprocess.run(
        [str(env_bin), "agent", "eval", "no-such-model", "--lang", "fuc", "--data", str(data)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "not faq, a URL" in bad.stderr


# -- resuming, distillation, MXFP4 ---------------------------------------------------------------------
@pytest.mark.slow
def test_finetune_cli_resumes_from_its_checkpoint(tuned, tmp_path):
    import yaml

    cfg = {
        "language": "wol",
        "base_model": str(tuned["base"]),
        "data_dir": str(subset(tuned["data"], tmp_path / "data", PHRASE_KINDS, 6, 0)),
        "output_dir": str(tmp_path / "run"),
        "lora": {"r": 4, "alpha": 8, "expert_layers": [1]},
        "training": {
            "max_steps": 2,
            "batch_size": 1,
            "grad_accum": 1,
            "save_steps": 2,
            "gradient_checkpointing": False,
        },
    }
    path = tmp_path / "agent-tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    voice = Path(sys.executable).parent / "voice"
    first = subprocess.run([str(voice), "agent", "finetune", str(path)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-3000:]
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-2").is_dir() and "step 2/2" in first.stderr
    again = subprocess.run(
        [str(voice), "agent", "finetune", str(path), "--max-steps", "3"], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr[-3000:]
    info = json.loads((tmp_path / "run" / "adapter" / "voice-adapter.json").read_text())
    assert info["training"]["steps"] == 3 and info["training"]["resumed_from"].endswith("checkpoint-2")
    assert "resuming from" in again.stderr and "step 3/3" in again.stderr
    refused = subprocess.run(
        [str(voice), "agent", "finetune", str(path), "--no-resume"], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "already has checkpoints" in refused.stderr


def smaller_student(src: Path, dst: Path, layers: int = 1) -> Path:
    """A gpt-oss with fewer layers, initialised from the first layers of `src` (tokenizer copied)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GptOssForCausalLM

    teacher = AutoModelForCausalLM.from_pretrained(str(src))
    config = teacher.config
    config.num_hidden_layers = layers
    config.layer_types = config.layer_types[:layers]
    student = GptOssForCausalLM(config)
    state = {
        k: v
        for k, v in teacher.state_dict().items()
        if not k.startswith("model.layers.") or int(k.split(".")[2]) < layers
    }
    student.load_state_dict(state)
    student.generation_config = teacher.generation_config
    student.save_pretrained(str(dst))
    AutoTokenizer.from_pretrained(str(src)).save_pretrained(str(dst))
    return dst


@pytest.mark.slow
def test_distillation_end_to_end_with_tiny_teacher_and_student(tuned, wol_data, tmp_path):
    from voice.agent.adapt.config import AdaptConfig
    from voice.agent.adapt.distill import distill
    from voice.agent.adapt.evaluate import EvalOptions, parse_model
    from voice.agent.adapt.train import read_adapter_info

    pack = get_pack("wol")
    source = tmp_path / "source"
    subset(tuned["data"], source, PHRASE_KINDS, 10, 2)
    heldout_subset(wol_data, source)
    student = smaller_student(tuned["base"], tmp_path / "student-base")
    teacher = parse_model(str(tuned["adapter"]))
    cfg = AdaptConfig.model_validate(
        {
            "language": "wol",
            "base_model": str(student),
            **TINY_RECIPE,
            "lora": {**TINY_RECIPE["lora"], "expert_layers": [0]},
            "training": {**TINY_RECIPE["training"], "max_steps": 8, "logging_steps": 2},
        }
    )
    report = distill(pack, teacher, cfg, source, tmp_path / "out", EvalOptions(max_tokens=80, limit=3))
    labels = [m["label"] for m in report["models"]]
    assert labels == [f"teacher:{teacher.label}", "student:student-base"]
    stats = report["distill"]["teacher_data"]
    played = sum(len(dialogues(read_split(source, split))) for split in ("train", "dev"))
    assert stats["dialogues"] == played and stats["kept_turns"] > 0
    taught = read_split(tmp_path / "out" / "data", "train")
    assert taught and all(r.source == f"distill:{teacher.label}" for r in taught)
    for r in taught:
        check_round_trip(r)
        assert r.final() == r.gold["reply"]  # the teacher's own spoken answer is the target
    info = read_adapter_info(tmp_path / "out" / "student" / "adapter")
    assert info["base_model"] == str(student) and info["training"]["steps"] == 8
    assert info["training"]["losses"][-1] < info["training"]["losses"][0]
    assert all(m["summary"]["dialogues"] == 3 for m in report["models"])
    assert (tmp_path / "out" / "eval" / "eval.md").exists()


def mxfp4_checkpoint(src: Path, dst: Path) -> Path:
    """`src` with its MoE expert weights stored the way gpt-oss is published: MXFP4 blocks (two
    e2m1 values a byte, 32 a block) and e8m0 scales, plus the quantization_config saying so."""
    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file

    fp4 = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0])
    tensors = load_file(str(src / "model.safetensors"))
    out = {}
    for name, t in tensors.items():
        if not name.endswith(("mlp.experts.gate_up_proj", "mlp.experts.down_proj")):
            out[name] = t
            continue
        w = t.float().transpose(1, 2).contiguous().numpy()  # [experts, out, in]
        e, rows, cols = w.shape
        blocks = w.reshape(e, rows, cols // 32, 32)
        peak = np.abs(blocks).max(axis=-1, keepdims=True)
        exp = np.ceil(np.log2(np.maximum(peak, 1e-30) / 6.0)).clip(-127, 127)
        scaled = blocks / np.exp2(exp)
        codes = np.abs(scaled[..., None] - fp4).argmin(axis=-1).astype(np.uint8)
        packed = codes[..., 0::2] | (codes[..., 1::2] << 4)
        out[f"{name}_blocks"] = torch.from_numpy(packed)
        out[f"{name}_scales"] = torch.from_numpy((exp[..., 0] + 127).astype(np.uint8))
    dst.mkdir(parents=True, exist_ok=True)
    save_file(out, str(dst / "model.safetensors"), metadata={"format": "pt"})
    config = json.loads((src / "config.json").read_text())
    config["quantization_config"] = {
        "quant_method": "mxfp4",
        "modules_to_not_convert": [
            "model.layers.*.self_attn",
            "model.layers.*.mlp.router",
            "model.embed_tokens",
            "lm_head",
        ],
    }
    (dst / "config.json").write_text(json.dumps(config))
    for f in src.iterdir():
        if f.name not in ("config.json", "model.safetensors"):
            shutil.copy2(f, dst / f.name)
    return dst


@pytest.mark.slow
def test_mxfp4_checkpoint_is_dequantized_at_load(tuned, tmp_path):
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from voice.agent.adapt.config import AdaptConfig
    from voice.agent.adapt.train import is_mxfp4, load_base, lora_config

    quantized = mxfp4_checkpoint(tuned["base"], tmp_path / "mxfp4")
    assert is_mxfp4(str(quantized)) and not is_mxfp4(str(tuned["base"]))
    model, mxfp4 = load_base(str(quantized), torch.float32, "cpu")
    assert mxfp4 and model.dtype == torch.float32 and not getattr(model.config, "quantization_config", None)
    original = AutoModelForCausalLM.from_pretrained(str(tuned["base"]))
    with torch.no_grad():
        pairs = [
            (getattr(layer.mlp.experts, p), getattr(ref.mlp.experts, p))
            for layer, ref in zip(model.model.layers, original.model.layers, strict=True)
            for p in ("gate_up_proj", "down_proj")
        ]
        for got, want in pairs:
            assert got.shape == want.shape and got.dtype == torch.float32
            assert float((got - want).abs().max()) <= 0.25 * float(want.abs().max())  # FP4 rounding, no more
            assert float((got - want).abs().max()) > 0  # really went through MXFP4
    cfg = AdaptConfig.model_validate({"language": "wol", "base_model": str(quantized), **TINY_RECIPE})
    peft_model = get_peft_model(model, lora_config(cfg, model.config.num_hidden_layers))
    ids = torch.tensor([examples(read_split(tuned["data"], "dev")[0])[0].input_ids])
    loss = peft_model(input_ids=ids, labels=ids).loss
    loss.backward()
    grads = [p.grad for n, p in peft_model.named_parameters() if p.requires_grad and "experts" in n]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
