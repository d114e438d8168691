"""`voice agent eval`: held-out customer-service dialogues, played through the real agent.

Each model answers the test split of `voice agent data` (built from the pack only), dialogue by
dialogue, turn by turn, through `voice.agent.loop.Agent` with the real executor over the demo
backend (reset per dialogue, as when the data was built). LLM models get every turn except the
agent's own safety step (the confirmation of a purchase it asked for, and an explicit request for
a person, both handled by the FAQ route by design); `faq` is the deployed FAQ route alone.

Scores, per model:
- task success: a turn succeeds when the tools called are the gold ones (name and key
  arguments: offer, reference, ticket category) and the reply carries the gold reply's facts
  (numbers, codes, references, tickets) or, with no facts, is close to it (token F1 >= 0.5);
  dialogue success: all its turns succeed;
- tool accuracy (turns with gold tools) and FAQ accuracy (turns answered from the knowledge base);
- language fidelity: share of replies, verbalised by the pack, that the pack's LanguageIdentifier
  assigns to the target language (target >= 95 %);
- orthography: share of reply words in the pack's lexicon (data/lexicon.txt), when there is one;
- speakability: words per reply, share of replies of at most 60 words without markdown;
- hand-off: recall on turns whose gold hands off, and the rate of hand-offs where gold has none;
- hallucination probes: questions neither KB nor tools answer must get "I don't know" with a
  hand-off offer (close to the pack's dont_know phrase, or a transfer) and no invented fact;
  invented facts are also counted on every turn (numbers, codes or references in the reply that
  are in neither the agent's prompt, the caller's words, the history nor the tool results).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from voice.agent.adapt.records import Record, data_fingerprint, dialogues, read_split
from voice.errors import BadInputError
from voice.packs import LanguagePack

log = logging.getLogger(__name__)

KEY_ARGS = {"buy_offer": ("offer_id",), "mobile_money_status": ("reference",), "create_ticket": ("category",)}
FAQ_F1 = 0.5
DONT_KNOW_F1 = 0.4
SPEAKABLE_WORDS = 60
FIDELITY_TARGET = 0.95
_FACT = re.compile(r"MM-\d{4}-\d{4}|T\d{6}|[*#][\d*#]*\d[\d*#]*|\d{1,3}(?:[ .\u202f\u00a0]\d{3})+|\d+", re.I)
_MARKDOWN = re.compile(r"\*\*|__|^\s*[-•]\s|^\s*\d+\.\s|(^|\n)\s*#{1,6}\s|\|.*\|", re.M)


# -- models ----------------------------------------------------------------------------------
@dataclass
class ModelSpec:
    label: str
    kind: str  # faq | harmony | gguf | openai
    target: str = ""  # path or URL
    adapter: str | None = None
    model_name: str | None = None  # for OpenAI-compatible servers

    def backend(self, threads: int | None = None):
        if self.kind == "faq":
            return None
        if self.kind == "harmony":
            from voice.agent.backends.harmony_local import HarmonyLocalBackend

            return HarmonyLocalBackend(self.target, adapter_path=self.adapter, threads=threads)
        if self.kind == "gguf":
            from voice.agent.backends.llamacpp import LlamaCppBackend

            return LlamaCppBackend(self.target, threads=threads)
        from voice.agent.backends.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(self.target, self.model_name)


def parse_model(spec: str, adapter: str | None = None, model_name: str | None = None) -> ModelSpec:
    """`faq`, an http(s) URL (OpenAI-compatible), a .gguf file, a transformers dir (or hub id), or
    an adapter dir written by `voice agent finetune` (its base model comes from its metadata)."""
    if spec == "faq":
        return ModelSpec("faq", "faq")
    if spec.startswith(("http://", "https://")):
        return ModelSpec(model_name or spec, "openai", spec, model_name=model_name)
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise BadInputError(f"no GGUF file at {path}")
        return ModelSpec(path.name, "gguf", str(path))
    if (path / "adapter_config.json").exists() and not (path / "config.json").exists():
        from voice.agent.adapt.train import read_adapter_info

        info = read_adapter_info(path)
        return ModelSpec(
            f"{Path(info['base_model']).name}+{path.parent.name}", "harmony", info["base_model"], str(path)
        )
    if not (path / "config.json").exists():
        if re.fullmatch(r"[\w.-]+/[\w.-]+", spec) and not path.exists():  # a hub id (downloaded when online)
            return ModelSpec(
                spec + (f"+{Path(adapter).parent.name}" if adapter else ""), "harmony", spec, adapter
            )
        raise BadInputError(f"{spec}: not faq, a URL, a .gguf file, a model dir, an adapter dir or a hub id")
    label = path.name if path.name not in ("hf", "merged") else f"{path.parent.name}/{path.name}"
    if adapter:
        label = (
            f"{label}+{Path(adapter).parent.name if Path(adapter).name == 'adapter' else Path(adapter).name}"
        )
    return ModelSpec(label, "harmony", str(path), adapter)


# -- scoring helpers ------------------------------------------------------------------------------------
def facts(text: str) -> set[str]:
    out = set()
    for m in _FACT.finditer(text or ""):
        f = m.group(0)
        out.add(f.upper() if f[:1] in "MmTt" else re.sub(r"[ .\u202f\u00a0]", "", f))
    return out


def token_f1(pack: LanguagePack, a: str, b: str) -> float:
    x, y = pack.normalise(a).split(), pack.normalise(b).split()
    common = sum((Counter(x) & Counter(y)).values())
    return 0.0 if common == 0 else 2 * common / (len(x) + len(y))


@lru_cache(maxsize=8)
def _lexicon(path: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in Path(path).read_text(encoding="utf-8").split())


def lexicon_for(pack: LanguagePack) -> frozenset[str] | None:
    path = pack.artifact_path("lexicon") or pack.package_dir / "data" / "lexicon.txt"
    return _lexicon(str(path)) if path.exists() else None


def _calls(calls: list[dict]) -> list[tuple[str, tuple]]:
    out = []
    for c in calls:
        args = c.get("arguments") or {}
        key = tuple(str(args.get(k, "")).strip().upper() for k in KEY_ARGS.get(c["name"], ()))
        if not out or out[-1] != (c["name"], key):  # a repeated identical call counts once
            out.append((c["name"], key))
    return out


@dataclass
class TurnScore:
    dialogue: str
    turn: int
    kind: str
    user: str
    gold_reply: str
    reply: str
    route: str
    gold_tools: list
    tools: list
    tools_ok: bool
    reply_ok: bool
    success: bool
    language: str
    in_language: bool
    lexicon_share: float | None
    words: int
    speakable: bool
    gold_handoff: bool
    handoff: bool
    invented: list[str]
    probe_ok: bool | None
    error: str | None = None

    def to_json(self) -> dict:
        return self.__dict__


def score_turn(
    pack, lid, lexicon, record: Record, result, allowed_text: str, error: str | None = None
) -> TurnScore:
    gold = record.gold
    reply = result.reply if result is not None else ""
    tools = result.tool_calls if result is not None else []
    gold_tools = _calls(gold["tool_calls"])
    got_tools = _calls(tools)
    tools_ok = gold_tools == got_tools
    gold_facts = facts(gold["reply"])
    # a reply must carry the gold reply's facts; without facts, say nearly the same thing
    reply_ok = gold_facts <= facts(reply) if gold_facts else token_f1(pack, reply, gold["reply"]) >= FAQ_F1
    handoff = bool(result and (result.handoff or any(c["name"] == "transfer_to_human" for c in tools)))
    gold_handoff = bool(gold.get("handoff"))
    spoken = pack.verbalise(reply) if reply.strip() else ""
    language = lid.identify(spoken)[0] if spoken else ""
    words = [w for w in pack.normalise(reply).split() if not any(ch.isdigit() for ch in w)]
    share = None
    if lexicon is not None and words:
        share = sum(w in lexicon for w in words) / len(words)
    allowed = facts(allowed_text) | {f for c in tools for f in facts(json.dumps(c.get("result", {})))}
    invented = sorted(facts(reply) - allowed)
    probe_ok = None
    if record.kind == "probe":
        from voice.packs.phrases import phrase

        offers = token_f1(pack, reply, phrase(pack, "dont_know")) >= DONT_KNOW_F1 or handoff
        probe_ok = offers and not invented
    success = tools_ok and (reply_ok if record.kind != "probe" else bool(probe_ok))
    return TurnScore(
        dialogue=record.dialogue,
        turn=record.turn,
        kind=record.kind,
        user=record.user_text,
        gold_reply=gold["reply"],
        reply=reply,
        route=result.route if result is not None else "error",
        gold_tools=[list(t) for t in gold_tools],
        tools=[list(t) for t in got_tools],
        tools_ok=tools_ok,
        reply_ok=reply_ok,
        success=success,
        language=language,
        in_language=language == pack.code,
        lexicon_share=share,
        words=len(reply.split()),
        speakable=bool(reply.strip())
        and len(reply.split()) <= SPEAKABLE_WORDS
        and not _MARKDOWN.search(reply),
        gold_handoff=gold_handoff,
        handoff=handoff,
        invented=invented,
        probe_ok=probe_ok,
        error=error,
    )


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(turns: list[TurnScore], seconds: float) -> dict:
    by_dialogue: dict[str, list[TurnScore]] = {}
    for t in turns:
        by_dialogue.setdefault(t.dialogue, []).append(t)
    replied = [t for t in turns if t.reply.strip()]
    lex = [t.lexicon_share for t in replied if t.lexicon_share is not None]
    probes = [t for t in turns if t.kind == "probe"]
    n_dialogues = len(by_dialogue)
    return {
        "dialogues": n_dialogues,
        "turns": len(turns),
        "model_turns": _share([t.route == "llm" for t in turns]),
        "task_success": _share([t.success for t in turns]),
        "dialogue_success": _share([all(x.success for x in d) for d in by_dialogue.values()]),
        "tool_accuracy": _share([t.tools_ok for t in turns if t.gold_tools]),
        "faq_accuracy": _share([t.reply_ok and t.tools_ok for t in turns if t.kind == "faq"]),
        "language_fidelity": _share([t.in_language for t in replied]),
        "orthography": round(sum(lex) / len(lex), 4) if lex else None,
        "mean_words": round(sum(t.words for t in replied) / len(replied), 1) if replied else 0.0,
        "speakable": _share([t.speakable for t in turns]),
        "handoff_recall": _share([t.handoff for t in turns if t.gold_handoff]),
        "false_handoff": _share([t.handoff for t in turns if not t.gold_handoff and t.kind != "probe"]),
        "probe_pass": _share([bool(t.probe_ok) for t in probes]),
        "invented_fact_turns": _share([bool(t.invented) for t in turns]),
        "errors": sum(1 for t in turns if t.error),
        "seconds": round(seconds, 2),
        "dialogues_per_s": round(n_dialogues / seconds, 3) if seconds > 0 else None,
    }


# -- running ------------------------------------------------------------------------------------
@dataclass
class EvalOptions:
    max_tokens: int = 400
    reasoning_effort: str = "low"
    turn_timeout_s: float = 120.0
    limit: int | None = None  # dialogues
    threads: int | None = None


@dataclass
class ModelResult:
    spec: ModelSpec
    summary: dict
    turns: list[TurnScore] = field(default_factory=list)


def load_heldout(data_dir: str | Path, limit: int | None = None) -> list[list[Record]]:
    records = read_split(data_dir, "test")
    if not records:
        raise BadInputError(f"{data_dir}: no test.jsonl (build it with `voice agent data`)")
    ds = dialogues(records)
    return ds[:limit] if limit else ds


def run_model(
    pack: LanguagePack,
    spec: ModelSpec,
    heldout: list[list[Record]],
    options: EvalOptions,
    backend=None,
    progress: Callable[[str], None] | None = None,
) -> ModelResult:
    from voice.agent.adapt.oracle import demo_business, dialogue_seed
    from voice.agent.backends.base import BackendError
    from voice.agent.loop import Agent, grounding
    from voice.agent.router import pack_index
    from voice.agent.session import Session
    from voice.config import AgentSettings
    from voice.packs.langid import LanguageIdentifier

    lid = LanguageIdentifier.installed()
    lexicon = lexicon_for(pack)
    llm = backend if backend is not None else spec.backend(options.threads)
    common = {
        "max_tokens": options.max_tokens,
        "reasoning_effort": options.reasoning_effort,
        "turn_timeout_s": options.turn_timeout_s,
    }
    # LLM models answer every turn but the agent's own safety steps (see the module docstring)
    settings = AgentSettings(**common) if llm is None else AgentSettings(faq_threshold=2.0, **common)
    index = pack_index(pack.code)
    phrases = " ".join(pack.content.phrases.values())  # the operator's approved canned text
    turns: list[TurnScore] = []
    t0 = time.perf_counter()
    with demo_business() as business:
        agent = Agent(business, llm, settings)
        for n, dialogue in enumerate(heldout, start=1):
            business.reset(dialogue_seed(dialogue[0].dialogue))
            session = Session(pack.code, dialogue[0].caller)
            for record in dialogue:
                history = " ".join(m.content for m in session.history)
                allowed = " ".join(
                    [
                        grounding(pack, index, record.user_text, settings.kb_entries),
                        history,
                        record.user_text,
                        phrases,
                    ]
                )
                result, error = None, None
                try:
                    result = agent.respond(session, record.user_text)
                except (BackendError, RuntimeError, ValueError) as exc:  # a broken model: scored as failed
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning("%s failed on %s: %s", spec.label, record.id, error)
                turns.append(score_turn(pack, lid, lexicon, record, result, allowed, error))
            if progress and (n % 10 == 0 or n == len(heldout)):
                progress(f"{spec.label}: {n}/{len(heldout)} dialogues")
    summary = summarise(turns, time.perf_counter() - t0)
    return ModelResult(spec, summary, turns)


def evaluate(
    pack: LanguagePack,
    specs: list[ModelSpec],
    data_dir: str | Path,
    options: EvalOptions | None = None,
    progress: Callable[[str], None] | None = None,
    backends: dict[str, object] | None = None,
) -> dict:
    options = options or EvalOptions()
    heldout = load_heldout(data_dir, options.limit)
    results = []
    for spec in specs:
        backend = (backends or {}).get(spec.label)
        results.append(run_model(pack, spec, heldout, options, backend, progress))
    return {
        "language": pack.code,
        "test_set": test_set_name(data_dir),
        "data_dir": str(data_dir),
        "dialogues": len(heldout),
        "turns": sum(len(d) for d in heldout),
        "options": options.__dict__,
        "models": [
            {
                "label": r.spec.label,
                "kind": r.spec.kind,
                "target": r.spec.target,
                "adapter": r.spec.adapter,
                "summary": r.summary,
                "turns": [t.to_json() for t in r.turns],
            }
            for r in results
        ],
    }


def test_set_name(data_dir: str | Path) -> str:
    return f"agent-heldout@{data_fingerprint(data_dir)}"


# -- reporting ------------------------------------------------------------------------------------
COLUMNS = [
    ("task_success", "task success (turns)"),
    ("dialogue_success", "dialogue success"),
    ("tool_accuracy", "right tool + arguments"),
    ("faq_accuracy", "right FAQ answer"),
    ("language_fidelity", "language fidelity"),
    ("orthography", "words in the lexicon"),
    ("mean_words", "words per reply"),
    ("speakable", "speakable replies"),
    ("handoff_recall", "hand-off when due"),
    ("false_handoff", "hand-off when not"),
    ("probe_pass", "probes: I don't know + offer"),
    ("invented_fact_turns", "turns with invented facts"),
    ("model_turns", "turns answered by the model"),
    ("dialogues_per_s", "dialogues/s"),
]


def cell(key: str, value) -> str:
    if value is None:
        return "-"
    if key in ("mean_words", "dialogues_per_s"):
        return f"{value}"
    text = f"{100 * value:.1f}%"
    if key == "language_fidelity":
        text += " ✓" if value >= FIDELITY_TARGET else " ✗"
    return text


def table_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """One column per model, one row per metric (header, rows)."""
    header = ["metric", *(m["label"] for m in report["models"])]
    rows = [[name, *(cell(key, m["summary"].get(key)) for m in report["models"])] for key, name in COLUMNS]
    return header, rows


def markdown(report: dict) -> str:
    header, rows = table_rows(report)
    lines = [
        f"# Agent evaluation: {report['language']} ({report['test_set']})",
        "",
        f"{report['dialogues']} held-out dialogues, {report['turns']} turns. Language-fidelity target "
        f"{int(FIDELITY_TARGET * 100)} %.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    return "\n".join(lines)


def write_report(report: dict, out_dir: str | Path) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    j = out / "eval.json"
    j.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    m = out / "eval.md"
    m.write_text(markdown(report), encoding="utf-8")
    return j, m


MANIFEST_METRICS = {
    "task_success": "agent-task-success",
    "language_fidelity": "agent-language-fidelity",
    "orthography": "agent-orthography",
    "probe_pass": "agent-probe-pass",
    "handoff_recall": "agent-handoff-recall",
}


def eval_results(report: dict, model_label: str, normaliser_version: str) -> list[dict]:
    """The pack manifest's eval entries (voice.packs.manifest.EvalResult) for one model."""
    from voice.packs.manifest import EvalResult

    m = next((x for x in report["models"] if x["label"] == model_label), None)
    if m is None:
        raise BadInputError(f"no model {model_label!r} in the report")
    s = m["summary"]
    out = []
    for key, metric in MANIFEST_METRICS.items():
        if s.get(key) is None:
            continue
        out.append(
            EvalResult(
                test_set=report["test_set"],
                metric=metric,
                value=s[key],
                normaliser_version=normaliser_version,
                model=model_label,
                note=f"{s['dialogues']} held-out dialogues, {s['turns']} turns; voice agent eval",
            ).model_dump(exclude_none=True)
        )
    return out


def write_manifest(pack: LanguagePack, report: dict, labels: list[str] | None = None) -> Path:
    """Put the results into the pack's manifest (a source checkout only): entries for the same
    test set, metric and model are replaced."""
    import yaml

    from voice.packs.manifest import PackManifest

    if not (pack.package_dir.parent / "pyproject.toml").exists():
        raise BadInputError(
            f"pack {pack.code} is installed from a wheel ({pack.package_dir}); --write-manifest needs its "
            "source checkout (pip install -e lang_packs/<name>)"
        )
    path = pack.package_dir / "manifest.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels = labels or [m["label"] for m in report["models"]]
    new = [e for label in labels for e in eval_results(report, label, pack.manifest.normaliser_version)]
    keys = {(e["test_set"].split("@")[0], e["metric"], e.get("model")) for e in new}
    kept = [
        e
        for e in data.get("eval", []) or []
        if (e["test_set"].split("@")[0], e["metric"], e.get("model")) not in keys
    ]
    data["eval"] = kept + new
    PackManifest.model_validate(data)  # never write a manifest the pack could not load
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
