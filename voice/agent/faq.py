"""The FAQ route: intents answered from the pack's templates and tools, FAQ entries verbatim.

No model runs here; a turn costs a TF-IDF lookup and, for account questions, one backend call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from voice.agent.business import Offer
from voice.agent.executor import ToolExecutor
from voice.agent.router import Match, PackIndex
from voice.agent.session import Session
from voice.packs import LanguagePack
from voice.packs.phrases import phrase

_REFERENCE = re.compile(r"m\W*m\W*(\d{4})\W*(\d{1,4})", re.IGNORECASE)


@dataclass
class Reply:
    text: str
    tool_calls: list[dict] = field(default_factory=list)
    handoff: bool = False
    end: bool = False


def clarify(pack: LanguagePack) -> str:
    """Ask the caller to say what they need again (a pack without `clarify`: its didnt_hear)."""
    return phrase(pack, "clarify", fallback="didnt_hear")


def optional_phrase(pack: LanguagePack, key: str) -> str | None:
    return pack.content.phrases.get(key)


def template(pack: LanguagePack, key: str, **values: object) -> str:
    return pack.content.templates[key].format(**values)


def validity(pack: LanguagePack, hours: int) -> str:
    t = pack.content.templates
    if hours % 24 == 0 and hours > 24 and "validity_days" in t:
        return t["validity_days"].format(days=hours // 24)
    if "validity_hours" in t:
        return t["validity_hours"].format(hours=hours)
    return f"{hours} h"


def volume(data_mb: int) -> str:
    return f"{data_mb // 1024} GB" if data_mb >= 1024 and data_mb % 1024 == 0 else f"{data_mb} MB"


def find_offer(text: str, offers: list[Offer], pack: LanguagePack) -> Offer | None:
    """The offer a caller names: by name, id, price or data volume."""
    said = f" {pack.normalise(text)} "
    digits = set(re.findall(r"\d+", said.replace(" ", "")) + re.findall(r"\d+", said))
    for o in offers:
        if f" {pack.normalise(o.name)} " in said or o.id.replace("_", " ") in said:
            return o
    for o in offers:
        gb = o.data_mb // 1024
        if str(o.price_fcfa) in digits or (gb and f" {gb} g" in said):
            return o
    return None


def find_reference(text: str) -> str | None:
    m = _REFERENCE.search(text)
    return f"MM-{m.group(1)}-{int(m.group(2)):04d}" if m else None


def offer_list_text(pack: LanguagePack, offers: list[Offer]) -> str:
    items = [
        template(
            pack,
            "offer_item",
            name=o.name,
            volume=volume(o.data_mb),
            price=o.price_fcfa,
            validity=validity(pack, o.validity_hours),
        )
        for o in offers
    ]
    return " ".join([template(pack, "offers_intro"), *items])


class FaqResponder:
    def __init__(self, executor: ToolExecutor):
        self.executor = executor

    def _tool(self, reply: Reply, session: Session, name: str, args: dict, confirmed: bool = False) -> dict:
        result = self.executor.execute(name, args, session, caller_confirmed=confirmed)
        reply.tool_calls.append({"name": name, "arguments": args, "result": result})
        return result

    def confirm(self, session: Session, pack: LanguagePack, yes: bool) -> Reply:
        """The caller answered the purchase question."""
        offer_id, reply = session.pending_offer, Reply("")
        if not yes or offer_id is None:
            session.pending_offer = None
            reply.text = phrase(pack, "purchase_cancelled")
            return reply
        result = self._tool(
            reply, session, "buy_offer", {"offer_id": offer_id, "confirmed": True}, confirmed=True
        )
        offer = result.get("offer", {})
        if result.get("status") == "done":
            reply.text = template(
                pack,
                "purchase_done",
                offer=offer["name"],
                price=offer["price_fcfa"],
                balance=result["airtime_fcfa"],
            )
        elif result.get("error") == "insufficient_balance":
            reply.text = template(
                pack,
                "insufficient_balance",
                offer=offer["name"],
                price=offer["price_fcfa"],
                balance=result["airtime_fcfa"],
            )
        else:
            reply.text = phrase(pack, "apology")
        return reply

    def answer(self, match: Match, text: str, session: Session, index: PackIndex) -> Reply:
        pack = index.pack
        # Intents that act (tools, hand-off, confirmation) act even when a FAQ question matched.
        handler = getattr(self, f"_{match.intent}", None) if match.intent else None
        if handler is not None:
            return handler(text, session, pack)
        if match.kind == "faq":
            return Reply(index.faq_by_id[match.key].answer)
        entry = index.faq_by_intent.get(match.key)
        return Reply(entry.answer if entry else phrase(pack, "dont_know"))

    # -- intents with their own behaviour ---------------------------------------------------
    def _greeting(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        return Reply(phrase(pack, "greeting"))

    def _goodbye(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        return Reply(phrase(pack, "goodbye"), end=True)

    def _thanks(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        return Reply(phrase(pack, "you_are_welcome", fallback="goodbye"))

    def _human_agent(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        reply = Reply(phrase(pack, "transferring"), handoff=True)
        self._tool(reply, session, "transfer_to_human", {"reason": "caller asked for a person"})
        return reply

    def _check_balance(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        reply = Reply("")
        r = self._tool(reply, session, "get_balance", {})
        if "error" in r:
            reply.text = phrase(pack, "no_account", fallback="apology")
        else:
            reply.text = template(pack, "balance", balance=r["airtime_fcfa"], data_mb=r["data_mb"])
        return reply

    def _list_offers(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        reply = Reply("")
        self._tool(reply, session, "list_offers", {})
        reply.text = offer_list_text(pack, self.executor.business.list_offers())
        return reply

    def _buy_offer(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        offer = find_offer(text, self.executor.business.list_offers(), pack)
        if offer is None:  # which one? read the list, then ask
            reply = self._list_offers(text, session, pack)
            reply.text = " ".join(filter(None, [reply.text, optional_phrase(pack, "ask_offer")]))
            return reply
        reply = Reply("")
        self._tool(reply, session, "buy_offer", {"offer_id": offer.id, "confirmed": False})
        reply.text = phrase(pack, "confirm_purchase", offer=offer.name, price=offer.price_fcfa)
        return reply

    def _mobile_money_status(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        reference = find_reference(text)
        if reference is None:
            return Reply(phrase(pack, "ask_reference"))
        reply = Reply("")
        r = self._tool(reply, session, "mobile_money_status", {"reference": reference})
        if r.get("status") == "not_found" or "error" in r:
            reply.text = template(pack, "mobile_money_not_found", reference=reference)
        else:
            status = optional_phrase(pack, f"status_{r['status']}") or r["status"]
            reply.text = template(
                pack, "mobile_money_status", reference=reference, status=status, amount=r["amount_fcfa"]
            )
        return reply

    def _lost_sim(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        reply = Reply("")
        r = self._tool(reply, session, "report_lost_sim", {})
        reply.text = (
            template(pack, "lost_sim_done", ticket=r["ticket"]) if "ticket" in r else phrase(pack, "apology")
        )
        return reply

    def _network_problem(self, text: str, session: Session, pack: LanguagePack) -> Reply:
        reply = Reply("")
        r = self._tool(reply, session, "create_ticket", {"category": "network", "description": text[:200]})
        reply.text = (
            template(pack, "ticket_created", ticket=r["ticket"]) if "ticket" in r else phrase(pack, "apology")
        )
        return reply
