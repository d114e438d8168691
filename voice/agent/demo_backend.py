"""A demo business backend in the project's database: customers, offers, transfers, tickets."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from voice.agent.business import Balance, BusinessBackend, BusinessError, Offer, Purchase, Transfer
from voice.store.db import Database


class DemoBase(DeclarativeBase):
    pass


class Customer(DemoBase):
    __tablename__ = "demo_customers"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    airtime_fcfa: Mapped[int] = mapped_column(Integer)
    data_mb: Mapped[int] = mapped_column(Integer)
    sim_blocked: Mapped[bool] = mapped_column(default=False)


class OfferRow(DemoBase):
    __tablename__ = "demo_offers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    price_fcfa: Mapped[int] = mapped_column(Integer)
    data_mb: Mapped[int] = mapped_column(Integer)
    validity_hours: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")


class TransferRow(DemoBase):
    __tablename__ = "demo_transfers"
    reference: Mapped[str] = mapped_column(String(32), primary_key=True)
    phone: Mapped[str] = mapped_column(ForeignKey("demo_customers.phone"))
    amount_fcfa: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(32))


class TicketRow(DemoBase):
    __tablename__ = "demo_tickets"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


class PurchaseRow(DemoBase):
    __tablename__ = "demo_purchases"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    offer_id: Mapped[str] = mapped_column(String(32))
    price_fcfa: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


# Matches docs/demo-operator.md.
OFFERS = [
    Offer("pass_jour", "Pass Jour", 500, 1024, 24, "1 GB for 24 hours"),
    Offer("pass_semaine", "Pass Semaine", 2000, 5120, 168, "5 GB for 7 days"),
    Offer("pass_mois", "Pass Mois", 5000, 15360, 720, "15 GB for 30 days"),
    Offer("illimix_jour", "Illimix Jour", 300, 200, 24, "unlimited Teranga calls + 200 MB for 24 hours"),
]
CUSTOMERS = [
    ("+221771234567", "Awa Ndiaye", 1250, 300),
    ("+221781112233", "Mamadou Sow", 4800, 2048),
    ("+221700000001", "Demo Customer", 3000, 500),
    ("+2207001234", "Fatou Jallow", 750, 100),
]
TRANSFERS = [
    ("MM-2026-0042", "+221771234567", 15000, "completed", "+221770000099"),
    ("MM-2026-0043", "+221771234567", 5000, "pending", "+221770000098"),
    ("MM-2026-0044", "+221700000001", 2500, "failed", "+221770000097"),
]
DEMO_CALLER = "+221700000001"


class DemoBackend(BusinessBackend):
    def __init__(self, db: Database):
        self.db = db
        DemoBase.metadata.create_all(db.engine)
        self._seed()

    def _seed(self) -> None:
        with self.db.session() as s:
            if s.scalar(select(OfferRow.id).limit(1)) is not None:
                return
            s.add_all(OfferRow(**o.as_dict()) for o in OFFERS)
            s.add_all(Customer(phone=p, name=n, airtime_fcfa=a, data_mb=d) for p, n, a, d in CUSTOMERS)
            s.flush()
            s.add_all(
                TransferRow(reference=r, phone=p, amount_fcfa=a, status=st, recipient=to)
                for r, p, a, st, to in TRANSFERS
            )

    def _customer(self, s, phone: str) -> Customer:
        customer = s.get(Customer, phone)
        if customer is None:
            raise BusinessError("unknown_customer", "no account for this number")
        return customer

    def get_balance(self, phone: str) -> Balance:
        with self.db.session() as s:
            c = self._customer(s, phone)
            return Balance(c.airtime_fcfa, c.data_mb)

    def list_offers(self) -> list[Offer]:
        with self.db.session() as s:
            rows = s.scalars(select(OfferRow).order_by(OfferRow.price_fcfa)).all()
            return [
                Offer(r.id, r.name, r.price_fcfa, r.data_mb, r.validity_hours, r.description) for r in rows
            ]

    def buy_offer(self, phone: str, offer_id: str) -> Purchase:
        with self.db.session() as s:
            row = s.get(OfferRow, offer_id)
            if row is None:
                raise BusinessError("unknown_offer", f"no offer {offer_id!r}")
            c = s.get(Customer, phone, with_for_update=True)
            if c is None:
                raise BusinessError("unknown_customer", "no account for this number")
            if c.airtime_fcfa < row.price_fcfa:
                raise BusinessError("insufficient_balance", "not enough airtime")
            c.airtime_fcfa -= row.price_fcfa
            c.data_mb += row.data_mb
            s.add(PurchaseRow(phone=phone, offer_id=row.id, price_fcfa=row.price_fcfa))
            offer = Offer(row.id, row.name, row.price_fcfa, row.data_mb, row.validity_hours, row.description)
            return Purchase(offer, Balance(c.airtime_fcfa, c.data_mb))

    def mobile_money_status(self, phone: str, reference: str) -> Transfer | None:
        with self.db.session() as s:
            row = s.get(TransferRow, reference.strip().upper())
            if row is None or row.phone != phone:  # never reveal another customer's transfer
                return None
            return Transfer(row.reference, row.amount_fcfa, row.status, row.recipient)

    def report_lost_sim(self, phone: str) -> str:
        with self.db.session() as s:
            self._customer(s, phone).sim_blocked = True
        return self.create_ticket(phone, "sim", "SIM blocked: lost or stolen")

    def create_ticket(self, phone: str, category: str, description: str) -> str:
        ticket = f"T{secrets.randbelow(10**6):06d}"
        with self.db.session() as s:
            s.add(TicketRow(id=ticket, phone=phone, category=category, description=description[:500]))
        return ticket
