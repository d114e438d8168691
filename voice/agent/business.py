"""The operator's business systems, behind one interface the tools call.

An operator plugs its CRM/billing by implementing `BusinessBackend`; `DemoBackend` is an SQLite
(or PostgreSQL) demo with seeded customers keyed by phone number and offers priced in FCFA.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass


class BusinessError(Exception):
    """A business rule refused the request; `code` is stable, the message is for logs."""

    def __init__(self, code: str, message: str = ""):
        self.code = code
        super().__init__(message or code)


@dataclass(frozen=True)
class Balance:
    airtime_fcfa: int
    data_mb: int


@dataclass(frozen=True)
class Offer:
    id: str
    name: str
    price_fcfa: int
    data_mb: int
    validity_hours: int
    description: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Purchase:
    offer: Offer
    new_balance: Balance


@dataclass(frozen=True)
class Transfer:
    reference: str
    amount_fcfa: int
    status: str  # completed | pending | failed | frozen
    recipient: str


class BusinessBackend(ABC):
    @abstractmethod
    def get_balance(self, phone: str) -> Balance: ...

    @abstractmethod
    def list_offers(self) -> list[Offer]: ...

    @abstractmethod
    def buy_offer(self, phone: str, offer_id: str) -> Purchase:
        """Raises BusinessError("unknown_offer" | "insufficient_balance" | "unknown_customer")."""

    @abstractmethod
    def mobile_money_status(self, phone: str, reference: str) -> Transfer | None: ...

    @abstractmethod
    def report_lost_sim(self, phone: str) -> str:
        """Block the SIM; returns the ticket number."""

    @abstractmethod
    def create_ticket(self, phone: str, category: str, description: str) -> str: ...

    def offer(self, offer_id: str) -> Offer | None:
        return next((o for o in self.list_offers() if o.id == offer_id), None)
