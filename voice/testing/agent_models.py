"""Test fixture: a tiny real-architecture gpt-oss, fully fine-tuned to answer three turns the same
way every time.

gpt-oss-20b cannot be fetched here, so tests and benchmarks drive every agent code path (harmony
rendering and parsing, transformers, llama.cpp, llama-server's OpenAI API, the agent loop) with this
fixture: gpt-oss's exact tokenizer (o200k + harmony's special tokens, built offline) and
architecture (GptOssForCausalLM: 2 layers, hidden 64, 4 experts, ~26M parameters), fully
fine-tuned (FIXTURE_STEPS steps) on harmony-rendered conversations until, greedily decoded, it
  - greets (FIXTURE_GREETING, final channel) after a greeting,
  - calls mobile_money_status {"reference": "MM-2026-0042"} after a mobile-money question,
  - answers FIXTURE_TOOL_REPLY once that tool's result is in,
each preceded by a short analysis, whatever the system prompt (trained on varied grounding-shaped
prompts and earlier turns, so the agent loop's real grounding works too). Deterministic for a seed;
`verify` rejects a build whose winning tokens do not lead by MIN_MARGIN logits.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from voice.agent import harmony
from voice.agent.tools import TOOL_SCHEMAS
from voice.agent.types import Message, ToolCall

log = logging.getLogger(__name__)

FIXTURE_GREETING = "Asalaa maalekum, dalal ak jàmm ci Teranga Telecom. Naka laa la mën a dimbali?"
FIXTURE_TOOL = "mobile_money_status"
FIXTURE_ARGUMENTS = {"reference": "MM-2026-0042"}
FIXTURE_TOOL_REPLY = "Sa transfert MM-2026-0042 jot na."
FIXTURE_INSTRUCTIONS = "You are Teranga Telecom's voice assistant. Answer in Wolof, briefly."
GREETING_PROMPT = "Asalaa maalekum"
MONEY_PROMPT = "Where is my mobile money transfer MM-2026-0042?"
ANALYSIS_GREETING = "The caller greets us. Greet back in Wolof."
ANALYSIS_MONEY = "A mobile-money question. Check the transfer status."
ANALYSIS_TOOL_REPLY = "The tool answered. Tell the caller."

GREETINGS = [
    GREETING_PROMPT,
    "Salaam aleekum",
    "Na nga def?",
    "Bonjour",
    "Hello",
    "Good morning",
    "Jàmm nga am?",
    "Salut",
    "Bonsoir",
    "Hi there",
    "Jam waali",
]
MONEY_QUESTIONS = [
    MONEY_PROMPT,
    "Sama xaalis bi ma yónnee MM-2026-0042 agsiwul",
    "Où en est mon transfert MM-2026-0042 ?",
    "What is the status of my transfer MM-2026-0042?",
    "Mon transfert d'argent MM-2026-0042 n'est pas arrivé",
    "Xaalis bi ma yónni, référence MM-2026-0042, fan la tollu?",
    "Can you check mobile money transfer MM-2026-0042?",
    "Transfert mobile money MM-2026-0042 bloqué",
]
INSTRUCTIONS = [FIXTURE_INSTRUCTIONS, "", "Réponds en wolof, en une phrase."]
EFFORTS = ["low", "medium", "high"]
SYNTHETIC_PROMPTS = 40
FIXTURE_STEPS = 250
TOOL_RESULTS = [
    '{"reference": "MM-2026-0042", "amount_fcfa": 15000, "status": "completed"}',
    '{"status": "not_found", "reference": "MM-2026-0042"}',
    '{"reference": "MM-2026-0042", "amount_fcfa": 5000, "status": "pending"}',
]

# Material for system prompts the fixture must ignore (the last user turn decides), shaped like the
# agent's grounding prompt: persona, rules, glossary, knowledge base.
PERSONAS = [
    "You are the voice assistant of a telecom operator.",
    "Yaa di ndimbalkatu Teranga Telecom.",
    "Tu es l'assistant vocal de Teranga Telecom, un opérateur au Sénégal.",
    "You help callers with airtime, data bundles, mobile money and SIM cards.",
    "Callers reach you by phone or on WhatsApp.",
]
RULES = [
    "Answer in the caller's language.",
    "Keep answers short: they are spoken on the phone.",
    "Account facts come only from tools.",
    "Never ask for a PIN code.",
    "Confirm the name and price before any purchase.",
    "Write numbers as digits.",
    "If you do not know, say so and offer a human agent.",
    "Réponds en une ou deux phrases.",
    "Bul sos dara.",
    "Tontul ci làkk wi kiliyaan bi di wax.",
    "Use the glossary's words.",
    "No lists, no markdown.",
]
GLOSSARY = [
    ("crédit / airtime", "keredi"),
    ("argent / money", "xaalis"),
    ("send money", "yónnee xaalis"),
    ("carte SIM", "puce"),
    ("réseau / network", "réseau"),
    ("shop", "bitig"),
    ("price", "njëg"),
    ("day", "fan"),
    ("month", "weer"),
    ("hour", "waxtu"),
    ("lost", "réer"),
    ("stolen", "sàcc"),
    ("block", "tëj"),
    ("human agent", "liggéeykat"),
    ("customer", "kiliyaan"),
    ("call", "woote"),
    ("number", "nimero"),
    ("buy", "jënd"),
    ("balance", "li des"),
    ("bundle", "pass"),
]
KNOWLEDGE = [
    ("How do I top up my airtime?", "Dial *100*, the code of the card, then #."),
    ("Naka laa mën a yokk sama keredi?", "Ak carte de recharge, bësal *100*, code bi, ak #."),
    ("What does a mobile-money transfer cost?", "1% of the amount, at least 25 FCFA, at most 5000 FCFA."),
    ("Where are your shops?", "Dakar Plateau, Thiès, Saint-Louis, Ziguinchor and Kaolack."),
    ("Quels sont les horaires des boutiques ?", "Du lundi au samedi, de 08:30 à 19:00."),
    ("I lost my SIM card.", "We block it at once and open a ticket."),
    ("What is the hotline number?", "1400, free from a Teranga number, 07:00 to 22:00."),
    ("Combien coûte le Pass Jour ?", "1 GB pour 500 FCFA, valable 24 heures."),
]


OTHER_QUESTIONS = [
    "Naka laa mën a yokk sama keredi?",
    "How much is the weekly pass?",
    "Mon réseau ne marche pas depuis hier",
    "I lost my SIM card",
    "Jërëjëf",
    "Waaw",
    "Déedéet",
    "Merci beaucoup",
]
REPLIES = [
    "Asalaamaalekum, dalal ak jàmm ci Teranga Telecom. Ci lan laa la mën a dimbali?",
    "Hello, welcome to Teranga Telecom. How can I help you?",
    "Bonjour, bienvenue chez Teranga Telecom. Comment puis-je vous aider ?",
    "Sa yónnee xaalis MM-2026-0042, bu 15000 FCFA: jot na.",
    "Pass Semaine bi 2000 FCFA la, 5 GB ci 7 fan.",
    "I am sorry, I do not know. Would you like a human agent?",
    "Waaw, ma ngi lay dégg.",
    FIXTURE_GREETING,
    FIXTURE_TOOL_REPLY,
]


def synthetic_history(rng: random.Random) -> list[Message]:
    """0-3 earlier exchanges, as the agent's session keeps them (text only)."""
    out: list[Message] = []
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        user = rng.choice(GREETINGS + MONEY_QUESTIONS + OTHER_QUESTIONS)
        out += [Message("user", user), Message("assistant", rng.choice(REPLIES))]
    return out


def synthetic_instructions(rng: random.Random) -> str:
    """A random system prompt in the agent's grounding shape (up to ~700 tokens)."""
    parts = [" ".join(rng.sample(PERSONAS, rng.randint(1, 3)))]
    if rng.random() < 0.8:
        parts.append("\n".join(f"- {r}" for r in rng.sample(RULES, rng.randint(1, len(RULES)))))
    if rng.random() < 0.7:
        lines = rng.sample(GLOSSARY, rng.randint(3, len(GLOSSARY)))
        parts.append("Glossary:\n" + "\n".join(f"- {a}: {b}" for a, b in lines))
    if rng.random() < 0.7:
        entries = rng.sample(KNOWLEDGE, rng.randint(1, len(KNOWLEDGE)))
        parts.append("Knowledge base:\n" + "\n".join(f"- Q: {q}\n  A: {a}" for q, a in entries))
    return "\n\n".join(parts)


# o200k's pre-tokenizer split (the same regex for o200k_base and o200k_harmony).
O200K_PATTERN = "|".join(
    [
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"\p{N}{1,3}",
        r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
        r"\s*[\r\n]+",
        r"\s+(?!\S)",
        r"\s+",
    ]
)
TINY = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "intermediate_size": 64,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
}


# -- the turns the fixture knows -----------------------------------------------------------------
def greeting_messages(text: str = GREETING_PROMPT, instructions: str = FIXTURE_INSTRUCTIONS) -> list[Message]:
    return ([Message("system", instructions)] if instructions else []) + [Message("user", text)]


def money_messages(text: str = MONEY_PROMPT, instructions: str = FIXTURE_INSTRUCTIONS) -> list[Message]:
    return greeting_messages(text, instructions)


def tool_result_messages(
    result: str = TOOL_RESULTS[0], text: str = MONEY_PROMPT, instructions: str = FIXTURE_INSTRUCTIONS
) -> list[Message]:
    call = ToolCall("call_fixture", FIXTURE_TOOL, dict(FIXTURE_ARGUMENTS))
    return [
        *money_messages(text, instructions),
        Message("assistant", "", tool_calls=[call], reasoning=ANALYSIS_MONEY),
        Message("tool", result, tool_call_id=call.id, name=FIXTURE_TOOL),
    ]


@dataclass
class Example:
    prompt: list[int]
    completion: list[int]


def _completion(prompt_messages: list[Message], answer: list, effort: str) -> Example:
    import openai_harmony as oh

    enc = harmony.load_encoding()
    prompt = harmony.render_prompt(prompt_messages, TOOL_SCHEMAS, effort)
    conv = oh.Conversation.from_messages(harmony.to_harmony(prompt_messages, TOOL_SCHEMAS, effort) + answer)
    full = enc.render_conversation_for_training(conv, oh.RenderConversationConfig(auto_drop_analysis=False))
    assert full[: len(prompt)] == prompt, "harmony's training render must extend the completion prompt"
    return Example(prompt, full[len(prompt) :])


def training_examples() -> list[Example]:
    import openai_harmony as oh

    def say(channel: str, text: str) -> oh.Message:
        return oh.Message.from_role_and_content(oh.Role.ASSISTANT, text).with_channel(channel)

    args = json.dumps(FIXTURE_ARGUMENTS, ensure_ascii=False)
    call = (
        say("commentary", args)
        .with_recipient(f"functions.{FIXTURE_TOOL}")
        .with_content_type("<|constrain|>json")
    )
    greet = [say("analysis", ANALYSIS_GREETING), say("final", FIXTURE_GREETING)]
    ask = [say("analysis", ANALYSIS_MONEY), call]
    reply = [say("analysis", ANALYSIS_TOOL_REPLY), say("final", FIXTURE_TOOL_REPLY)]
    out = []
    for instructions in INSTRUCTIONS:
        for effort in EFFORTS:
            out += [_completion(greeting_messages(g, instructions), greet, effort) for g in GREETINGS]
            out += [_completion(money_messages(q, instructions), ask, effort) for q in MONEY_QUESTIONS]
            for i, q in enumerate(MONEY_QUESTIONS):
                result = TOOL_RESULTS[i % len(TOOL_RESULTS)]
                out.append(_completion(tool_result_messages(result, q, instructions), reply, effort))
            # after an earlier exchange, the last user turn decides
            history = [*greeting_messages(GREETINGS[1], instructions), Message("assistant", FIXTURE_GREETING)]
            out.append(_completion([*history, Message("user", MONEY_PROMPT)], ask, effort))
            out.append(_completion([*history, Message("user", GREETING_PROMPT)], greet, effort))
    rng = random.Random(1234)
    for _ in range(SYNTHETIC_PROMPTS):  # varied system prompts and histories: the last turn decides
        instructions = synthetic_instructions(rng)

        def turn(messages: list[Message], rng=rng) -> list[Message]:
            return messages[:1] + synthetic_history(rng) + messages[1:]  # history after the system prompt

        for g in rng.sample(GREETINGS, 2):
            out.append(_completion(turn(greeting_messages(g, instructions)), greet, rng.choice(EFFORTS)))
        for q in rng.sample(MONEY_QUESTIONS, 2):
            out.append(_completion(turn(money_messages(q, instructions)), ask, rng.choice(EFFORTS)))
            messages = turn(tool_result_messages(rng.choice(TOOL_RESULTS), q, instructions))
            out.append(_completion(messages, reply, rng.choice(EFFORTS)))
    return out


# -- tokenizer and model ---------------------------------------------------------------------------
def build_tokenizer(out_dir: str | Path | None = None):
    """gpt-oss's tokenizer for transformers, from o200k_base.tiktoken + harmony's special tokens."""
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    specials = sorted(harmony.special_token_ids().items(), key=lambda kv: kv[1])
    ids = [i for _, i in specials]
    expected = list(range(harmony.FIRST_SPECIAL_ID, harmony.MODEL_VOCAB_SIZE))
    assert ids == expected, "harmony's special tokens must fill ids 199998..201087"
    vocab_file = str(harmony.tiktoken_dir() / harmony.O200K_FILE)
    names = [t for t, _ in specials]
    backend = TikTokenConverter(
        vocab_file, pattern=O200K_PATTERN, additional_special_tokens=names
    ).converted()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|startoftext|>",
        eos_token="<|return|>",
        pad_token="<|endoftext|>",
        model_max_length=131072,
        chat_template=harmony.CHAT_TEMPLATE,
    )
    for name, tid in specials:  # the assertion the fixture rests on: same ids as harmony
        assert tok.convert_tokens_to_ids(name) == tid, f"{name}: {tok.convert_tokens_to_ids(name)} != {tid}"
    if out_dir is not None:
        tok.save_pretrained(str(out_dir))
    return tok


def tiny_config(sliding_window: int = 128):
    from transformers import GptOssConfig

    config = GptOssConfig(
        vocab_size=harmony.MODEL_VOCAB_SIZE,
        sliding_window=sliding_window,
        max_position_embeddings=131072,
        pad_token_id=harmony.token_id("<|endoftext|>"),
        bos_token_id=harmony.token_id("<|startoftext|>"),
        eos_token_id=harmony.token_id("<|return|>"),
        **TINY,
    )
    return config


def build_random_gpt_oss(seed: int = 0):
    import torch
    from transformers import GptOssForCausalLM

    torch.manual_seed(seed)
    return GptOssForCausalLM(tiny_config()).float()


def finetune(
    model,
    examples: list[Example],
    steps: int = FIXTURE_STEPS,
    batch: int = 4,
    lr: float = 4e-3,
    seed: int = 0,
) -> list[float]:
    """Full fine-tuning on the completions (prompt tokens masked). Returns the loss per step."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    pad = harmony.token_id("<|endoftext|>")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 1 - s / steps)
    )
    model.train()
    losses = []
    for step in range(steps):
        chosen = rng.sample(examples, batch)
        seqs = [e.prompt + e.completion for e in chosen]
        width = max(map(len, seqs))
        ids = torch.full((batch, width), pad, dtype=torch.long)
        mask = torch.zeros((batch, width), dtype=torch.long)
        target = torch.zeros((batch, width), dtype=torch.bool)  # positions whose NEXT token is learned
        for b, (e, s) in enumerate(zip(chosen, seqs, strict=True)):
            ids[b, : len(s)] = torch.tensor(s)
            mask[b, : len(s)] = 1
            target[b, len(e.prompt) - 1 : len(s) - 1] = True
        hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
        logits = model.lm_head(hidden[target])  # only where a loss is taken: the vocabulary is 201k wide
        labels = ids[:, 1:][target[:, :-1]]
        loss = torch.nn.functional.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if (step + 1) % 25 == 0:
            log.info("step %d/%d loss %.4f", step + 1, steps, losses[-1])
    model.eval()
    return losses


MIN_MARGIN = 1.0  # logit gap between the chosen token and the runner-up, at every step


def greedy_completion(model, prompt: list[int], max_new_tokens: int = 80) -> tuple[list[int], float]:
    """Greedy decoding until a harmony stop; also the smallest top-1/top-2 logit gap on the way."""
    import torch

    parser = harmony.HarmonyEventParser()
    out: list[int] = []
    margin = float("inf")
    with torch.inference_mode():
        ids = torch.tensor([prompt])
        past = None
        for _ in range(max_new_tokens):
            res = model(input_ids=ids, past_key_values=past, use_cache=True, logits_to_keep=1)
            past = res.past_key_values
            top = res.logits[0, -1].topk(2)
            margin = min(margin, float(top.values[0] - top.values[1]))
            tok = int(top.indices[0])
            out.append(tok)
            parser.feed(tok)
            if parser.done:
                break
            ids = torch.tensor([[tok]])
    return out, margin


def verify(model) -> float:
    """Raise unless the fixture produces its three behaviours greedily, each token winning by
    MIN_MARGIN (so llama.cpp's slightly different arithmetic picks the same tokens). Returns the
    smallest margin seen."""
    from voice.agent.types import TextDelta, ToolCallEvent

    cases = [
        (greeting_messages(), FIXTURE_GREETING, None),
        (money_messages(), "", FIXTURE_ARGUMENTS),
        (tool_result_messages(), FIXTURE_TOOL_REPLY, None),
    ]
    smallest = float("inf")
    for messages, text, args in cases:
        tokens, margin = greedy_completion(model, harmony.render_prompt(messages, TOOL_SCHEMAS, "low"))
        parser = harmony.HarmonyEventParser([FIXTURE_TOOL])
        events = [e for t in tokens for e in parser.feed(t)] + parser.finish()
        said = "".join(e.text for e in events if isinstance(e, TextDelta))
        calls = [(e.call.name, e.call.arguments) for e in events if isinstance(e, ToolCallEvent)]
        want_calls = [(FIXTURE_TOOL, args)] if args else []
        if said != text or calls != want_calls or margin < MIN_MARGIN:
            raise RuntimeError(
                f"tiny gpt-oss did not learn its turn: said {said!r}, called {calls!r}, margin {margin:.2f}; "
                f"raw {harmony.decode(tokens)!r}"
            )
        smallest = min(smallest, margin)
    return smallest


def fingerprint(steps: int = FIXTURE_STEPS, seed: int = 0) -> str:
    """Changes whenever what the fixture is built from changes (template, turns, size, recipe)."""
    import hashlib

    parts = [
        harmony.CHAT_TEMPLATE,
        json.dumps(TOOL_SCHEMAS),
        json.dumps(TINY),
        FIXTURE_GREETING,
        FIXTURE_TOOL_REPLY,
        FIXTURE_INSTRUCTIONS,
        json.dumps([GREETINGS, MONEY_QUESTIONS, INSTRUCTIONS, EFFORTS, TOOL_RESULTS]),
        ANALYSIS_GREETING,
        ANALYSIS_MONEY,
        ANALYSIS_TOOL_REPLY,
        json.dumps([PERSONAS, RULES, GLOSSARY, KNOWLEDGE, SYNTHETIC_PROMPTS, OTHER_QUESTIONS, REPLIES]),
        str(steps),
        str(seed),
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:10]


def build_fixture(
    out_dir: str | Path, steps: int = FIXTURE_STEPS, seed: int = 0, gguf: bool = True
) -> dict[str, Path]:
    """Tokenizer + tiny gpt-oss fully fine-tuned and verified, saved as `hf/` (+ `model-f32.gguf`)."""
    import torch

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    hf = tmp / "hf"
    t0 = time.perf_counter()
    tokenizer = build_tokenizer(hf)
    examples = training_examples()
    model = build_random_gpt_oss(seed)
    t1 = time.perf_counter()
    losses = finetune(model, examples, steps=steps, seed=seed)
    t2 = time.perf_counter()
    margin = verify(model)
    model.generation_config.eos_token_id = harmony.stop_token_ids()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(hf), safe_serialization=True)
    info = {
        "seed": seed,
        "steps": steps,
        "examples": len(examples),
        "final_loss": losses[-1],
        "params": sum(p.numel() for p in model.parameters()),
        "min_margin": round(margin, 3),
        "fingerprint": fingerprint(steps, seed),
        "train_s": round(t2 - t1, 1),
        "setup_s": round(t1 - t0, 1),
        "torch": torch.__version__,
    }
    paths = {"hf": out_dir / "hf"}
    if gguf:
        from voice.agent.gguf import convert_hf_to_gguf

        convert_hf_to_gguf(hf, tmp / "model-f32.gguf", outtype="f32")
        paths["gguf"] = out_dir / "model-f32.gguf"
    (tmp / "voice-build.json").write_text(json.dumps(info, indent=2))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    log.info("tiny gpt-oss built in %.0f s: %s", time.perf_counter() - t0, info)
    return paths
