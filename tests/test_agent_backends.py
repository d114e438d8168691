"""The LLM backends: harmony rendering/parsing, the tiny fine-tuned gpt-oss through transformers,
llama-cpp-python and a real llama-server, and the OpenAI-compatible client's error paths against a
local server speaking the wire format."""

from __future__ import annotations

import hashlib
import json
import threading
import time

import httpx
import pytest

from tests.agent_fixtures import free_port, llama_server, llama_server_bin, tiny_gpt_oss  # noqa: F401
from tests.openai_stub import SSE, Fail, Hang, OpenAIStub, chunk, tool_delta, usage_chunk
from voice.agent import harmony
from voice.agent.backends.base import BackendError, GenerationOptions, LLMBackend
from voice.agent.backends.openai_compat import OpenAICompatBackend
from voice.agent.backends.repair import ArgumentsError, MarkupFilter, normalize_tool_name, parse_arguments
from voice.agent.tools import TOOL_NAMES, TOOL_SCHEMAS
from voice.agent.types import Done, Message, ReasoningDelta, TextDelta, ToolCall, ToolCallEvent
from voice.testing.agent_models import (
    FIXTURE_ARGUMENTS,
    FIXTURE_GREETING,
    FIXTURE_TOOL,
    FIXTURE_TOOL_REPLY,
    MONEY_PROMPT,
    greeting_messages,
    money_messages,
    tool_result_messages,
)

OPTS = GenerationOptions(max_tokens=120, temperature=0.0, reasoning_effort="low", timeout_s=60)


def run(backend: LLMBackend, messages, tools=TOOL_SCHEMAS, options=OPTS, cancel=None):
    events = list(backend.stream(messages, tools, options, cancel))
    assert isinstance(events[-1], Done) and not any(isinstance(e, Done) for e in events[:-1])
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    return text, reasoning, calls, events[-1]


# -- harmony: offline encoding, rendering, parsing -----------------------------------------------
def test_o200k_comes_verified_from_the_wheel():
    path = harmony.tiktoken_dir() / harmony.O200K_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == harmony.O200K_SHA256
    enc = harmony.load_encoding()
    ids = harmony.special_token_ids()
    assert len(ids) == 1090 and sorted(ids.values()) == list(range(199998, 201088))
    assert {"<|return|>", "<|call|>"} == {t for t, i in ids.items() if i in harmony.stop_token_ids()}
    assert enc.decode(enc.encode("Naka laa la mën a dimbali?")) == "Naka laa la mën a dimbali?"


def _conversations() -> list[list[Message]]:
    call = ToolCall(
        "call_1", "create_ticket", {"category": "network", "description": "pas de réseau à Thiès"}
    )
    return [
        greeting_messages(),
        [Message("user", "Hello")],  # no instructions: no "# Instructions" section
        tool_result_messages(),
        [
            Message("system", "Réponds en wolof.\nSois bref."),
            Message("user", "Sama internet dafa dee"),
            Message(
                "assistant",
                "Ma ngi ubbi ticket.",
                tool_calls=[call],
                reasoning="Network issue; open a ticket.",
            ),
            Message("tool", '{"ticket": "T000123"}', tool_call_id="call_1"),  # name found through the id
            Message("assistant", "Sa ticket mooy T000123."),
            Message("user", "Jërëjëf"),
        ],
    ]


EXTRA_TOOL = {
    "type": "function",
    "function": {
        "name": "odd_params",
        "description": "Line one\nline two",
        "parameters": {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "description": "how many"},
                "x": {"type": "number", "default": 3},
                "tags": {"type": "array", "items": {"type": "string"}},
                "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                "maybe": {"type": ["string", "null"]},
                "flag": {"type": "boolean", "default": False},
                "free": {},
            },
            "required": ["n"],
        },
    },
}
NO_PARAMS_TOOL = {"type": "function", "function": {"name": "ping", "description": ""}}


def test_render_is_harmony_and_the_chat_template_renders_the_same():
    from transformers.utils.chat_template_utils import render_jinja_template

    tools_sets = [TOOL_SCHEMAS, [*TOOL_SCHEMAS, EXTRA_TOOL, NO_PARAMS_TOOL], []]
    for messages in _conversations():
        for tools in tools_sets:
            for effort in ("low", "high"):
                expected = harmony.decode(harmony.render_prompt(messages, tools, effort))
                wire = [
                    m.to_openai() | ({"reasoning_content": m.reasoning} if m.reasoning else {})
                    for m in messages
                ]
                got, _ = render_jinja_template(
                    [wire],
                    tools=tools or None,
                    chat_template=harmony.CHAT_TEMPLATE,
                    add_generation_prompt=True,
                    reasoning_effort=effort,
                )
                assert got[0] == expected
    text = harmony.decode(harmony.render_prompt(_conversations()[3], TOOL_SCHEMAS))
    assert text.endswith("<|start|>user<|message|>Jërëjëf<|end|><|start|>assistant")
    assert "<|start|>functions.create_ticket to=assistant<|channel|>commentary<|message|>" in text
    assert "Reasoning: low" in text and "# Instructions\n\nRéponds en wolof.\nSois bref." in text


def _parse(text: str, tools=TOOL_NAMES):
    enc = harmony.load_encoding()
    parser = harmony.HarmonyEventParser(tools)
    events = []
    for tok in enc.encode(text, allowed_special="all"):
        events += parser.feed(tok)
    return events + parser.finish(), parser


def test_harmony_round_trip_render_then_parse():
    """What we render for an assistant turn parses back to the same text, reasoning and call."""
    import openai_harmony as oh

    enc = harmony.load_encoding()
    messages = greeting_messages()
    call = ToolCall("c", FIXTURE_TOOL, {"reference": "MM-2026-0042", "note": "ñàë"})
    answer = [
        Message("assistant", "", tool_calls=[call], reasoning="Check it."),
        Message("tool", '{"status": "completed"}', tool_call_id="c", name=FIXTURE_TOOL),
        Message("assistant", FIXTURE_GREETING, reasoning="Say it."),
    ]
    prompt = harmony.render_prompt(messages, TOOL_SCHEMAS)
    full = harmony.to_harmony(messages + answer[:1], TOOL_SCHEMAS)
    tokens = enc.render_conversation_for_training(
        oh.Conversation.from_messages(full), oh.RenderConversationConfig(auto_drop_analysis=False)
    )
    assert tokens[: len(prompt)] == prompt
    events, parser = _parse(enc.decode(tokens[len(prompt) :]))
    assert parser.done
    assert [type(e) for e in events] == [ReasoningDelta] * (len(events) - 1) + [ToolCallEvent]
    assert "".join(e.text for e in events[:-1]) == "Check it."
    assert (events[-1].call.name, events[-1].call.arguments) == (call.name, call.arguments)

    prompt2 = harmony.render_prompt(messages + answer[:2], TOOL_SCHEMAS)
    tokens2 = enc.render_conversation_for_training(
        oh.Conversation.from_messages(harmony.to_harmony(messages + answer, TOOL_SCHEMAS)),
        oh.RenderConversationConfig(auto_drop_analysis=False),
    )
    assert tokens2[: len(prompt2)] == prompt2 and tokens2[-1] == harmony.token_id("<|return|>")
    events, parser = _parse(enc.decode(tokens2[len(prompt2) :]))
    assert parser.done
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == FIXTURE_GREETING
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Say it."


@pytest.mark.parametrize(
    "completion, name, args",
    [
        # recipient in the channel header instead of the role header
        (
            "<|channel|>commentary to=functions.get_balance <|constrain|>json<|message|>{}<|call|>",
            "get_balance",
            {},
        ),
        # a tool call on the analysis channel, Python-literal arguments, no constrain
        (
            "<|channel|>analysis to=functions.create_ticket<|message|>"
            "{'category': 'network', 'description': 'x'}"
            "<|call|>",
            "create_ticket",
            {"category": "network", "description": "x"},
        ),
        # an unknown tool is reported by its raw name for the loop to refuse
        (
            ' to=functions.format_disk<|channel|>commentary json<|message|>{"all": true}<|call|>',
            "format_disk",
            {"all": True},
        ),
    ],
)
def test_harmony_parser_tool_call_variants(completion, name, args):
    events, parser = _parse(completion)
    assert parser.done
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.name, c.arguments) for c in calls] == [(name, args)]
    assert not [e for e in events if isinstance(e, TextDelta)]


def test_harmony_parser_drops_a_tool_call_cut_off_by_max_tokens():
    events, parser = _parse(
        "<|channel|>analysis<|message|>Buy it.<|end|><|start|>assistant to=functions.buy_offer"
        '<|channel|>commentary <|constrain|>json<|message|>{"offer_id": "pass_j'
    )
    assert parser.done and [type(e) for e in events] == [ReasoningDelta] * len(events)


def test_openai_drops_a_tool_call_cut_off_by_max_tokens(stub):
    stub.script(
        SSE(
            [
                chunk(tool_calls=[tool_delta(0, name="buy_offer", arguments='{"offer_id": "pass_j', id="c")]),
                chunk(finish_reason="length"),
            ]
        )
    )
    _, _, calls, done = run(OpenAICompatBackend(stub.url, "m"), money_messages())
    assert calls == [] and done.finish_reason == "length"


def test_harmony_parser_final_without_return_and_preambles_are_not_spoken():
    events, parser = _parse(
        "<|channel|>commentary<|message|>Looking it up<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Waaw.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>never read"
    )
    assert parser.done  # an <|end|> closing the final message ends the turn
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Waaw."
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "Looking it up"


# -- repair -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("get_balance", "get_balance"),
        ("functions.get_balance", "get_balance"),
        ("get_balance<|channel|>commentary", "get_balance"),
        ("to=functions.get_balance", "get_balance"),
        (" get_balance <|constrain|>json", "get_balance"),
        ("functions.get_balance<|channel|>commentary json", "get_balance"),
        ("assistant to=functions.list_offers", "list_offers"),
        ("assistant<|channel|>analysis", "assistant<|channel|>analysis"),  # Ollama #11704: name lost
        ("delete_everything", "delete_everything"),
    ],
)
def test_normalize_tool_name(raw, expected):
    assert normalize_tool_name(raw, TOOL_NAMES) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('{"reference": "MM-2026-0042"}', {"reference": "MM-2026-0042"}),
        ("{'reference': 'MM-2026-0042'}", {"reference": "MM-2026-0042"}),
        ('{"confirmed": True, "offer_id": None}', {"confirmed": True, "offer_id": None}),
        ("{'confirmed': true, 'x': null}", {"confirmed": True, "x": None}),
        ('{"reference": "MM-2026-0042"}}<|call|>', {"reference": "MM-2026-0042"}),
        ('{"reference": "MM-2026-0042"} trailing words', {"reference": "MM-2026-0042"}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('"{\\"a\\": 1}"', {"a": 1}),
        ("", {}),
        ("   ", {}),
        (None, {}),
        ({"already": "dict"}, {"already": "dict"}),
        ('{"text": "a } brace"} junk', {"text": "a } brace"}),
        ('{"reference": "MM-2026-0042"', {"reference": "MM-2026-0042"}),  # cut off before the brace
    ],
)
def test_parse_arguments_repairs(raw, expected):
    assert parse_arguments(raw) == expected


@pytest.mark.parametrize("raw", ["not json at all", "[1, 2]", "{'a': }", "42"])
def test_parse_arguments_refuses_what_it_cannot_read(raw):
    with pytest.raises(ArgumentsError):
        parse_arguments(raw)


def test_markup_filter_keeps_leaked_reasoning_out_of_speech():
    f = MarkupFilter()
    pieces = [
        "<|chan",
        "nel|>analysis<|message|>The user",
        " greets.<|end|><|start|>assistant<|channel|>fi",
        "nal<|message|>Salaam <3 ",
        "ak jàmm<",
        "|return|>",
    ]
    out = [p for s in pieces for p in f.feed(s)] + f.flush()
    text = "".join(t for k, t in out if k == "text")
    assert text == "Salaam <3 ak jàmm"
    assert "".join(t for k, t in out if k == "reasoning") == "The user greets."
    plain = MarkupFilter()
    assert plain.feed("a < b, <x> is fine") + plain.flush() == [("text", "a < b, <x> is fine")]


# -- OpenAI-compatible client against the scripted local server ---------------------------------
@pytest.fixture
def stub():
    with OpenAIStub() as s:
        yield s


def test_openai_streams_text_reasoning_and_usage(stub):
    stub.script(
        SSE(
            [
                chunk(reasoning="The caller "),
                chunk(reasoning="greets."),
                chunk(content="Asalaa "),
                chunk(content="maalekum."),
                chunk(finish_reason="stop"),
                usage_chunk(321, 9),
            ]
        )
    )
    backend = OpenAICompatBackend(stub.url, "gpt-oss-20b")
    messages = [*tool_result_messages(), Message("assistant", "Waaw."), Message("user", "Salaam")]
    messages[2].reasoning = "kept inside the tool loop"
    text, reasoning, calls, done = run(backend, messages)
    assert (text, reasoning, calls) == ("Asalaa maalekum.", "The caller greets.", [])
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.finish_reason) == (321, 9, "stop")
    assert 0 < done.first_token_s <= done.first_text_s <= done.total_s
    body = stub.requests[0]["body"]
    assert stub.requests[0]["path"] == "/v1/chat/completions"
    assert body["model"] == "gpt-oss-20b" and body["stream"] is True and body["reasoning_effort"] == "low"
    assert [t["function"]["name"] for t in body["tools"]] == list(TOOL_NAMES)
    assert (
        body["messages"][2]["reasoning_content"]
        == body["messages"][2]["reasoning"]
        == "kept inside the tool loop"
    )
    assert body["messages"][2]["tool_calls"][0]["function"]["arguments"] == '{"reference": "MM-2026-0042"}'
    assert body["messages"][3] == {
        "role": "tool",
        "content": messages[3].content,
        "tool_call_id": "call_fixture",
        "name": FIXTURE_TOOL,
    }


def test_openai_reads_reasoning_content_and_never_doubles_reasoning(stub):
    stub.script(
        SSE([chunk(reasoning_content="llama-server style"), chunk(content="ok")]),
        # vLLM versions that send both names carry the same text: read it once
        SSE([chunk(reasoning="both", reasoning_content="both"), chunk(content="ok")]),
    )
    backend = OpenAICompatBackend(stub.url, "m")
    assert run(backend, greeting_messages())[:2] == ("ok", "llama-server style")
    assert run(backend, greeting_messages())[:2] == ("ok", "both")


def test_openai_sends_extra_body_and_api_key(stub, monkeypatch):
    monkeypatch.setenv("VOICE_LLM_EXTRA_BODY", '{"chat_template_kwargs": {"reasoning_effort": "low"}}')
    monkeypatch.setenv("VOICE_LLM_API_KEY", "sk-local")
    monkeypatch.setenv("VOICE_LLM_URL", stub.url)
    monkeypatch.setenv("VOICE_LLM_MODEL", "gpt-oss:20b")
    stub.script(SSE([chunk(content="ok")]))
    backend = OpenAICompatBackend()  # everything from the environment
    assert run(backend, greeting_messages(), tools=[])[0] == "ok"
    req = stub.requests[0]
    assert req["body"]["chat_template_kwargs"] == {"reasoning_effort": "low"}
    assert req["body"]["model"] == "gpt-oss:20b" and "tools" not in req["body"]
    assert req["headers"]["Authorization"] == "Bearer sk-local"


def test_openai_assembles_streamed_tool_calls_by_index(stub):
    stub.script(
        SSE(
            [
                chunk(reasoning="Two things."),
                chunk(tool_calls=[tool_delta(0, name="mobile_money_status", arguments="", id="call_a")]),
                chunk(tool_calls=[tool_delta(1, name="create_", arguments='{"category"', id="call_b")]),
                chunk(tool_calls=[tool_delta(0, arguments='{"reference": ')]),
                chunk(
                    tool_calls=[tool_delta(1, name="ticket", arguments=': "money", "description": "lost"}')]
                ),
                chunk(tool_calls=[tool_delta(0, arguments='"MM-2026-0042"}')]),
                chunk(finish_reason="tool_calls"),
            ]
        )
    )
    text, reasoning, calls, done = run(OpenAICompatBackend(stub.url, "m"), money_messages())
    assert text == "" and reasoning == "Two things." and done.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "mobile_money_status", {"reference": "MM-2026-0042"}),
        ("call_b", "create_ticket", {"category": "money", "description": "lost"}),
    ]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("functions.get_balance", "get_balance"),
        ("get_balance<|channel|>commentary", "get_balance"),
        ("to=functions.get_balance", "get_balance"),
        ("assistant<|channel|>analysis", "assistant<|channel|>analysis"),
        ("wipe_accounts", "wipe_accounts"),
    ],
)
def test_openai_malformed_tool_names(stub, name, expected):
    stub.script(
        SSE(
            [
                chunk(tool_calls=[tool_delta(0, name=name, arguments="{}", id="c")]),
                chunk(finish_reason="tool_calls"),
            ]
        )
    )
    calls = run(OpenAICompatBackend(stub.url, "m"), money_messages())[2]
    assert [(c.name, c.arguments) for c in calls] == [(expected, {})]


@pytest.mark.parametrize(
    "arguments, expected",
    [
        ("{'reference': 'MM-2026-0042'}", {"reference": "MM-2026-0042"}),
        ('{"reference": "MM-2026-0042"}<|call|>', {"reference": "MM-2026-0042"}),
        ("{'offer_id': 'pass_jour', 'confirmed': True}", {"offer_id": "pass_jour", "confirmed": True}),
        ("", {}),
        ("definitely not json", {}),  # unreadable: reported with no arguments, the tool says what is missing
    ],
)
def test_openai_non_json_arguments(stub, arguments, expected):
    stub.script(
        SSE([chunk(tool_calls=[tool_delta(0, name="mobile_money_status", arguments=arguments, id="c")])])
    )
    calls = run(OpenAICompatBackend(stub.url, "m"), money_messages())[2]
    assert [(c.name, c.arguments) for c in calls] == [("mobile_money_status", expected)]


def test_openai_legacy_function_call_field(stub):
    stub.script(
        SSE(
            [
                chunk(function_call={"name": "get_balance", "arguments": ""}),
                chunk(function_call={"arguments": "{}"}),
                chunk(finish_reason="function_call"),
            ]
        )
    )
    calls = run(OpenAICompatBackend(stub.url, "m"), money_messages())[2]
    assert [(c.name, c.arguments) for c in calls] == [("get_balance", {})]
    assert calls[0].id.startswith("call_")


def test_openai_leaked_harmony_markup_is_not_spoken(stub):
    stub.script(
        SSE(
            [
                chunk(content="<|channel|>analysis<|message|>secret plan<|end|>"),
                chunk(content="<|start|>assistant<|channel|>final<|message|>Waaw, "),
                chunk(content="jërëjëf."),
            ]
        )
    )
    text, reasoning, _, _ = run(OpenAICompatBackend(stub.url, "m"), greeting_messages())
    assert (text, reasoning) == ("Waaw, jërëjëf.", "secret plan")


def test_openai_timeout_is_a_backend_error(stub):
    stub.script(Hang(10))
    backend = OpenAICompatBackend(stub.url, "m")
    start = time.perf_counter()
    with pytest.raises(BackendError, match="did not answer within 1 s"):
        run(backend, greeting_messages(), options=GenerationOptions(timeout_s=1))
    assert time.perf_counter() - start < 5


def test_openai_stalled_stream_times_out(stub):
    stub.script(SSE([chunk(content="Asalaa")], stall=10))
    backend = OpenAICompatBackend(stub.url, "m")
    seen = []
    with pytest.raises(BackendError, match="did not answer within 1 s"):
        for e in backend.stream(greeting_messages(), TOOL_SCHEMAS, GenerationOptions(timeout_s=1)):
            seen.append(e)
    assert seen == [TextDelta("Asalaa")]


@pytest.mark.parametrize("status", [500, 503, 404, 400])
def test_openai_http_errors(stub, status):
    stub.script(Fail(status, {"error": {"message": f"model exploded {status}", "type": "server_error"}}))
    with pytest.raises(BackendError, match=rf"HTTP {status}.*model exploded {status}"):
        run(OpenAICompatBackend(stub.url, "m"), greeting_messages())
    assert len(stub.requests) == 1  # no silent retries: the loop decides what the caller hears


def test_openai_error_event_mid_stream(stub):
    stub.script(
        SSE([chunk(content="Asa"), {"error": {"message": "harmony parse error", "type": "server_error"}}])
    )
    with pytest.raises(BackendError, match="harmony parse error"):
        run(OpenAICompatBackend(stub.url, "m"), greeting_messages())


def test_openai_connection_refused():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BackendError, match="cannot reach the LLM server at .*refused"):
        run(OpenAICompatBackend(url, "m"), greeting_messages())


def test_openai_needs_a_url(monkeypatch):
    monkeypatch.delenv("VOICE_LLM_URL", raising=False)
    with pytest.raises(BackendError, match="VOICE_LLM_URL"):
        OpenAICompatBackend()


def test_openai_cancel_mid_stream(stub):
    stub.script(SSE([chunk(reasoning="r")] + [chunk(content=f"w{i} ") for i in range(200)], delay=0.02))
    cancel = threading.Event()
    events = []
    backend = OpenAICompatBackend(stub.url, "m")
    start = time.perf_counter()
    for e in backend.stream(greeting_messages(), TOOL_SCHEMAS, OPTS, cancel):
        events.append(e)
        if isinstance(e, TextDelta) and e.text == "w2 ":
            cancel.set()
    assert time.perf_counter() - start < 2  # 200 chunks would take 4 s
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "cancelled"
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["w0 ", "w1 ", "w2 "]
    assert stub.aborted.wait(3)  # the connection was closed: the server stops generating


def test_openai_cancel_while_the_server_stalls(stub):
    stub.script(SSE([chunk(content="Asalaa")], stall=20))
    cancel = threading.Event()
    events = []
    backend = OpenAICompatBackend(stub.url, "m")
    start = time.perf_counter()
    for e in backend.stream(greeting_messages(), TOOL_SCHEMAS, OPTS, cancel):
        events.append(e)
        threading.Timer(0.3, cancel.set).start()
    assert time.perf_counter() - start < 3
    assert events[0] == TextDelta("Asalaa") and events[-1].finish_reason == "cancelled"


# -- the tiny fine-tuned gpt-oss through the three real backends ---------------------------------
@pytest.fixture(scope="module")
def harmony_backend(tiny_gpt_oss):  # noqa: F811
    from voice.agent.backends.harmony_local import HarmonyLocalBackend

    return HarmonyLocalBackend(tiny_gpt_oss["hf"])


@pytest.fixture(scope="module")
def llamacpp_backend(tiny_gpt_oss):  # noqa: F811
    from voice.agent.backends.llamacpp import LlamaCppBackend

    return LlamaCppBackend(tiny_gpt_oss["gguf"], threads=2)


@pytest.fixture(scope="module")
def server_backend(llama_server):  # noqa: F811
    return OpenAICompatBackend(llama_server.url, "tiny-gpt-oss")


BACKENDS = ["harmony_backend", "llamacpp_backend", "server_backend"]


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_fixture_greets_calls_the_tool_and_answers(request, backend_name):
    """The same greeting, the same tool call with the same arguments, the same answer, everywhere."""
    backend = request.getfixturevalue(backend_name)
    text, reasoning, calls, done = run(backend, greeting_messages())
    assert text == FIXTURE_GREETING and calls == []
    assert reasoning and FIXTURE_GREETING not in reasoning and reasoning not in text
    assert done.finish_reason == "stop" and done.usage.completion_tokens > 10
    assert 0 < done.first_token_s < done.first_text_s <= done.total_s

    text, reasoning, calls, done = run(backend, money_messages())
    assert text == "" and reasoning
    assert [(c.name, c.arguments) for c in calls] == [(FIXTURE_TOOL, FIXTURE_ARGUMENTS)]
    assert calls[0].id and done.finish_reason == "tool_calls" and done.first_text_s is None

    # the tool's result goes back in (tool call + reasoning kept inside the loop): the final answer
    text, _, calls, _ = run(backend, tool_result_messages())
    assert (text, calls) == (FIXTURE_TOOL_REPLY, [])


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_fixture_follows_the_last_turn_under_the_agents_grounding(request, backend_name):
    """The fixture is usable behind the real agent loop: its system prompt is the loop's grounding
    for a language pack (~1,000 tokens it never saw), earlier turns come first, and the tool round
    carries the model's own reasoning and the executor's result, as the loop sends them."""
    from voice.agent.loop import grounding
    from voice.agent.router import pack_index

    backend = request.getfixturevalue(backend_name)
    index = pack_index("wol")
    system = Message("system", grounding(index.pack, index, MONEY_PROMPT, 3))
    history = [Message("user", "Na nga def?"), Message("assistant", "Maa ngi fi rekk. Lan laa la mën a def?")]
    asked = [system, *history, Message("user", MONEY_PROMPT)]
    text, reasoning, calls, _ = run(backend, asked)
    assert (text, [(c.name, c.arguments) for c in calls]) == ("", [(FIXTURE_TOOL, FIXTURE_ARGUMENTS)])
    result = '{"reference": "MM-2026-0042", "amount_fcfa": 5000, "status": "pending"}'
    after = [
        Message("assistant", "", calls, reasoning=reasoning),
        Message("tool", result, tool_call_id=calls[0].id, name=FIXTURE_TOOL),
    ]
    text, _, calls, _ = run(backend, [*asked, *after])
    assert (text, calls) == (FIXTURE_TOOL_REPLY, [])
    text, _, calls, _ = run(backend, [system, *history, Message("user", "Salaam aleekum")])
    assert (text, calls) == (FIXTURE_GREETING, [])


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_fixture_cancel_stops_generation(request, backend_name):
    backend = request.getfixturevalue(backend_name)
    cancel = threading.Event()
    events = []
    for e in backend.stream(greeting_messages(), TOOL_SCHEMAS, OPTS, cancel):
        events.append(e)
        if isinstance(e, ReasoningDelta):
            cancel.set()
    assert events[-1].finish_reason == "cancelled"
    assert not [e for e in events if isinstance(e, TextDelta | ToolCallEvent)]
    assert len(events) <= 4


@pytest.mark.slow
def test_fixture_tokenizer_is_gpt_oss(tiny_gpt_oss):  # noqa: F811
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_gpt_oss["hf"]))
    enc = harmony.load_encoding()
    for text in [
        "Asalaa maalekum, dalal ak jàmm ci Teranga Telecom.",
        "Jam waali, ɓiɗɗo ƴiiƴam ŋ 𞤀𞤣𞤤𞤢𞤥",
        "Où en est mon transfert MM-2026-0042 ? 15 000 FCFA\n\n\t l'été 🚀",
    ]:
        assert tok.encode(text, add_special_tokens=False) == enc.encode(text)
    assert len(tok) == harmony.MODEL_VOCAB_SIZE
    for name, tid in harmony.special_token_ids().items():
        assert tok.convert_tokens_to_ids(name) == tid
    for messages in _conversations():  # the saved chat template tokenizes exactly like harmony
        wire = [m.to_openai() | ({"reasoning_content": m.reasoning} if m.reasoning else {}) for m in messages]
        ids = tok.apply_chat_template(
            wire, tools=TOOL_SCHEMAS, add_generation_prompt=True, reasoning_effort="low"
        )
        assert list(ids) == harmony.render_prompt(messages, TOOL_SCHEMAS, "low")


@pytest.mark.slow
def test_gguf_carries_gpt_oss_vocab_and_template(llamacpp_backend):
    meta = llamacpp_backend.llm.metadata
    assert meta["general.architecture"] == "gpt-oss"
    assert meta["tokenizer.ggml.pre"] == "gpt-4o"  # llama.cpp recognised o200k's pre-tokenizer
    assert meta["tokenizer.chat_template"] == harmony.CHAT_TEMPLATE
    prompt = harmony.render_prompt(tool_result_messages(), TOOL_SCHEMAS)
    text = harmony.decode(prompt).encode()
    assert llamacpp_backend.llm.tokenize(text, add_bos=False, special=True) == prompt


@pytest.mark.slow
def test_llama_server_templates_like_harmony(llama_server):  # noqa: F811
    """llama-server's own Jinja engine renders our OpenAI messages into the harmony prompt."""
    for messages in _conversations():
        wire = [m.to_openai() | ({"reasoning_content": m.reasoning} if m.reasoning else {}) for m in messages]
        body = {"messages": wire, "tools": TOOL_SCHEMAS, "reasoning_effort": "low"}
        r = httpx.post(f"{llama_server.root}/apply-template", json=body, timeout=30)
        assert r.status_code == 200, r.text
        # llama.cpp drops the content (a commentary preamble) of an assistant message that carries both
        # reasoning and tool calls (common/parsers/gpt-oss.cpp); everything else is harmony's rendering.
        expected = [
            Message(m.role, "", m.tool_calls, reasoning=m.reasoning) if m.reasoning and m.tool_calls else m
            for m in messages
        ]
        assert r.json()["prompt"] == harmony.decode(harmony.render_prompt(expected, TOOL_SCHEMAS, "low"))


@pytest.mark.slow
def test_harmony_backend_loads_a_lora_adapter(tiny_gpt_oss, tmp_path):  # noqa: F811
    """A pack's LoRA adapter is applied: a zero-init adapter keeps the answer, a random one changes it."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    from voice.agent.backends.harmony_local import HarmonyLocalBackend

    outputs = {}
    for init in (True, False):
        base = AutoModelForCausalLM.from_pretrained(str(tiny_gpt_oss["hf"]))
        cfg = LoraConfig(
            r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=init
        )
        torch.manual_seed(1)
        get_peft_model(base, cfg).save_pretrained(str(tmp_path / str(init)))
        backend = HarmonyLocalBackend(tiny_gpt_oss["hf"], adapter_path=tmp_path / str(init))
        assert isinstance(backend.model, PeftModel)
        try:
            outputs[init] = run(backend, greeting_messages())
        except BackendError as exc:  # a random adapter may well break the harmony format: also a change
            outputs[init] = str(exc)
    assert outputs[True][0] == FIXTURE_GREETING
    assert outputs[False] != outputs[True] and (
        isinstance(outputs[False], str) or outputs[False][:3] != outputs[True][:3]
    )
    assert json.loads((tmp_path / "True" / "adapter_config.json").read_text())["r"] == 4


def test_backend_errors_are_clear_for_missing_models(tmp_path):
    from voice.agent.backends.harmony_local import HarmonyLocalBackend
    from voice.agent.backends.llamacpp import LlamaCppBackend

    with pytest.raises(BackendError, match="no GGUF model at"):
        LlamaCppBackend(tmp_path / "missing.gguf")
    with pytest.raises(BackendError, match="cannot load a gpt-oss model"):
        HarmonyLocalBackend(tmp_path)


def test_llama_build_reports_missing_toolchain(monkeypatch):
    from voice.testing import llama_server as build

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(build.LlamaBuildError, match="cmake"):
        build.check_toolchain()


@pytest.mark.slow
def test_llama_server_binary_is_cached(llama_server_bin):  # noqa: F811
    from voice.testing.llama_server import build_llama_server

    start = time.perf_counter()
    assert build_llama_server() == llama_server_bin
    assert time.perf_counter() - start < 1
    assert json.loads((llama_server_bin.parent / "build.json").read_text())["version"] == "0.3.36"
