"""Fixed vocabularies of the sample world: channels, pages, user agents, countries, experiments."""
from __future__ import annotations

import dataclasses

# (utm_source, utm_medium, campaign prefix, share of new users it brings, daily spend base in USD)
CHANNELS = (
    ("google", "cpc", "search", 0.30, 420.0),
    ("facebook", "paid_social", "prospecting", 0.20, 310.0),
    ("tiktok", "paid_social", "video", 0.10, 150.0),
    ("newsletter", "email", "weekly", 0.10, 20.0),
    (None, None, None, 0.30, 0.0),  # direct / organic: no utm, no spend
)
PAID_CHANNELS = tuple(c[0] for c in CHANNELS if c[4] > 0)

COUNTRIES = ("US", "KR", "DE", "GB", "FR", "BR", "JP", "CA")
FIRST_NAMES = ("Ana", "Min-jun", "Liam", "Seo-yeon", "Noah", "Emma", "Jae", "Olivia", "Lucas", "Mia")
LAST_NAMES = ("Kim", "O'Brien", "Smith", "Park", "Müller", "Silva", "Lee", "Dupont", "Tanaka", "Garcia")
STREETS = ("Main St", "Gangnam-daero", "Rue de Rivoli", "Baker Street", "Avenida Paulista")

CATEGORIES = ("books", "electronics", "home", "toys", "sports", "beauty", "garden", "grocery")
ADJECTIVES = ("Classic", "Smart", "Compact", "Deluxe", "Eco", "Pro", "Mini", "Ultra")
NOUNS = ("Lamp", "Backpack", "Kettle", "Headphones", "Notebook", "Yoga Mat", "Drone", "Candle")

BROWSER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Mobile Safari/537.36",
)
APP_AGENTS = ("ShopApp/5.2 (iOS 17.3; iPhone15,2)", "ShopApp/5.2 (Android 14; Pixel 8)")
BOT_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.31.0",
    "curl/8.5.0",
)
STATIC_ASSETS = ("/static/app.js", "/static/app.css", "/static/logo.png", "/static/hero.jpg", "/favicon.ico")
CONTENT_PAGES = ("/", "/about", "/help", "/deals", "/search?q=lamp", "/blog/spring-sale")


@dataclasses.dataclass(frozen=True)
class Experiment:
    experiment_id: str
    variants: tuple[str, ...]
    split: tuple[float, ...]  # intended assignment shares
    # share of treatment exposures that are logged; < 1 reproduces a logging bug, so
    # the observed split drifts from the intended one (a sample-ratio mismatch)
    treatment_logging: float
    purchase_uplift: float  # multiplier on the purchase probability in treatment


EXPERIMENTS = (
    Experiment("checkout_button_color", ("control", "treatment"), (0.5, 0.5), 1.0, 1.25),
    Experiment("free_shipping_banner", ("control", "treatment"), (0.5, 0.5), 0.80, 1.0),
)

EVENT_TYPES = ("page_view", "click", "add_to_cart", "checkout", "purchase", "signup", "login",
               "experiment_exposure")
UNKNOWN_EVENT_TYPES = ("scroll_depth", "video_play", "push_open")
