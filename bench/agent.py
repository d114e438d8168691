"""Agent backends benchmark: time to first token, time to the first spoken (final-channel) token,
decode speed and tool-call validity, per backend, on the tiny fine-tuned gpt-oss fixture.

    .venv/bin/python bench/agent.py [--greetings 20] [--calls 72] [--threads 2] [--backends harmony,openai]

Backends: transformers in process (harmony), llama-cpp-python in process (GGUF), and a real
`llama-server --jinja` through the OpenAI-compatible client. The fixture has gpt-oss's tokenizer and
architecture at 26M parameters, so the numbers measure our code paths and the runtimes' per-token
overheads, not gpt-oss-20b's speed. Validity: the tool exists and the arguments satisfy its schema
(required keys, types, enums), over >= 50 generated calls from varied mobile-money prompts.
ttft_s repeats one prompt (runtimes with a prompt cache reuse it, as they do for an agent's fixed
system prompt and tools); ttft_cold_s varies the prompt from its first tokens on (the reasoning
effort is in the system message). The FAQ table runs a scripted 100-turn customer session
through the real loop and router, with no LLM and with the harmony fixture behind the router:
the share of turns served without the LLM, and the FAQ route's latency (target <= 5 ms).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, save_bar_plot, save_json  # noqa: E402

COLUMNS = [
    "backend",
    "ttft_s",
    "ttft_cold_s",
    "first_final_s",
    "decode_tok_s",
    "tool_calls",
    "valid_calls",
    "call_rate",
]
JSON_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "object": dict,
    "array": list,
}


FAQ_COLUMNS = [
    "LLM behind the router",
    "turns",
    "served without LLM",
    "hand-offs",
    "FAQ median ms",
    "FAQ P90 ms",
]


def faq_route(llm, label: str, turns: int = 100) -> list[object]:
    """The scripted 100-turn customer session through the real agent loop and router: how many
    turns never reach the LLM, and how fast the FAQ route answers (target <= 5 ms)."""
    import tempfile

    from tests.agent_fixtures import scripted_session
    from voice.agent import Agent, Session, TurnResult
    from voice.agent.demo_backend import DEMO_CALLER, DemoBackend
    from voice.config import AgentSettings
    from voice.store.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/demo.db")
        db.create_all()
        agent = Agent(DemoBackend(db), llm, AgentSettings())
        list(agent.turn(Session("eng", DEMO_CALLER), "hello"))  # builds the pack index once
        faq_ms, routes, handoffs = [], {}, 0
        for session, text in scripted_session(turns, lambda: Session("eng", DEMO_CALLER)):
            t = time.perf_counter()
            result = list(agent.turn(session, text))[-1]
            assert isinstance(result, TurnResult)
            routes[result.route] = routes.get(result.route, 0) + 1
            handoffs += result.handoff
            if result.route != "llm":
                faq_ms.append((time.perf_counter() - t) * 1000)
    faq_ms.sort()
    return [
        label,
        turns,
        1 - routes.get("llm", 0) / turns,
        handoffs,
        statistics.median(faq_ms),
        faq_ms[int(0.9 * (len(faq_ms) - 1))],
    ]


def valid_call(name: str, arguments: dict) -> bool:
    from voice.agent.tools import TOOL_SCHEMAS

    schema = next((t["function"]["parameters"] for t in TOOL_SCHEMAS if t["function"]["name"] == name), None)
    if schema is None:
        return False
    props = schema.get("properties", {})
    if any(k not in arguments for k in schema.get("required", [])) or any(k not in props for k in arguments):
        return False
    for key, value in arguments.items():
        spec = props[key]
        if "type" in spec and not isinstance(value, JSON_TYPES[spec["type"]]):
            return False
        if "enum" in spec and value not in spec["enum"]:
            return False
    return True


def money_prompts(n: int):
    from voice.testing.agent_models import EFFORTS, INSTRUCTIONS, MONEY_QUESTIONS, money_messages

    combos = itertools.cycle(itertools.product(MONEY_QUESTIONS, INSTRUCTIONS, EFFORTS))
    return [(money_messages(q, i), effort) for q, i, effort in itertools.islice(combos, n)]


def measure(backend, greetings: int, calls: int) -> dict:
    from voice.agent.backends.base import GenerationOptions
    from voice.agent.tools import TOOL_SCHEMAS
    from voice.agent.types import Done, ToolCallEvent
    from voice.testing.agent_models import greeting_messages

    ttft, first_final, decode = [], [], []
    list(backend.stream(greeting_messages(), TOOL_SCHEMAS, GenerationOptions(max_tokens=8)))  # warm-up
    for _ in range(greetings):
        done = list(backend.stream(greeting_messages(), TOOL_SCHEMAS, GenerationOptions(max_tokens=120)))[-1]
        ttft.append(done.first_token_s)
        if done.first_text_s is not None:
            first_final.append(done.first_text_s)
        gen_s = done.total_s - done.first_token_s
        if done.usage.completion_tokens > 1 and gen_s > 0:
            decode.append((done.usage.completion_tokens - 1) / gen_s)
    generated, valid, cold = 0, 0, []
    prompts = money_prompts(calls)
    for messages, effort in prompts:
        events = list(
            backend.stream(messages, TOOL_SCHEMAS, GenerationOptions(max_tokens=120, reasoning_effort=effort))
        )
        for e in events:
            if isinstance(e, ToolCallEvent):
                generated += 1
                valid += valid_call(e.call.name, e.call.arguments)
        assert isinstance(events[-1], Done)
        cold.append(events[-1].first_token_s)
    return {
        "ttft_s": statistics.median(ttft),
        "ttft_cold_s": statistics.median(cold),
        "first_final_s": statistics.median(first_final) if first_final else float("nan"),
        "decode_tok_s": statistics.median(decode) if decode else float("nan"),
        "tool_calls": generated,
        "valid_calls": valid / generated if generated else 0.0,
        "call_rate": generated / len(prompts),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--greetings", type=int, default=20)
    ap.add_argument("--calls", type=int, default=72)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backends", default="harmony,llamacpp,openai", help="comma-separated subset")
    args = ap.parse_args()
    faq = [faq_route(None, "none (FAQ backend)")]

    import tempfile

    import torch

    from tests.agent_fixtures import start_llama_server, tiny_gpt_oss_paths
    from voice.agent.backends.harmony_local import HarmonyLocalBackend
    from voice.agent.backends.llamacpp import LlamaCppBackend
    from voice.agent.backends.openai_compat import OpenAICompatBackend
    from voice.testing.llama_server import build_llama_server

    torch.set_num_threads(args.threads)
    paths = tiny_gpt_oss_paths()
    results: dict[str, dict] = {}
    started = time.perf_counter()
    chosen = set(args.backends.split(","))
    if "harmony" in chosen:
        harmony = HarmonyLocalBackend(paths["hf"])
        results["harmony (transformers)"] = measure(harmony, args.greetings, args.calls)
        faq.append(faq_route(harmony, "tiny gpt-oss fixture (harmony)"))
        del harmony
    if "llamacpp" in chosen:
        llamacpp = LlamaCppBackend(paths["gguf"], threads=args.threads)
        results["llamacpp (in-process)"] = measure(llamacpp, args.greetings, args.calls)
        del llamacpp
    if "openai" in chosen:
        with tempfile.TemporaryDirectory() as logs:
            server = start_llama_server(build_llama_server(), paths["gguf"], Path(logs))
            try:
                backend = OpenAICompatBackend(server.url, "tiny-gpt-oss")
                results["openai (llama-server)"] = measure(backend, args.greetings, args.calls)
            finally:
                server.stop()
    rows = [[name, *(r[c] for c in COLUMNS[1:])] for name, r in results.items()]
    if rows:
        print_table("Agent backends (tiny gpt-oss fixture, 2 threads)", COLUMNS, rows)
    print_table("Energy routing: scripted 100-turn session (English)", FAQ_COLUMNS, faq)
    name = "agent" if chosen >= {"harmony", "llamacpp", "openai"} else "agent-" + "-".join(sorted(chosen))
    save_json(
        name,
        {
            "columns": COLUMNS,
            "rows": rows,
            "faq_columns": FAQ_COLUMNS,
            "faq_rows": faq,
            "args": vars(args),
            "elapsed_s": time.perf_counter() - started,
        },
    )
    if not rows:
        return
    save_bar_plot(
        f"{name}_ttft",
        [str(r[0]) for r in rows],
        [float(r[1]) for r in rows],
        "seconds",
        "Time to first token",
    )


if __name__ == "__main__":
    main()
