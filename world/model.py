"""The clean world's records, before any dirt: plain data, times as UTC epoch milliseconds,
money as integer cents."""
from __future__ import annotations

import dataclasses
import datetime as dt

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


@dataclasses.dataclass(frozen=True)
class Params:
    seed: int
    start_date: dt.date
    days: int
    users: int
    products: int
    dirt_rate: float
    visitors_per_user: float = 0.8
    first_user_id: int = 1             # a shard of a bigger world numbers its users from here
    catalog_seed: int | None = None    # products and ad spend from this seed (default: seed), shared by shards

    @property
    def start_ms(self) -> int:
        return day_ms(self.start_date)

    @property
    def end_ms(self) -> int:
        """First millisecond after the world's last day (UTC)."""
        return self.start_ms + self.days * DAY_MS


@dataclasses.dataclass
class Event:
    event_id: str
    event_type: str
    ts_ms: int
    anonymous_id: str
    user_id: int | None
    platform: str            # web | app
    ip: str
    user_agent: str
    page: str | None
    referrer: str | None
    utm: tuple[str | None, str | None, str | None]  # source, medium, campaign
    props: dict
    session_id: str          # the generator's own session, for checking sessionisation


@dataclasses.dataclass
class OrderItem:
    line_number: int
    product_id: int
    quantity: int
    unit_price_cents: int


@dataclasses.dataclass
class Order:
    order_id: int
    user_id: int
    placed_ms: int
    items: list[OrderItem]
    method: str
    paid_ms: int | None = None
    cancelled_ms: int | None = None
    shipped_ms: int | None = None
    delivered_ms: int | None = None
    refunded_ms: int | None = None
    has_event: bool = True   # False: placed by a client that sends no purchase event

    @property
    def total_cents(self) -> int:
        return sum(i.quantity * i.unit_price_cents for i in self.items)

    @property
    def payment_id(self) -> int:
        return self.order_id * 10 + 1

    def transitions(self) -> list[tuple[int, str]]:
        """(time, new status), in order."""
        steps = [(self.placed_ms, "placed"), (self.paid_ms, "paid"), (self.cancelled_ms, "cancelled"),
                 (self.shipped_ms, "shipped"), (self.delivered_ms, "delivered"), (self.refunded_ms, "refunded")]
        return sorted((t, s) for t, s in steps if t is not None)

    def status_at(self, t_ms: int) -> tuple[str, int] | None:
        """(status, updated_ms) as of t_ms, or None if not yet placed."""
        current = None
        for when, status in self.transitions():
            if when <= t_ms:
                current = (status, when)
        return current


@dataclasses.dataclass
class UserVersion:
    """A user's attributes from `valid_from_ms` until the next version (or deletion)."""
    valid_from_ms: int
    email: str
    full_name: str
    address: str
    country: str
    marketing_consent: bool


@dataclasses.dataclass
class User:
    user_id: int
    created_ms: int
    versions: list[UserVersion]
    deleted_ms: int | None
    anonymous_id: str
    platform: str
    user_agent: str
    ip: str
    acquisition: tuple[str | None, str | None, str | None]

    def version_at(self, t_ms: int) -> UserVersion | None:
        if t_ms < self.created_ms or (self.deleted_ms is not None and t_ms >= self.deleted_ms):
            return None
        current = None
        for version in self.versions:
            if version.valid_from_ms <= t_ms:
                current = version
        return current


@dataclasses.dataclass
class Product:
    product_id: int
    sku: str
    name: str
    category: str
    created_ms: int
    prices: list[tuple[int, int]]  # (from_ms, price cents), ascending

    def price_at(self, t_ms: int) -> tuple[int, int]:
        """(price cents, since ms) in force at t_ms."""
        current = self.prices[0]
        for since, cents in self.prices:
            if since <= t_ms:
                current = (since, cents)
        return current[1], current[0]


@dataclasses.dataclass
class AdSpend:
    spend_date: dt.date
    channel: str
    campaign: str
    spend_cents: int
    impressions: int
    clicks: int


@dataclasses.dataclass
class World:
    params: Params
    users: list[User]
    products: list[Product]
    orders: list[Order]
    events: list[Event]
    ad_spend: list[AdSpend]


def day_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


def ms_to_datetime(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
