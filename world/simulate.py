"""Simulate the clean world: users, their devices and sessions, orders, products, ad spend.

Each user and each anonymous visitor has a random generator seeded by (seed, id), so a
person's whole life does not depend on anyone else's and the world can be generated in
parallel, in any partitioning, with the same result.
"""
from __future__ import annotations

import datetime as dt
import random

from world import catalog
from world.model import (DAY_MS, HOUR_MS, MINUTE_MS, AdSpend, Event, Order, OrderItem, Params, Product, User,
                         UserVersion, World)

SESSION_SLOTS = 12           # two-hour slots a day; sessions start in distinct slots, so gaps exceed 30 min
SLOT_WEIGHTS = (1, 1, 1, 2, 3, 4, 4, 5, 6, 7, 6, 3)
MAX_GAP_MS = 4 * MINUTE_MS   # between events of one session (far below the 30-minute timeout)


def rng_for(params: Params, kind: str, key: int) -> random.Random:
    return random.Random(f"{params.seed}:{kind}:{key}")


def catalog_rng(params: Params, kind: str, key: int) -> random.Random:
    """For what all shards of one world share: the catalogue and the ad spend."""
    return random.Random(f"{params.seed if params.catalog_seed is None else params.catalog_seed}:{kind}:{key}")


def simulate(params: Params) -> World:
    products = make_products(params)
    users, orders, events = [], [], []
    for user_id in range(params.first_user_id, params.first_user_id + params.users):
        user, user_orders, user_events = simulate_user(params, user_id, products)
        users.append(user)
        orders.extend(user_orders)
        events.extend(user_events)
    for visitor in range(1, int(params.users * params.visitors_per_user) + 1):
        events.extend(simulate_visitor(params, visitor, products))
    events.sort(key=lambda e: (e.ts_ms, e.event_id))
    return World(params, users, products, orders, events, make_ad_spend(params))


def make_products(params: Params) -> list[Product]:
    products = []
    for product_id in range(1, params.products + 1):
        rng = catalog_rng(params, "product", product_id)
        name = f"{rng.choice(catalog.ADJECTIVES)} {rng.choice(catalog.NOUNS)}"
        if rng.random() < 0.15:  # names a CSV writer must quote
            name = rng.choice((f'{name}, 2-pack', f'{name} "Limited"', f"{name}\nGift edition"))
        created = params.start_ms - rng.randint(30, 400) * DAY_MS
        prices = [(created, rng.randint(299, 19999))]
        if rng.random() < 0.3:
            change_at = params.start_ms + rng.randint(0, params.days * DAY_MS - 1)
            prices.append((change_at, max(99, int(prices[0][1] * rng.choice((0.8, 0.9, 1.1, 1.25))))))
        products.append(Product(product_id, f"SKU-{product_id:05d}", name, rng.choice(catalog.CATEGORIES),
                                created, prices))
    return products


def make_ad_spend(params: Params) -> list[AdSpend]:
    rows = []
    for day in range(params.days):
        spend_date = params.start_date + dt.timedelta(days=day)
        for index, (source, _medium, campaign, _share, base) in enumerate(catalog.CHANNELS):
            if not base:
                continue
            rng = catalog_rng(params, f"spend:{index}", day)
            cents = int(base * 100 * rng.uniform(0.7, 1.3) * max(1.0, params.users / 3000))
            impressions = int(cents / 100 * rng.uniform(80, 150))
            rows.append(AdSpend(spend_date, source, f"{campaign}_{spend_date:%Y%m}", cents, impressions,
                                int(impressions * rng.uniform(0.01, 0.04))))
    return rows


def _device(rng: random.Random) -> tuple[str, str, str]:
    platform = "web" if rng.random() < 0.7 else "app"
    agents = catalog.BROWSER_AGENTS if platform == "web" else catalog.APP_AGENTS
    ip = f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return platform, rng.choice(agents), ip


def _channel(rng: random.Random) -> tuple[str | None, str | None, str | None]:
    pick = rng.random()
    for source, medium, campaign, share, _ in catalog.CHANNELS:
        pick -= share
        if pick < 0:
            return source, medium, campaign
    return None, None, None


def _user_versions(rng: random.Random, user_id: int, created: int, params: Params) -> list[UserVersion]:
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    address = f"{rng.randint(1, 999)} {rng.choice(catalog.STREETS)}"
    if rng.random() < 0.1:
        address += f", Apt {rng.randint(1, 40)}\nBuilding \"{rng.choice('ABC')}\""
    version = UserVersion(created, f"{first.lower()}.{user_id}@example.com", f"{first} {last}", address,
                          rng.choice(catalog.COUNTRIES), rng.random() < 0.6)
    versions = [version]
    changes = []
    for kind, chance in (("email", 0.06), ("country", 0.04), ("consent", 0.10)):
        if rng.random() < chance:
            changes.append((max(created + HOUR_MS, params.start_ms + rng.randint(0, params.days * DAY_MS - 1)), kind))
    for at, change in sorted(changes):
        current = versions[-1]
        if change == "email":
            new = UserVersion(at, f"{first.lower()}.{last.lower().replace(chr(39), '')}{user_id}@mail.example.org",
                              current.full_name, current.address, current.country, current.marketing_consent)
        elif change == "country":
            new = UserVersion(at, current.email, current.full_name, current.address,
                              rng.choice([c for c in catalog.COUNTRIES if c != current.country]),
                              current.marketing_consent)
        else:
            new = UserVersion(at, current.email, current.full_name, current.address, current.country,
                              not current.marketing_consent)
        versions.append(new)
    return versions


def simulate_user(params: Params, user_id: int, products: list[Product]) -> tuple[User, list[Order], list[Event]]:
    rng = rng_for(params, "user", user_id)
    if rng.random() < 0.4:
        signup_day = None  # signed up before the world starts
        created = params.start_ms - rng.randint(1, 365) * DAY_MS - rng.randint(0, DAY_MS - 1)
    else:
        signup_day = rng.randint(0, params.days - 1)
        created = 0  # set by the signup event below
    platform, agent, ip = _device(rng)
    anonymous_id = f"anon-{rng.getrandbits(64):016x}"
    acquisition = _channel(rng)
    deleted_day = rng.randint(1, params.days - 1) if rng.random() < 0.01 and params.days > 1 else None
    if deleted_day is not None and signup_day is not None and deleted_day <= signup_day:
        deleted_day = None
    activity = rng.betavariate(1.2, 3.5)
    sim = _Sessions(params, rng, products, anonymous_id, platform, agent, ip, user_id)

    first_session = True
    last_day = deleted_day if deleted_day is not None else params.days
    start_day = signup_day if signup_day is not None else 0
    for day in range(start_day, last_day):
        is_signup_day = day == signup_day
        if not is_signup_day and rng.random() > activity:
            continue
        slots = sorted(rng.choices(range(SESSION_SLOTS), weights=SLOT_WEIGHTS, k=rng.choice((1, 1, 1, 2, 2, 3))))
        for n, slot in enumerate(sorted(set(slots))):
            start = params.start_ms + day * DAY_MS + slot * 2 * HOUR_MS + rng.randint(0, 20 * MINUTE_MS)
            utm = acquisition if first_session else (_channel(rng) if rng.random() < 0.25 else (None, None, None))
            if is_signup_day and n == 0:
                created = sim.session(start, utm, signup=True)
            else:
                sim.session(start, utm, remembered=rng.random() < 0.6)
            first_session = False
    if signup_day is not None and created == 0:
        raise AssertionError("signup session did not produce a signup")
    versions = _user_versions(rng, user_id, created, params)
    deleted_ms = None
    if deleted_day is not None:
        deleted_ms = max(created + HOUR_MS, params.start_ms + deleted_day * DAY_MS + rng.randint(0, 3 * HOUR_MS))
        versions = [v for v in versions if v.valid_from_ms < deleted_ms]
    user = User(user_id, created, versions, deleted_ms, anonymous_id, platform, agent, ip, acquisition)
    for event in sim.events:
        if event.event_type in ("signup", "login"):
            event.props["email"] = user.version_at(event.ts_ms).email
    return user, sim.orders, sim.events


def simulate_visitor(params: Params, visitor: int, products: list[Product]) -> list[Event]:
    """Someone who browses without an account, now and then."""
    rng = rng_for(params, "visitor", visitor)
    platform, agent, ip = _device(rng)
    sim = _Sessions(params, rng, products, f"anon-{rng.getrandbits(64):016x}", platform, agent, ip, None)
    activity = rng.betavariate(1.0, 8.0)
    acquisition = _channel(rng)
    for day in range(params.days):
        if rng.random() < activity:
            slot = rng.choices(range(SESSION_SLOTS), weights=SLOT_WEIGHTS)[0]
            start = params.start_ms + day * DAY_MS + slot * 2 * HOUR_MS + rng.randint(0, 20 * MINUTE_MS)
            sim.session(start, acquisition if not sim.events else (None, None, None))
    return sim.events


class _Sessions:
    """Builds one device's sessions: events, and the orders their purchases place."""

    def __init__(self, params, rng, products, anonymous_id, platform, agent, ip, user_id):
        self.params, self.rng, self.products = params, rng, products
        self.anonymous_id, self.platform, self.agent, self.ip = anonymous_id, platform, agent, ip
        self.user_id = user_id
        self.events: list[Event] = []
        self.orders: list[Order] = []
        self.session_count = 0
        self.exposed: set[tuple[str, int]] = set()

    def session(self, start: int, utm, signup: bool = False, remembered: bool = False) -> int:
        """Emit one session from `start`; returns the signup time if it signs up."""
        rng = self.rng
        self.session_count += 1
        session_id = f"{self.anonymous_id}-{self.session_count}"
        state = {"t": start, "identified": remembered and self.user_id is not None, "referrer": None}
        if utm[0] is not None:
            state["referrer"] = f"https://{utm[0]}.example/"
        signup_ms = 0

        def emit(kind: str, page: str | None = None, **props) -> Event:
            event = Event(f"{rng.getrandbits(128):032x}", kind, state["t"], self.anonymous_id,
                          self.user_id if state["identified"] else None, self.platform, self.ip, self.agent,
                          page, state["referrer"], utm if state["first"] else (None, None, None),
                          props, session_id)
            self.events.append(event)
            state["first"] = False
            state["t"] += rng.randint(5_000, MAX_GAP_MS)
            return event

        state["first"] = True
        first_page = rng.choice(catalog.CONTENT_PAGES[:3]) if rng.random() < 0.6 else None
        product = rng.choice(self.products)
        emit("page_view", first_page or f"/products/{product.product_id}")
        state["referrer"] = None
        if signup:
            emit("page_view", "/signup")
            event = emit("signup", "/signup")
            state["identified"] = True
            event.user_id = self.user_id
            signup_ms = event.ts_ms
        for _ in range(rng.randint(1, 5)):
            product = rng.choice(self.products)
            emit("page_view", f"/products/{product.product_id}", product_id=product.product_id)
            if self.user_id is not None and state["identified"]:
                self._exposure(emit, "free_shipping_banner")
            if rng.random() < 0.3:
                emit("click", f"/products/{product.product_id}", element="reviews")
        wants_cart = rng.random() < (0.35 if self.user_id else 0.15)
        if not wants_cart:
            return signup_ms
        if self.user_id is not None and not state["identified"]:
            emit("login", "/login")
            state["identified"] = True
        price, _ = product.price_at(state["t"])
        quantity = rng.choice((1, 1, 1, 2, 3))
        emit("add_to_cart", f"/products/{product.product_id}", product_id=product.product_id,
             quantity=quantity, price_cents=price)
        if self.user_id is None or rng.random() > 0.55:
            return signup_ms
        emit("checkout", "/checkout")
        uplift = self._exposure(emit, "checkout_button_color")
        if rng.random() > 0.55 * uplift:
            return signup_ms
        self._purchase(emit, product, quantity)
        return signup_ms

    def _exposure(self, emit, experiment_id: str) -> float:
        """Log an exposure once per session; returns the variant's purchase multiplier."""
        experiment = next(e for e in catalog.EXPERIMENTS if e.experiment_id == experiment_id)
        variant_rng = random.Random(f"{self.params.seed}:variant:{experiment_id}:{self.user_id}")
        variant = variant_rng.choices(experiment.variants, weights=experiment.split)[0]
        logged = variant == "control" or variant_rng.random() < experiment.treatment_logging
        key = (experiment_id, self.session_count)
        if logged and key not in self.exposed:
            self.exposed.add(key)
            emit("experiment_exposure", None, experiment_id=experiment_id, variant=variant)
        return experiment.purchase_uplift if variant == "treatment" else 1.0

    def _purchase(self, emit, product: Product, quantity: int) -> None:
        rng = self.rng
        if rng.random() < 0.01:  # the client fired purchase, but the order never reached the database
            emit("purchase", "/checkout/complete", order_id=self.user_id * 1000 + 999, amount_cents=0)
            return
        items = [OrderItem(1, product.product_id, quantity, product.price_at(self.events[-1].ts_ms)[0])]
        for line in range(2, 2 + (rng.random() < 0.3) * rng.randint(1, 3)):
            extra = rng.choice(self.products)
            items.append(OrderItem(line, extra.product_id, 1, extra.price_at(self.events[-1].ts_ms)[0]))
        order_id = self.user_id * 1000 + len(self.orders) + 1
        tracked = rng.random() >= 0.02
        if tracked:
            placed = emit("purchase", "/checkout/complete", order_id=order_id,
                          amount_cents=sum(i.quantity * i.unit_price_cents for i in items)).ts_ms
        else:
            placed = self.events[-1].ts_ms + rng.randint(5_000, 60_000)
        order = Order(order_id, self.user_id, placed, items, rng.choice(("card", "card", "paypal", "voucher")),
                      has_event=tracked)
        if rng.random() < 0.05:
            order.cancelled_ms = placed + rng.randint(HOUR_MS, 20 * HOUR_MS)
        else:
            order.paid_ms = placed + rng.randint(5_000, 120_000)
            order.shipped_ms = order.paid_ms + rng.randint(DAY_MS // 2, 2 * DAY_MS)
            order.delivered_ms = order.shipped_ms + rng.randint(DAY_MS, 4 * DAY_MS)
            if rng.random() < 0.04:
                order.refunded_ms = order.delivered_ms + rng.randint(DAY_MS // 2, 3 * DAY_MS)
        self.orders.append(order)
