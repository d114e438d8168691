"""`voice agent data`: supervised customer-service conversations for one language, in harmony form.

Sources, all turned into the same records (voice.agent.adapt.records):
- the pack's FAQ questions (answer: what the agent's FAQ route answers, tools included);
- the pack's intent examples, as tool-use dialogues: balance, offers, purchase with a confirmation
  turn (yes, no, not enough airtime), mobile-money status (with or without the reference: the
  agent asks for it), lost SIM, network ticket, hand-off, greetings and thanks;
- hallucination probes from the language's config (gold: the pack's dont_know phrase);
- the operator's stored calls and WhatsApp threads, anonymised (callers' words only);
- variants: a French code-switched copy of each utterance (the pack's glossary, native word ->
  French term) and dialogues opened by a greeting first.
Every tool result comes from the real executor over the demo backend in a temporary database.
Dedup on the callers' normalised words; train/dev/test split by utterance group, stratified by
intent (variants of one utterance never straddle splits; stored data never goes to test).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voice.agent.adapt.analysis import Analysis
from voice.agent.adapt.anonymise import Anonymiser, numbers_from, vocabulary_from
from voice.agent.adapt.config import DataOptions
from voice.agent.adapt.oracle import GoldTurn, Oracle, demo_business, dialogue_seed
from voice.agent.adapt.records import (
    Record,
    check_round_trip,
    examples,
    sequence,
    to_conversation,
    write_jsonl,
)
from voice.agent.demo_backend import CUSTOMERS, DEMO_CALLER, OFFERS, TRANSFERS
from voice.agent.faq import find_offer, find_reference
from voice.agent.session import Session
from voice.agent.types import Message
from voice.packs import LanguagePack

SKIP_INTENTS = {"confirm_yes", "confirm_no"}  # only meaningful inside a purchase dialogue


@dataclass
class TurnSpec:
    text: str
    how: str  # intent | faq | confirm | probe | stored
    arg: str | bool | None = None


@dataclass
class DialogueSpec:
    source: str  # faq | intent | probe | stored
    group: str
    stratum: str
    caller: str
    turns: list[TurnSpec]
    variant: str = "original"
    split: str = "train"
    id: str = ""


@dataclass
class BuildResult:
    out_dir: Path
    counts: dict
    card: Path
    files: dict[str, Path] = field(default_factory=dict)


# -- code-switching -------------------------------------------------------------------------------
def code_switch_table(pack: LanguagePack) -> list[tuple[re.Pattern, str]]:
    """(native word pattern, French term) from the pack's glossary, longest words first.

    The French term is the first of the term's alternatives ("crédit / airtime"); natives shorter
    than 4 letters are left alone (short words are too often homonyms: Wolof "fan" is "day" and
    "where"); notes in parentheses and after ";" are ignored."""
    pairs: list[tuple[str, str]] = []
    for g in pack.content.glossary:
        terms = [t.strip() for t in g.term.split("/") if t.strip()]
        if not terms:
            continue
        french = terms[0]
        known = {pack.normalise(t) for t in terms}
        natives = re.sub(r"\([^)]*\)|;.*", "", g.native)
        for native in (n.strip() for n in re.split(r"[,/]", natives)):
            if len(native) >= 4 and pack.normalise(native) not in known and not native.isupper():
                pairs.append((native, french))
    pairs.sort(key=lambda p: -len(p[0]))
    return [(re.compile(rf"(?<!\w){re.escape(n)}(?!\w)", re.IGNORECASE), fr) for n, fr in pairs]


def code_switch(text: str, table: list[tuple[re.Pattern, str]]) -> str:
    for pattern, french in table:
        text = pattern.sub(
            lambda m, fr=french: fr[:1].upper() + fr[1:] if m.group(0)[:1].isupper() else fr, text
        )
    return text


# -- dialogue specs ----------------------------------------------------------------------------------
def _owner(reference: str) -> str | None:
    return next((phone for ref, phone, *_ in TRANSFERS if ref == reference), None)


def pack_dialogues(pack: LanguagePack, options: DataOptions) -> list[DialogueSpec]:
    c = pack.content
    rng = random.Random(options.seed)
    yes = c.intents["confirm_yes"].examples
    no = c.intents["confirm_no"].examples
    callers = [p for p, *_ in CUSTOMERS]
    specs: list[DialogueSpec] = []
    for entry in c.faq:
        for qi, q in enumerate(entry.questions):
            specs.append(
                DialogueSpec(
                    "faq", f"faq:{entry.id}:{qi}", "faq", DEMO_CALLER, [TurnSpec(q, "faq", entry.id)]
                )
            )
    for intent, spec in c.intents.items():
        if intent in SKIP_INTENTS:
            continue
        for ei, ex in enumerate(spec.examples):
            group, stratum = f"intent:{intent}:{ei}", f"intent:{intent}"
            caller, turns = DEMO_CALLER, [TurnSpec(ex, "intent", intent)]
            if intent == "buy_offer":
                caller = callers[ei % len(callers)]
                if find_offer(ex, OFFERS, pack) is None:
                    turns.append(TurnSpec(OFFERS[ei % len(OFFERS)].name, "intent", "buy_offer"))
                agree = ei % 3 != 2
                pool = yes if agree else no
                turns.append(TurnSpec(pool[ei % len(pool)], "confirm", agree))
            elif intent == "mobile_money_status":
                ref = find_reference(ex)
                if ref is None:
                    ref, owner, _amount, _status, _to = TRANSFERS[ei % len(TRANSFERS)]
                    caller = owner if ei % 4 != 3 else DEMO_CALLER  # one in four: not the caller's
                    turns.append(TurnSpec(ref, "intent", "mobile_money_status"))
                else:
                    caller = _owner(ref) if ei % 4 != 3 and _owner(ref) else DEMO_CALLER
            elif intent in ("check_balance", "lost_sim"):
                caller = callers[ei % len(callers)]
            specs.append(DialogueSpec("intent", group, stratum, caller, turns))
    for pi, probe in enumerate(options.probes):
        specs.append(DialogueSpec("probe", f"probe:{pi}", "probe", DEMO_CALLER, [TurnSpec(probe, "probe")]))
    # variants: French code-switching, and a greeting first
    table = code_switch_table(pack) if options.code_switch else []
    greetings = c.intents["greeting"].examples
    out: list[DialogueSpec] = []
    for s in specs:
        out.append(s)
        if table and s.source != "probe":
            switched = code_switch(s.turns[0].text, table)
            if switched != s.turns[0].text:
                first = TurnSpec(switched, s.turns[0].how, s.turns[0].arg)
                out.append(
                    DialogueSpec(s.source, s.group, s.stratum, s.caller, [first, *s.turns[1:]], "code-switch")
                )
        if s.stratum != "intent:greeting" and rng.random() < options.greeting_prefix_share:
            hello = TurnSpec(rng.choice(greetings), "intent", "greeting")
            out.append(
                DialogueSpec(s.source, s.group, s.stratum, s.caller, [hello, *s.turns], "greeting-first")
            )
    return out


def _hash(*parts: object) -> str:
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()


def assign_splits(specs: list[DialogueSpec], options: DataOptions) -> None:
    """Stratified by intent (FAQ, probes apart); a group's dialogues share a split; stored -> train/dev."""
    strata: dict[str, list[str]] = {}
    for s in specs:
        groups = strata.setdefault(s.stratum, [])
        if s.group not in groups:
            groups.append(s.group)
    split_of: dict[str, str] = {}
    for stratum, groups in strata.items():
        ordered = sorted(groups, key=lambda g: _hash(options.seed, g))
        n = len(ordered)
        test_share = 0.0 if stratum == "stored" else options.test_share
        if stratum == "probe":
            test_share = options.probe_test_share
        n_test = round(n * test_share)
        if test_share > 0 and n_test == 0 and n >= 3:
            n_test = 1
        n_dev = round(n * options.dev_share)
        if options.dev_share > 0 and n_dev == 0 and n - n_test >= 4:
            n_dev = 1
        for i, g in enumerate(ordered):
            split_of[g] = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
    for s in specs:
        s.split = split_of[s.group]


# -- running the dialogues -----------------------------------------------------------------------------
def run_dialogue(oracle: Oracle, spec: DialogueSpec, agent=None) -> list[Record]:
    pack = oracle.pack
    oracle.business.reset(dialogue_seed(spec.id))
    session = Session(pack.code, spec.caller)
    history: list[Message] = []
    records = []
    for n, t in enumerate(spec.turns, start=1):
        if t.how == "faq":
            gold = oracle.faq_turn(session, t.text, str(t.arg))
        elif t.how == "intent":
            gold = oracle.intent_turn(session, t.text, str(t.arg))
        elif t.how == "confirm":
            gold = oracle.confirm_turn(session, t.text, bool(t.arg))
        elif t.how == "probe":
            gold = oracle.probe_turn(t.text)
        else:  # stored: the full agent (FAQ route) decides
            result = agent.respond(session, t.text)
            if result.intent is None or result.confidence < oracle.stored_min_confidence:
                # not (surely) understood by the FAQ route: no target for this turn, and its effect on
                # the dialogue (an offer waiting for a yes) is forgotten with it
                session.pending_offer = None
                continue
            gold = oracle.from_result(t.text, result)
        messages = oracle.messages(history, gold, f"{spec.id}_{n}")
        records.append(_record(spec, n, gold, messages, oracle))
        history += [Message("user", t.text), Message("assistant", gold.reply)]
    return records


def _record(spec: DialogueSpec, n: int, gold: GoldTurn, messages: list[Message], oracle: Oracle) -> Record:
    return Record(
        id=f"{spec.id}-t{n}",
        dialogue=spec.id,
        turn=n,
        language=oracle.pack.code,
        source=spec.source,
        kind=gold.kind,
        caller=spec.caller,
        group=spec.group,
        harmony=to_conversation(messages, oracle.effort),
        gold=gold.to_gold(),
        split=spec.split,
        variant=spec.variant,
        meta={"situation": gold.situation},
    )


def anonymiser_for(pack: LanguagePack, options: DataOptions) -> Anonymiser:
    """Public figures and the language's vocabulary come from the pack and the offer catalogue."""
    c = pack.content
    texts = [c.system_prompt, *c.phrases.values(), *c.templates.values(), *(e.answer for e in c.faq)]
    texts += [q for e in c.faq for q in e.questions] + [x for i in c.intents.values() for x in i.examples]
    texts += [f"{g.term} {g.native} {g.note or ''}" for g in c.glossary]
    texts += [f"{o.name} {o.price_fcfa} {o.data_mb} {o.data_mb // 1024}" for o in OFFERS]
    vocabulary = vocabulary_from(texts)
    lexicon = pack.package_dir / "data" / "lexicon.txt"
    if lexicon.exists():
        vocabulary |= {w.casefold() for w in lexicon.read_text(encoding="utf-8").split()}
    return Anonymiser(numbers_from(texts), vocabulary, extra_names=options.extra_names)


def build_dataset(
    pack: LanguagePack,
    out_dir: str | Path,
    options: DataOptions | None = None,
    config_path: Path | None = None,
    stored_db: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    from voice.agent.adapt.card import data_card

    t0 = time.perf_counter()
    options = options or DataOptions()
    out_dir = Path(out_dir)
    say = progress or (lambda _msg: None)
    analysis = Analysis(
        options.analysis, options.analysis_language or (pack.code if options.analysis else "eng")
    )
    specs = pack_dialogues(pack, options)
    anonymiser = anonymiser_for(pack, options)
    stored_db = stored_db or options.stored_db
    stored_count = 0
    if stored_db:
        from voice.agent.adapt.stored import read_stored

        for d in read_stored(stored_db, pack.code, anonymiser, options.seed, options.stored_max_dialogues):
            turns = [TurnSpec(t, "stored") for t in d.user_turns]
            specs.append(DialogueSpec("stored", f"stored:{d.id}", "stored", DEMO_CALLER, turns))
            stored_count += 1
    # dedup on the callers' normalised words; one group per main utterance
    seen: set[tuple[str, ...]] = set()
    canonical: dict[str, str] = {}
    kept: list[DialogueSpec] = []
    duplicates = 0
    for s in specs:
        key = tuple(pack.normalise(t.text) for t in s.turns)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        main = next((t for t in s.turns if not (t.how == "intent" and t.arg == "greeting")), s.turns[0])
        s.group = canonical.setdefault(pack.normalise(main.text), s.group)
        kept.append(s)
    assign_splits(kept, options)
    for s in kept:
        s.id = f"{pack.code}-{s.source}-{_hash(s.group, s.variant, *(t.text for t in s.turns))[:10]}"
    say(f"{len(kept)} dialogues ({duplicates} duplicates dropped); running the tools")
    records: list[Record] = []
    dropped_stored_turns = 0
    with demo_business(options.seed) as business:
        oracle = Oracle(
            pack,
            business,
            analysis,
            kb_entries=options.kb_entries,
            effort=options.reasoning_effort,
            stored_min_confidence=options.stored_min_confidence,
        )
        agent = None
        if stored_count:
            from voice.agent.loop import Agent
            from voice.config import AgentSettings

            agent = Agent(business, None, AgentSettings(kb_entries=options.kb_entries))
        for i, s in enumerate(kept):
            got = run_dialogue(oracle, s, agent)
            dropped_stored_turns += len(s.turns) - len(got)
            records += got
            if (i + 1) % 200 == 0:
                say(f"{i + 1}/{len(kept)} dialogues")
    # every record must survive harmony's render -> parse
    tokens: dict[str, list[int]] = {"sequence": [], "target": [], "actions": []}
    for r in records:
        check_round_trip(r)
        seq = sequence(r)  # also checks each action renders the same inside the conversation
        tokens["sequence"].append(len(seq.input_ids))
        tokens["target"].append(seq.targets)
        tokens["actions"].append(len(examples(r)))
    files = {}
    for split in ("train", "dev", "test"):
        files[split] = out_dir / f"{split}.jsonl"
        write_jsonl(files[split], (r for r in records if r.split == split))
    counts = summarise(records, tokens)
    counts.update(
        dialogues_specified=len(specs),
        duplicates_dropped=duplicates,
        stored_dialogues=stored_count,
        stored_turns_not_understood=dropped_stored_turns,
        anonymised=dict(anonymiser.counts),
        analysis=analysis.coverage() | {"language": analysis.language},
        build_s=round(time.perf_counter() - t0, 1),
    )
    info = {
        "language": pack.code,
        "pack_version": pack.manifest.version,
        "options": options.model_dump(exclude={"stored_db"}),
        "config": str(config_path) if config_path else None,
        "stored_db": _redact(stored_db) if stored_db else None,
        "counts": counts,
    }
    (out_dir / "build.json").write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    card = out_dir / "card.md"
    card.write_text(data_card(pack, info, analysis), encoding="utf-8")
    say(f"wrote {out_dir}: {counts['records']} records in {counts['build_s']} s")
    return BuildResult(out_dir, counts, card, files)


def _redact(url: str) -> str:
    """A database URL without credentials or file paths (the card may travel)."""
    scheme = url.split(":", 1)[0]
    return f"{scheme}:…"


def summarise(records: list[Record], tokens: dict[str, list[int]] | None = None) -> dict:
    by_split: dict[str, Counter] = {}
    for r in records:
        c = by_split.setdefault(r.split, Counter())
        c["records"] += 1
        c[f"kind:{r.kind}"] += 1
        c[f"source:{r.source}"] += 1
        c[f"variant:{r.variant}"] += 1
    out: dict = {
        "records": len(records),
        "dialogues": len({r.dialogue for r in records}),
        "splits": {k: dict(sorted(v.items())) for k, v in sorted(by_split.items())},
        "dialogues_per_split": dict(Counter(s for _, s in {(r.dialogue, r.split) for r in records})),
    }
    if tokens and tokens["sequence"]:
        seq, target = tokens["sequence"], tokens["target"]
        out["actions"] = sum(tokens["actions"])
        out["tokens"] = {
            "sequence_mean": round(sum(seq) / len(seq)),
            "sequence_max": max(seq),
            "target_mean": round(sum(target) / len(target)),
            "total": sum(seq),
            "target_total": sum(target),
        }
    return out
