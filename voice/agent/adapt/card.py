"""Markdown cards: the data card of `voice agent data` and the training card of an adapter."""

from __future__ import annotations

from voice.agent.adapt.analysis import Analysis
from voice.packs import LanguagePack

REVIEW = [
    "the analysis (reasoning) templates in the language (`data.analysis` of the config): the "
    "model learns to reason with these sentences",
    "the French code-switched variants (made by substituting glossary terms): unnatural mixes "
    "must be removed or fixed",
    "the hallucination probes and the pack's `dont_know` phrase",
    "the pack's FAQ answers, phrases and templates: the model learns them verbatim",
    "a sample of the stored callers' turns after anonymisation: names and numbers said in words "
    "are not masked",
]


def _table(rows: list[list[object]], header: list[str]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def data_card(pack: LanguagePack, info: dict, analysis: Analysis) -> str:
    m = pack.manifest
    counts = info["counts"]
    content = m.artifact("content")
    content_licence = content.licence if content else m.licence
    sources = [
        [
            "pack content (FAQ, intents, phrases, templates, glossary, system prompt)",
            f"{pack.code} {m.version}"
            + (f", sha256 {content.sha256[:12]}" if content and content.sha256 else ""),
            content_licence,
            content.source if content else "the pack",
        ],
        ["tool schemas", "voice/agent/tools.py", "Apache-2.0", "teranga-voice"],
        [
            "tool results",
            "the real executor over the demo backend (temporary SQLite)",
            "Apache-2.0",
            "synthetic customers and offers (docs/demo-operator.md)",
        ],
        [
            "analysis templates",
            info["config"] or "built-in English defaults",
            "Apache-2.0",
            f"written for teranga-voice in `{analysis.language}`; needs native-speaker review",
        ],
    ]
    if info["options"].get("probes"):
        sources.append(
            ["hallucination probes", info["config"] or "-", "Apache-2.0", "written for teranga-voice; review"]
        )
    if counts.get("stored_dialogues"):
        sources.append(
            [
                "stored calls and threads (callers' words only, anonymised)",
                info.get("stored_db") or "-",
                "the operator's data",
                "not for publication: keep inside the operator",
            ]
        )
    splits = counts["splits"]
    kinds = sorted({k.split(":", 1)[1] for s in splits.values() for k in s if k.startswith("kind:")})
    src = sorted({k.split(":", 1)[1] for s in splits.values() for k in s if k.startswith("source:")})
    var = sorted({k.split(":", 1)[1] for s in splits.values() for k in s if k.startswith("variant:")})
    rows = []
    for split in ("train", "dev", "test"):
        s = splits.get(split, {})
        rows.append(
            [split, counts["dialogues_per_split"].get(split, 0), s.get("records", 0)]
            + [s.get(f"kind:{k}", 0) for k in kinds]
        )
    by_source = [[split] + [splits.get(split, {}).get(f"source:{k}", 0) for k in src] for split in splits]
    by_variant = [[split] + [splits.get(split, {}).get(f"variant:{k}", 0) for k in var] for split in splits]
    tok = counts.get("tokens", {})
    anon = counts.get("anonymised", {})
    cov = counts.get("analysis", {})
    opts = info["options"]
    lines = [
        f"# Agent dialogue data: {m.names.en} ({m.names.native}, `{pack.code}`)",
        "",
        f"Built by `voice agent data --lang {pack.code}` from pack {pack.code} {m.version}"
        + (f" with {info['config']}" if info["config"] else "")
        + ". One JSON line per agent turn: the harmony conversation the agent's LLM sees at that "
        "turn (system, developer = the agent's grounding prompt naming the language + tool schemas, "
        "history, the caller's turn) and the gold answer (analysis, tool calls with the executor's "
        "results, final), plus the gold fields used by `voice agent eval`.",
        "",
        "## Sources and licences",
        "",
        _table(sources, ["source", "what", "licence", "origin"]),
        "",
        "## Counts",
        "",
        _table(rows, ["split", "dialogues", "turns", *kinds]),
        "",
        _table(by_source, ["split", *src]),
        "",
        _table(by_variant, ["split", *var]),
        "",
        f"- training sequences (one per agent turn): {counts['records']}, tokens mean "
        f"{tok.get('sequence_mean', '-')}, max {tok.get('sequence_max', '-')}; the assistant's (the loss): "
        f"mean {tok.get('target_mean', '-')} a turn, {counts.get('actions', 0)} actions (calls + finals)",
        "- duplicates dropped (same callers' words after the pack's normaliser): "
        f"{counts['duplicates_dropped']}",
        f"- analysis templates: {cov.get('config', 0)} situations in `{cov.get('language', '?')}` from the "
        f"config, {cov.get('default', 0)} from the English defaults",
        f"- splits: by utterance group, stratified by intent; dev {opts['dev_share']}, test "
        f"{opts['test_share']} (probes {opts['probe_test_share']}); seed {opts['seed']}",
    ]
    if counts.get("stored_dialogues"):
        lines += [
            f"- stored dialogues: {counts['stored_dialogues']}; turns the FAQ route did not understand "
            f"(confidence < {opts['stored_min_confidence']}; skipped): "
            f"{counts['stored_turns_not_understood']}",
            "- anonymised (masked, then replaced by stand-ins): "
            + (", ".join(f"{k} {v}" for k, v in sorted(anon.items())) or "nothing found"),
        ]
    lines += [
        "",
        "## Before an adapter trained on this is published, a native speaker reviews",
        "",
        *[f"{i}. {r}" for i, r in enumerate(REVIEW, start=1)],
        "",
        "The test split is built from the pack only, so it can be published with the pack's eval "
        "results; stored data (if any) stays in train/dev.",
        "",
    ]
    return "\n".join(lines)


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def training_card(info: dict) -> str:
    t = info["training"]
    d = info["data"]
    lora = info["lora"]
    ev = info.get("eval_loss", {})
    lines = [
        f"# {info['name']}: LoRA adapter for {info['base_model']} ({info['language']})",
        "",
        f"Trained by `voice agent finetune` (TRL SFTTrainer + PEFT) on `voice agent data` output "
        f"{info['data']['fingerprint']}: {info['data']['train_examples']} training sequences (agent turns), "
        f"{d.get('train_tokens', 0):,} tokens of which {d.get('train_target_tokens', 0):,} are the "
        f"assistant's; {d['dev_examples']} dev sequences.",
        "",
        "## Recipe",
        "",
        f"- base: {info['base_model']}" + (" (MXFP4, dequantized at load)" if info.get("mxfp4") else ""),
        f"- LoRA r={lora['r']} alpha={lora['alpha']} dropout={lora['dropout']} on {lora['target_modules']}"
        + (
            f" + expert weights {', '.join(lora['target_parameters'])}"
            if lora.get("target_parameters")
            else ""
        ),
        f"- trainable parameters: {info['trainable_params']:,} of {info['total_params']:,}",
        f"- {t['steps']} steps, effective batch {t['effective_batch']}, lr {t['learning_rate']} "
        f"({t['lr_scheduler']}), max length {t['max_length']}, {t['precision']} on {t['device']}",
        f"- loss on the assistant's actions only (analysis, tool calls, final); {t['dropped_too_long']} "
        f"turns longer than max_length dropped",
        f"- wall time {t['train_s']:.0f} s, {t['samples_per_s']:.2f} samples/s",
        "",
        "## Held-out loss (dev split)",
        "",
        f"- before: {_loss(ev.get('before'))}",
        f"- after: {_loss(ev.get('after'))}",
        "",
        f"Licence: {info['licence']}. Data: see the data card in the data directory.",
        "",
    ]
    if info.get("eval"):
        lines += ["## Agent evaluation", ""]
        lines += [f"- {e['metric']}: {e['value']:.3f} on {e['test_set']}" for e in info["eval"]]
        lines.append("")
    return "\n".join(lines)
