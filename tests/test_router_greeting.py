"""A greeting answers with the opening greeting only at the start; mid-call, a greeting that opens
a question the router cannot match gets a clarifying question (issue 12).

"Hello, what is the matter in my account, please?" is whisper-base's hearing of "What is the
balance of my account?": its closest examples are the greeting ones, and the caller used to hear
the welcome again. Everything here goes through `Agent.respond` with the real packs.
"""

from __future__ import annotations

import pytest

from voice.agent import Agent, Session
from voice.agent.demo_backend import DEMO_CALLER, DemoBackend
from voice.agent.router import pack_index
from voice.agent.types import Message
from voice.config import AgentSettings
from voice.packs import get_pack
from voice.store.db import Database

MISHEARD = {
    "eng": ["Hello, what is the matter in my account, please?", "Hi, good morning, what about the thing?"],
    "fra": [
        "Bonjour, quelle est la matière de mon compte ?",
        "Allô, bonjour, je vous appelle pour mon affaire",
    ],
}
EARLIER = {
    "eng": ("What are your opening hours?", "Our shops are open Monday to Saturday."),
    "fra": ("Quels sont vos horaires ?", "Nos boutiques sont ouvertes du lundi au samedi."),
}


@pytest.fixture
def agent(tmp_path) -> Agent:
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    db.create_all()
    return Agent(DemoBackend(db), llm=None, settings=AgentSettings())


def mid_call(lang: str) -> Session:
    """A session where the agent greeted and the caller already asked something."""
    session = Session(lang, DEMO_CALLER)
    user, assistant = EARLIER[lang]
    session.history += [
        Message("assistant", get_pack(lang).content.phrases["greeting"]),
        Message("user", user),
        Message("assistant", assistant),
    ]
    return session


@pytest.mark.parametrize("lang", ["eng", "fra"])
def test_the_misheard_questions_used_to_match_the_greeting(lang):
    # The premise: without the fix, these route to the greeting intent.
    index = pack_index(lang)
    for text in MISHEARD[lang]:
        match = index.classify(text)
        assert match is not None and match.intent == "greeting", (text, match)
        assert not index.greeting(text).only


@pytest.mark.parametrize("lang", ["eng", "fra"])
def test_mid_call_greeting_with_an_unmatched_question_gets_a_clarifying_question(agent, lang):
    phrases = get_pack(lang).content.phrases
    for text in MISHEARD[lang]:
        session = mid_call(lang)
        result = agent.respond(session, text)
        assert result.reply == phrases["clarify"], (text, result)
        assert result.reply != phrases["greeting"]
        assert result.route == "faq" and not result.handoff and not result.tool_calls
        assert session.history[-1].content == phrases["clarify"]


@pytest.mark.parametrize(("lang", "hello"), [("eng", "Hello"), ("fra", "Bonjour")])
def test_plain_hello_gets_the_greeting_only_at_the_start(agent, lang, hello):
    phrases = get_pack(lang).content.phrases
    first = agent.respond(Session(lang, DEMO_CALLER), hello)
    assert first.reply == phrases["greeting"] and first.intent == "greeting"
    # On the phone the agent greets before the caller speaks: the caller's hello is still the start.
    phoned = Session(lang, DEMO_CALLER)
    agent.greeting(phoned)
    assert agent.respond(phoned, hello).reply == phrases["greeting"]
    # Later in the call a hello is asked what the caller needs, never welcomed again.
    later = agent.respond(mid_call(lang), hello)
    assert later.reply == phrases["clarify"] and later.intent == "greeting"


def test_a_greeting_then_a_clear_question_answers_the_question(agent):
    session = mid_call("eng")
    result = agent.respond(session, "Hello, I want to know my balance please")
    assert [c["name"] for c in result.tool_calls] == ["get_balance"]
    session = mid_call("fra")
    result = agent.respond(session, "Bonjour, j'ai une question : quel est mon solde ?")
    assert [c["name"] for c in result.tool_calls] == ["get_balance"]


def test_a_greeting_shaped_opener_never_hands_off_mid_call(agent):
    # "is this customer service" alone is close to the human_agent examples; after "Hello" it is
    # a greeting, and mid-call it is asked what the caller needs.
    session = mid_call("eng")
    result = agent.respond(session, "Hello, is this customer service?")
    assert not result.handoff and result.reply == get_pack("eng").content.phrases["clarify"]


def test_clarifying_counts_towards_the_hand_off(agent):
    session = mid_call("eng")
    first = agent.respond(session, MISHEARD["eng"][0])
    assert first.reply == get_pack("eng").content.phrases["clarify"] and session.failures == 1
    second = agent.respond(session, MISHEARD["eng"][1])
    assert second.route == "handoff" and second.handoff


@pytest.mark.parametrize("lang", ["eng", "fra", "wol", "fuc"])
def test_every_pack_has_a_clarify_phrase_and_its_greetings_are_greetings(lang):
    pack = get_pack(lang)
    assert pack.content.phrases.get("clarify")
    index = pack_index(lang)
    for example in pack.content.intents["greeting"].examples:
        if index.classify(example).intent == "greeting":
            assert index.greeting(example).only, example
