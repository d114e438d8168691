"""The agent's LLM route: the real loop, the real grounding and the tools run against the demo
backend's SQLite, driven by the tiny fine-tuned gpt-oss (voice/testing/agent_models.py: it greets,
calls mobile_money_status for MM-2026-0042, then answers from the tool's result) through the
in-process backend and a real llama-server — no hand-written fake LLM. The purchase test needs a model that
calls buy_offer, which the tiny fixture cannot learn cheaply: there a local server speaking the
OpenAI wire format stands in for the operator's GPU vLLM, scripted as such a model would answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent_fixtures import llama_server, llama_server_bin, tiny_gpt_oss, turn  # noqa: F401
from tests.openai_stub import SSE, OpenAIStub, chunk, tool_delta
from voice.agent import Agent, Session
from voice.agent.demo_backend import DemoBackend
from voice.config import AgentSettings
from voice.packs import get_pack
from voice.packs.langid import LanguageIdentifier
from voice.store.db import Database
from voice.testing.agent_models import (
    ANALYSIS_GREETING,
    ANALYSIS_MONEY,
    ANALYSIS_TOOL_REPLY,
    FIXTURE_ARGUMENTS,
    FIXTURE_GREETING,
    FIXTURE_TOOL,
    FIXTURE_TOOL_REPLY,
    GREETING_PROMPT,
    MONEY_PROMPT,
)

AWA = "+221771234567"  # owns transfer MM-2026-0042 (15000 FCFA, completed) in the demo backend
OTHER = "+221700000001"  # the demo customer: not their transfer
VOICE = Path(sys.executable).parent / "voice"
# The router's threshold is configuration: above 1, no FAQ match is confident enough and every
# turn goes to the LLM (the fixture's questions would otherwise be answered by the FAQ route).
ALWAYS_LLM = {"faq_threshold": 1.01}
REASONING = (ANALYSIS_GREETING, ANALYSIS_MONEY, ANALYSIS_TOOL_REPLY)


def make_agent(tmp_path: Path, llm, **settings) -> tuple[Agent, DemoBackend]:
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    db.create_all()
    business = DemoBackend(db)
    return Agent(business, llm, AgentSettings(**{**ALWAYS_LLM, **settings})), business


@pytest.fixture(scope="module")
def harmony_llm(tiny_gpt_oss):  # noqa: F811
    from voice.agent.backends.harmony_local import HarmonyLocalBackend

    return HarmonyLocalBackend(tiny_gpt_oss["hf"])


@pytest.mark.slow
def test_llm_turns_greet_run_the_tool_and_never_speak_reasoning(harmony_llm, tmp_path):
    agent, _ = make_agent(tmp_path, harmony_llm)
    session = Session("wol", AWA)
    sentences, greet = turn(agent, session, GREETING_PROMPT)
    assert (greet.route, greet.reply, greet.tool_calls) == ("llm", FIXTURE_GREETING, [])
    assert sentences == get_pack("wol").split_sentences(FIXTURE_GREETING) and len(sentences) == 2
    assert LanguageIdentifier.installed().identify(greet.reply)[0] == "wol"

    sentences, answer = turn(agent, session, MONEY_PROMPT)
    assert answer.route == "llm" and answer.reply == FIXTURE_TOOL_REPLY
    # The model's call ran for real against the caller's own account in SQLite.
    assert answer.tool_calls == [
        {
            "name": FIXTURE_TOOL,
            "arguments": FIXTURE_ARGUMENTS,
            "result": {"reference": "MM-2026-0042", "amount_fcfa": 15000, "status": "completed"},
        }
    ]
    spoken = " ".join(sentences + [m.content for m in session.history])
    assert not [r for r in REASONING if r in spoken]  # reasoning is never spoken nor kept
    assert all(m.reasoning is None and not m.tool_calls for m in session.history)
    assert [m.role for m in session.history] == ["user", "assistant"] * 2
    assert answer.timings["first_sentence_s"] > 0 and answer.timings["llm_first_text_s"] > 0


@pytest.mark.slow
def test_account_facts_come_from_the_callers_own_account(harmony_llm, tmp_path):
    """The same question from someone else: the tool finds nothing for them (no other customer's
    data reaches the model), whatever the model asked for."""
    agent, _ = make_agent(tmp_path, harmony_llm)
    _, answer = turn(agent, Session("wol", OTHER), MONEY_PROMPT)
    assert [c["result"] for c in answer.tool_calls] == [{"status": "not_found", "reference": "MM-2026-0042"}]


@pytest.mark.slow
def test_a_slow_llm_turn_is_bounded_and_the_caller_still_gets_an_answer(harmony_llm, tmp_path):
    """A turn budget far below what generation needs: the loop stops it and falls back (the FAQ
    answer when the router had a usable match) instead of leaving the caller in silence."""
    agent, _ = make_agent(tmp_path, harmony_llm, turn_timeout_s=0.001)
    _, result = turn(agent, Session("wol", AWA), MONEY_PROMPT)
    assert result.route in ("faq", "llm") and result.reply
    assert FIXTURE_TOOL_REPLY not in result.reply


@pytest.mark.slow
def test_voice_ask_through_llama_server_calls_the_tool(llama_server, tmp_path):  # noqa: F811
    """The issue's "done when": `voice ask` with VOICE_LLM_URL at a real llama-server (serving the
    fixture's GGUF with its chat template) answers through the LLM route with a tool call."""
    env = {
        **os.environ,
        "VOICE_DATA_DIR": str(tmp_path),
        "VOICE_LLM_URL": llama_server.url,
        "VOICE_LLM_MODEL": "tiny-gpt-oss",
        "VOICE_AGENT_FAQ_THRESHOLD": "1.01",
    }
    env.pop("VOICE_DB_URL", None)
    proc = subprocess.run(
        [VOICE, "ask", MONEY_PROMPT, "--lang", "wol", "--caller", AWA, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["route"], data["language"], data["reply"]) == ("llm", "wol", FIXTURE_TOOL_REPLY)
    assert [(c["name"], c["arguments"], c["result"]["status"]) for c in data["tool_calls"]] == [
        (FIXTURE_TOOL, FIXTURE_ARGUMENTS, "completed")
    ]
    assert AWA not in proc.stderr  # no phone number in the logs


def _buy_call(arguments: dict) -> SSE:
    return SSE(
        [
            chunk(reasoning="The caller wants the day pass. Ask before buying."),
            chunk(tool_calls=[tool_delta(0, "buy_offer", json.dumps(arguments), id="call_1")]),
            chunk(finish_reason="tool_calls"),
        ]
    )


def _say(text: str) -> SSE:
    return SSE([chunk(content=text), chunk(finish_reason="stop")])


@pytest.mark.parametrize(
    "arguments", [{"offer_id": "pass_jour"}, {"offer_id": "pass_jour", "confirmed": True}]
)
def test_a_purchase_the_llm_asks_for_waits_for_the_callers_yes(tmp_path, arguments):
    """The model calls buy_offer (even claiming consent): nothing is charged; the caller hears the
    question, and only their explicit yes in the next turn buys the offer."""
    from voice.agent.backends.openai_compat import OpenAICompatBackend

    with OpenAIStub() as stub:
        stub.script(_buy_call(arguments), _say("Pass Jour bi 500 FCFA la. Ndax nga nangu?"))
        agent, business = make_agent(tmp_path, OpenAICompatBackend(stub.url, "gpt-oss-20b"))
        session = Session("wol", AWA)
        _, asked = turn(agent, session, "Dama bëgg jënd pass bu bës bi")
        assert asked.route == "llm" and "500" in asked.reply
        assert [c["result"]["status"] for c in asked.tool_calls] == ["needs_confirmation"]
        assert business.get_balance(AWA).airtime_fcfa == 1250  # nothing charged yet
        # what went back to the model: its own call and the executor's refusal to buy unasked
        tool_msg = stub.requests[1]["body"]["messages"][-1]
        assert (
            tool_msg["role"] == "tool" and json.loads(tool_msg["content"])["status"] == "needs_confirmation"
        )
        assert stub.requests[0]["body"]["model"] == "gpt-oss-20b"

        _, bought = turn(agent, session, "waaw")
        assert [c["result"]["status"] for c in bought.tool_calls] == ["done"]
        assert business.get_balance(AWA).airtime_fcfa == 750
        assert len(stub.requests) == 2  # the yes is the agent's own confirmation step, not the model's


def test_each_language_asks_its_own_served_model(tmp_path, monkeypatch):
    """VOICE_AGENT_LANGUAGE_MODELS: a pack's adapter served by vLLM under its own name is asked for
    that language's turns; other languages ask the base model (VOICE_LLM_MODEL)."""
    from voice.agent.factory import make_llm
    from voice.config import Settings

    with OpenAIStub() as stub:
        stub.script(_say("Jàmm rekk."), _say("Hello."))
        monkeypatch.setenv("VOICE_AGENT_LANGUAGE_MODELS", "wol=wol-lora, fuc=fuc-lora")
        llm = make_llm(Settings(VOICE_LLM_URL=stub.url, VOICE_LLM_MODEL="gpt-oss-20b"))
        agent, _ = make_agent(tmp_path, llm)
        turn(agent, Session("wol", AWA), "xylophone quasar")
        turn(agent, Session("eng", AWA), "xylophone quasar")
    assert [r["body"]["model"] for r in stub.requests] == ["wol-lora", "gpt-oss-20b"]
