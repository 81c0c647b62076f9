"""A synthetic bank: ordinary customers, lookalike benign customers, planted typologies, truth.

`generate(out_dir, accounts=N, seed=S)` writes, deterministically by seed:
- accounts.csv: every account in the native layout;
- transactions.csv: every transaction in time order (native layout);
- truth.json: account -> the typologies planted on it, and the benign lookalikes by kind;
- ads.jsonl: a few non-explicit synthetic ads carrying planted accounts' phones or emails
  (for the account <-> ad links), in tracelight's ad JSON Lines layout.

Ordinary customers earn salaries (ACH payroll from a business), pay rent (to a landlord),
buy groceries and fuel, travel now and then, withdraw cash at home. Small businesses keep
opening hours, take card and cash, and run payroll. Lookalikes raise exactly one red flag
each, as ordinary people do: travelling nurses (lodging in several cities), cash-heavy
restaurants (night-safe deposits after hours, with payroll), landlords with many tenants
(fan-in), employers with many staff (fan-out), crypto hobbyists (kiosk use). Planted
accounts carry a combination. All names, numbers and places are invented.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tracelight.finance.records import ACCOUNT_FIELDS, TX_FIELDS

START = datetime(2026, 1, 5)
DAYS = 60
CITIES = [("Seattle", "WA"), ("Portland", "OR"), ("Boise", "ID"), ("Denver", "CO"),
          ("Phoenix", "AZ"), ("Dallas", "TX"), ("Houston", "TX"), ("Atlanta", "GA"),
          ("Chicago", "IL"), ("Detroit", "MI"), ("Newark", "NJ"), ("Miami", "FL"),
          ("Reno", "NV"), ("Omaha", "NE"), ("Tulsa", "OK"), ("Raleigh", "NC")]
AD_SITES = ["Nightlist Ads", "CityPersonals", "VelvetBoard", "AdHub Classifieds"]
FOREIGN_SITES = ["EuroListings", "AdsMundo", "GlobalPersonals"]
TYPOLOGIES = ("commercial_sex_advertising", "funnel_account", "front_company",
              "exploitative_employment", "alternative_payments", "collection_account")
LOOKALIKES = ("travelling_nurse", "cash_heavy_restaurant", "landlord", "crypto_hobbyist")


@dataclass
class _Acct:
    account_id: str
    kind: str
    city: str
    region: str
    business_type: str = ""
    opening_hours: str = ""
    phone: str = ""
    email: str = ""
    handle: str = ""
    role: str = "ordinary"
    employer: str = ""
    landlord: str = ""
    staff: list[str] = field(default_factory=list)

    def row(self, n: int) -> dict[str, Any]:
        return {"account_id": self.account_id, "kind": self.kind,
                "business_type": self.business_type, "opened": "2020-03-01",
                "phone": self.phone, "email": self.email, "handle": self.handle, "crypto": "",
                "address": f"{100 + n % 900} Example St", "city": self.city,
                "region": self.region, "country": "US", "opening_hours": self.opening_hours}


class _Bank:
    def __init__(self, seed: int, prefix: str = "") -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.txs: list[tuple[datetime, dict[str, Any]]] = []
        self.n = 0

    def tx(self, when: datetime, amount: float, channel: str, frm: str = "", to: str = "",
           merchant: str = "", mcc: str = "", city: str = "", region: str = "") -> None:
        self.n += 1
        self.txs.append((when, {
            "tx_id": f"{self.prefix}T{self.n:09d}", "timestamp": when.isoformat(timespec="seconds"),
            "amount": f"{amount:.2f}", "currency": "USD", "from_account": frm,
            "to_account": to, "channel": channel, "merchant": merchant, "mcc": mcc,
            "city": city, "region": region, "country": "US"}))

    def at(self, day: float, hour_lo: int = 8, hour_hi: int = 20) -> datetime:
        r = self.rng
        return START + timedelta(days=int(day), hours=r.randint(hour_lo, hour_hi - 1),
                                 minutes=r.randint(0, 59))

    def other_cities(self, home: str, k: int) -> list[tuple[str, str]]:
        return self.rng.sample([c for c in CITIES if c[0] != home], k)


def _phone(i: int) -> str:
    return f"+1206555{i % 10000:04d}"


def generate(out_dir: Path, *, accounts: int = 2000, seed: int = 7,
             planted_rate: float = 0.01, lookalike_rate: float = 0.02,
             prefix: str = "") -> dict[str, Any]:
    """Write the synthetic bank into out_dir; return counts. `prefix` starts every account
    and transaction id (several banks generated apart can be ingested together)."""
    if prefix and not prefix.isalnum():
        raise ValueError("an id prefix is letters and digits")
    if accounts < 50:
        raise ValueError("a synthetic bank needs at least 50 accounts")
    out_dir.mkdir(parents=True, exist_ok=True)
    b = _Bank(seed, prefix)
    r = b.rng
    n_biz = max(5, accounts // 12)
    n_landlords = max(2, accounts // 12)
    people: list[_Acct] = []
    biz: list[_Acct] = []
    for i in range(accounts):
        city, region = CITIES[i % len(CITIES)] if i % 3 else r.choice(CITIES)
        if i < n_biz:
            a = _Acct(f"{prefix}B{i:06d}", "business", city, region,
                      business_type=r.choice(["bakery", "hardware", "salon", "auto repair",
                                              "florist", "bookshop"]),
                      opening_hours="09:00-18:00")
            biz.append(a)
        else:
            a = _Acct(f"{prefix}P{i:06d}", "person", city, region)
            people.append(a)
        a.email = f"customer{prefix.lower()}{i}@example.org"
    landlords = people[:n_landlords]
    for a in landlords:
        a.role = "landlord"
    # roles: planted typologies and lookalikes among the rest
    pool = people[n_landlords:]
    r.shuffle(pool)
    per_typo = max(2, round(accounts * planted_rate))
    per_look = max(2, round(accounts * lookalike_rate))
    truth: dict[str, list[str]] = {}
    look: dict[str, list[str]] = {k: [] for k in LOOKALIKES}
    k = 0
    planted_people: dict[str, list[_Acct]] = {}
    for typo in ("commercial_sex_advertising", "funnel_account", "alternative_payments",
                 "collection_account"):
        planted_people[typo] = pool[k:k + per_typo]
        k += per_typo
    nurses = pool[k:k + per_look]
    k += per_look
    hobbyists = pool[k:k + per_look]
    k += per_look
    victims = pool[k:k + per_typo * 10]  # possible victims: counterparties, never subjects
    k += per_typo * 10
    workers = pool[k:k + per_typo * 9]
    k += per_typo * 9
    # businesses: fronts, exploitative employers, restaurants, ordinary
    r.shuffle(biz)
    fronts = biz[:per_typo]
    employers_bad = biz[per_typo:2 * per_typo]
    restaurants = biz[2 * per_typo:2 * per_typo + per_look]
    ordinary_biz = biz[2 * per_typo + per_look:] or biz[-1:]
    for a in fronts:
        a.business_type, a.opening_hours = r.choice(["massage", "nail salon"]), "10:00-20:00"
    for a in restaurants:
        a.business_type, a.opening_hours, a.role = "restaurant", "11:00-22:00", "restaurant"
    for a in employers_bad:
        a.business_type = r.choice(["cleaning services", "farm labour contractor"])
    for a in people:
        a.employer = r.choice(ordinary_biz + restaurants).account_id
        a.landlord = r.choice(landlords).account_id if a.role != "landlord" else ""
    by_id = {a.account_id: a for a in people + biz}
    for a in people:
        by_id[a.employer].staff.append(a.account_id)

    # ---- ordinary life ------------------------------------------------------------------
    for a in people:
        salary = r.choice([1400, 1800, 2200, 2600, 3100])
        for d in range(r.randint(0, 13), DAYS, 14):
            b.tx(b.at(d, 6, 7), salary * r.uniform(0.95, 1.05), "ach", a.employer, a.account_id,
                 "Payroll", "", a.city, a.region)
        if a.landlord:
            for d in range(r.randint(0, 3), DAYS, 30):
                b.tx(b.at(d), r.choice([900, 1100, 1300, 1600]), r.choice(["ach", "p2p"]),
                     a.account_id, a.landlord, "", "", a.city, a.region)
        for d in range(r.randint(0, 6), DAYS, 7):
            b.tx(b.at(d), r.uniform(40, 160), "card", a.account_id, "", "FreshMart Grocery",
                 "5411", a.city, a.region)
            if r.random() < 0.5:
                b.tx(b.at(d + 2), r.uniform(25, 60), "card", a.account_id, "",
                     "Corner Fuel", "5541", a.city, a.region)
            if r.random() < 0.3:
                shop = r.choice(ordinary_biz + restaurants)
                b.tx(b.at(d + 1, 11, 20), r.uniform(10, 90), "card", a.account_id,
                     shop.account_id, shop.business_type.title(), "5812", shop.city,
                     shop.region)
        if r.random() < 0.6:
            b.tx(b.at(r.uniform(0, DAYS)), r.choice([60, 100, 200]), "cash_withdrawal",
                 a.account_id, "", "ATM", "", a.city, a.region)
        if r.random() < 0.2:
            b.tx(b.at(r.uniform(0, DAYS)), r.uniform(50, 900), "cash_deposit", "",
                 a.account_id, "Branch", "", a.city, a.region)
        if r.random() < 0.15:  # a trip: one city, a couple of nights
            (c, reg), = b.other_cities(a.city, 1)
            trip = r.uniform(0, DAYS - 3)
            b.tx(b.at(trip), r.uniform(180, 420), "card", a.account_id, "", "Harbor Inn", "7011",
                 c, reg)
        if r.random() < 0.05:
            b.tx(b.at(r.uniform(0, DAYS)), r.choice([25, 50]), "prepaid_load", a.account_id,
                 "", "Gift Card Kiosk", "6540", a.city, a.region)
        if a.role == "landlord":
            for d in range(5, DAYS, 30):
                b.tx(b.at(d), r.uniform(2500, 6000), "ach", a.account_id, "MORTGAGE-CO",
                     "Home Loans", "", a.city, a.region)
    for a in biz:
        for d in range(DAYS):
            if d % 7 == 6:
                continue
            if r.random() < (0.6 if a.role == "restaurant" else 0.25):
                b.tx(b.at(d, 10, 17), r.uniform(200, 2400 if a.role == "restaurant" else 900),
                     "cash_deposit", "", a.account_id, "Branch", "", a.city, a.region)
        if a in fronts or a in employers_bad:
            continue
        for d in range(r.randint(0, 13), DAYS, 14):
            b.tx(b.at(d, 5, 6), 50.0, "ach", a.account_id, "PAYROLL-SVC", "Payroll", "",
                 a.city, a.region)

    # ---- lookalikes: one red flag each ---------------------------------------------------
    for a in nurses:
        a.role = "travelling_nurse"
        look["travelling_nurse"].append(a.account_id)
        for start in (r.uniform(0, 15), r.uniform(30, 45)):
            for j, (c, reg) in enumerate(b.other_cities(a.city, 4)):
                b.tx(b.at(start + j * 2.5), r.uniform(150, 400), "card", a.account_id, "",
                     "Suites Hotel", "7011", c, reg)
    for a in restaurants:
        look["cash_heavy_restaurant"].append(a.account_id)
        for d in r.sample(range(DAYS), 12):  # night-safe deposits after closing
            b.tx(b.at(d, 22, 24) + timedelta(minutes=30), r.uniform(800, 3500), "cash_deposit",
                 "", a.account_id, "Night Safe", "", a.city, a.region)
    for a in landlords:
        look["landlord"].append(a.account_id)
    for a in hobbyists:
        a.role = "crypto_hobbyist"
        look["crypto_hobbyist"].append(a.account_id)
        for d in sorted(r.sample(range(DAYS), 5)):
            b.tx(b.at(d), r.uniform(100, 500), "crypto_kiosk", a.account_id, "",
                 "Coin Kiosk", "6051", a.city, a.region)

    # ---- planted typologies ------------------------------------------------------------
    ads: list[dict[str, Any]] = []

    def plant(a: _Acct, typo: str) -> None:
        truth.setdefault(a.account_id, []).append(typo)

    def advertise(a: _Acct, cities: list[tuple[str, str]], day: float) -> None:
        a.phone = a.phone or _phone(len(ads) * 7 + 1000 + int(a.account_id[-6:]))
        for c, _reg in cities:
            ads.append({"id": f"fin-{len(ads):05d}", "source": "fin-demo",
                        "title": f"New listing in {c}",
                        "body": f"Appointments this week in {c}. Call {a.phone} to book.",
                        "posted_at": (START + timedelta(days=day)).isoformat() + "Z",
                        "location": c})

    for a in planted_people["commercial_sex_advertising"]:
        plant(a, "commercial_sex_advertising")
        start = r.uniform(5, 30)
        cities = b.other_cities(a.city, 3)
        for j in range(r.randint(4, 6)):
            b.tx(b.at(start + j * 3), r.uniform(15, 80), "card", a.account_id, "",
                 r.choice(AD_SITES), "7311", a.city, a.region)
        for j, (c, reg) in enumerate(cities):
            b.tx(b.at(start + 1 + j * 2), r.uniform(90, 200), "card", a.account_id, "",
                 "Budget Motel", "7011", c, reg)
        advertise(a, cities, start)
    for a in planted_people["funnel_account"]:
        plant(a, "funnel_account")
        start = r.uniform(5, 40)
        cities = b.other_cities(a.city, 4)
        deposits = 0.0
        for j, (c, reg) in enumerate(cities):
            amt = r.uniform(1500, 4000)
            deposits += amt
            b.tx(b.at(start + j * 1.5), amt, "cash_deposit", "", a.account_id, "Branch", "",
                 c, reg)
        used = {reg for _c, reg in cities}
        far = r.choice([c for c in CITIES if c[1] not in used and c[0] != a.city])
        out = deposits * r.uniform(0.8, 0.95)
        for part in (0.5, 0.5):
            b.tx(b.at(start + 3 * 1.5 + r.uniform(0.5, 2)), out * part, "cash_withdrawal",
                 a.account_id, "", "Branch", "", far[0], far[1])
    for a in planted_people["alternative_payments"]:
        plant(a, "alternative_payments")
        start = r.uniform(5, 30)
        for j in range(r.randint(4, 6)):
            b.tx(b.at(start + j * 4), r.uniform(100, 500), "prepaid_load", a.account_id, "",
                 "Gift Card Kiosk", "6540", a.city, a.region)
        for j in range(r.randint(3, 4)):
            b.tx(b.at(start + 1 + j * 5), r.uniform(200, 900), "crypto_kiosk", a.account_id,
                 "", "Coin Kiosk", "6051", a.city, a.region)
        if r.random() < 0.5:
            for j in range(2):
                b.tx(b.at(start + 2 + j * 6), r.uniform(20, 60), "card", a.account_id, "",
                     r.choice(FOREIGN_SITES), "7311", a.city, a.region)
    for i, a in enumerate(planted_people["collection_account"]):
        plant(a, "collection_account")
        start = r.uniform(5, 30)
        senders = victims[i * 10:(i + 1) * 10]
        for d in range(3):
            for v in senders:
                b.tx(b.at(start + d * 7 + r.uniform(0, 2)), r.uniform(100, 400), "p2p",
                     v.account_id, a.account_id, "", "", v.city, v.region)
        for j, (c, reg) in enumerate(b.other_cities(a.city, 3)):
            b.tx(b.at(start + 2 + j * 2), r.uniform(90, 200), "card", a.account_id, "",
                 "Budget Motel", "7011", c, reg)
        a.email = f"bookings{prefix.lower()}{i}@example.net"
        ads.append({"id": f"fin-{len(ads):05d}", "source": "fin-demo", "title": "Now booking",
                    "body": f"Now booking, write to {a.email} for times.",
                    "posted_at": (START + timedelta(days=start)).isoformat() + "Z",
                    "location": a.city})
    for a in fronts:
        plant(a, "front_company")
        for d in r.sample(range(DAYS), 14):
            b.tx(b.at(d, 21, 24), r.uniform(900, 3000), "cash_deposit", "", a.account_id,
                 "Night Safe", "", a.city, a.region)
        if r.random() < 0.5:
            for j in range(3):
                b.tx(b.at(10 + j * 5), r.uniform(30, 90), "card", a.account_id, "",
                     r.choice(AD_SITES), "7311", a.city, a.region)
    for i, a in enumerate(employers_bad):
        plant(a, "exploitative_employment")
        crew = workers[i * 9:(i + 1) * 9]
        for d in range(2, DAYS, 7):
            for w in crew:
                wage = r.uniform(500, 700)
                b.tx(b.at(d, 6, 8), wage, "ach", a.account_id, w.account_id, "Wages", "",
                     a.city, a.region)
                b.tx(b.at(d + 1), wage * r.uniform(0.55, 0.75), "p2p", w.account_id,
                     a.account_id, "", "", w.city, w.region)
        for d in range(1, DAYS, 4):
            b.tx(b.at(d, 10, 17), r.uniform(1500, 3500), "cash_deposit", "", a.account_id,
                 "Branch", "", a.city, a.region)

    # ---- write ----------------------------------------------------------------------------
    b.txs.sort(key=lambda t: (t[0], t[1]["tx_id"]))
    all_accts = people + biz
    with (out_dir / "accounts.csv").open("w", newline="", encoding="utf-8") as fh:
        aw = csv.DictWriter(fh, fieldnames=list(ACCOUNT_FIELDS))
        aw.writeheader()
        for n, acct in enumerate(sorted(all_accts, key=lambda x: x.account_id)):
            aw.writerow(acct.row(n))
    with (out_dir / "transactions.csv").open("w", newline="", encoding="utf-8") as fh:
        tw = csv.DictWriter(fh, fieldnames=list(TX_FIELDS))
        tw.writeheader()
        for _when, row in b.txs:
            tw.writerow(row)
    with (out_dir / "ads.jsonl").open("w", encoding="utf-8") as fh:
        for ad in ads:
            fh.write(json.dumps(ad) + "\n")
    planted = {t: sorted(a for a, ts in truth.items() if t in ts) for t in TYPOLOGIES}
    summary: dict[str, Any] = {"seed": seed, "accounts": len(all_accts), "transactions": len(b.txs),
               "planted": planted,
               "lookalikes": look, "ads": len(ads)}
    (out_dir / "truth.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return {"accounts": len(all_accts), "transactions": len(b.txs), "ads": len(ads),
            "planted": sum(len(v) for v in planted.values())}
