"""Run the tools the agent (FAQ route or LLM) calls, against the business backend.

Results are plain JSON-able dicts: the LLM reads them, the FAQ route fills templates with them.
The caller's number always comes from the session. A purchase runs only after the caller
confirmed it in a turn of its own (`Session.pending_offer` + an explicit yes).
"""

from __future__ import annotations

import logging
from typing import Any

from voice.agent.business import BusinessBackend, BusinessError
from voice.agent.session import Session
from voice.agent.tools import TOOL_NAMES

log = logging.getLogger(__name__)


class ToolExecutor:
    def __init__(self, business: BusinessBackend):
        self.business = business

    def execute(
        self, name: str, arguments: dict[str, Any], session: Session, caller_confirmed: bool = False
    ) -> dict:
        """Run a tool. `caller_confirmed` is set only by the agent's own confirmation step; a model's
        `confirmed` argument is never trusted."""
        if name not in TOOL_NAMES:
            return {"error": f"unknown tool {name!r}", "known_tools": list(TOOL_NAMES)}
        args = _clean(arguments)
        try:
            if name == "buy_offer":
                return self._buy_offer(session, caller_confirmed, **args)
            return getattr(self, f"_{name}")(session, **args)
        except BusinessError as exc:
            return {"error": exc.code}
        except TypeError as exc:  # wrong or missing arguments from the model
            return {"error": f"bad arguments for {name}: {exc}"}

    def _get_balance(self, session: Session) -> dict:
        b = self.business.get_balance(session.caller)
        return {"airtime_fcfa": b.airtime_fcfa, "data_mb": b.data_mb}

    def _list_offers(self, session: Session) -> dict:
        return {"offers": [o.as_dict() for o in self.business.list_offers()]}

    def _buy_offer(self, session: Session, caller_confirmed: bool, offer_id: str, **_: Any) -> dict:
        offer = self.business.offer(offer_id)
        if offer is None:
            return {"error": "unknown_offer", "offer_id": offer_id}
        if not (caller_confirmed and session.pending_offer == offer_id):
            # Ask the caller first; the purchase happens in the turn where they say yes.
            session.pending_offer = offer_id
            return {"status": "needs_confirmation", "offer": offer.as_dict()}
        session.pending_offer = None
        try:
            p = self.business.buy_offer(session.caller, offer_id)
        except BusinessError as exc:
            if exc.code == "insufficient_balance":
                b = self.business.get_balance(session.caller)
                return {"error": exc.code, "offer": offer.as_dict(), "airtime_fcfa": b.airtime_fcfa}
            raise
        return {"status": "done", "offer": p.offer.as_dict(), "airtime_fcfa": p.new_balance.airtime_fcfa}

    def _mobile_money_status(self, session: Session, reference: str) -> dict:
        t = self.business.mobile_money_status(session.caller, reference)
        if t is None:
            return {"status": "not_found", "reference": reference}
        return {"reference": t.reference, "amount_fcfa": t.amount_fcfa, "status": t.status}

    def _report_lost_sim(self, session: Session) -> dict:
        return {"status": "blocked", "ticket": self.business.report_lost_sim(session.caller)}

    def _create_ticket(self, session: Session, category: str, description: str) -> dict:
        if category not in ("network", "money", "other"):
            category = "other"
        return {"ticket": self.business.create_ticket(session.caller, category, description)}

    def _transfer_to_human(self, session: Session, reason: str = "") -> dict:
        session.handed_off = True
        log.info("hand-off requested")
        return {"status": "transferring"}


def _clean(arguments: dict[str, Any]) -> dict[str, Any]:
    """Drop what a tool must not take from the model: the caller's identity and claims of consent."""
    return {k: v for k, v in arguments.items() if k not in ("phone", "caller", "confirmed")}
