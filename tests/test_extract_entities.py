"""Emails, crypto, handles, ages, prices, places and names, each through its own reader."""

from __future__ import annotations

import pytest

from tracelight.extract import extract_record, extract_text
from tracelight.extract.crypto import bech32_verify, eth_checksum, find_crypto
from tracelight.extract.normalize import fold
from tracelight.records import AdRecord


def values(text: str, kind: str, region: str = "US") -> list[str]:
    return [m.value for m in extract_text(text, "body", region, kinds=(kind,))]


@pytest.mark.parametrize(("text", "expected"), [
    ("amy at gmail dot com", ["amy@gmail.com"]),
    ("amy (at) gmail [dot] com", ["amy@gmail.com"]),
    ("amy{at}gmail{dot}com", ["amy@gmail.com"]),
    ("amy @ gmail .com", ["amy@gmail.com"]),
    ("Amy.Smith@Example.COM.", ["amy.smith@example.com"]),
    ("amy@gmail", ["amy@gmail.com"]),
    ("ａｍｙ＠ｇｍａｉｌ．ｃｏｍ", ["amy@gmail.com"]),
    ("kitty[at]yahoo[dot]co[dot]uk", ["kitty@yahoo.co.uk"]),
    ("a@b.com, c@d.org", ["a@b.com", "c@d.org"]),
    ("amy at gmail dot com. It is late", ["amy@gmail.com"]),
    ("meet me at the mall dot com", []),
    ("email me at gmail dot com", []),
    ("x@y", []),
])
def test_emails(text: str, expected: list[str]) -> None:
    assert values(text, "email") == expected


# BIP-173 / BIP-350 test vectors (valid), and one-character corruptions (invalid)
VALID_SEGWIT = [
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
]
INVALID_SEGWIT = [
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # checksum
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj1",
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0c5xw7kv8f3t4",  # mixed case
    # a v1 program with a bech32 (not bech32m) checksum: BIP-350 says invalid
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
]


@pytest.mark.parametrize("addr", VALID_SEGWIT)
def test_bech32_valid(addr: str) -> None:
    assert bech32_verify(addr) in ("bc", "tb")


@pytest.mark.parametrize("addr", INVALID_SEGWIT)
def test_bech32_invalid(addr: str) -> None:
    assert bech32_verify(addr) is None


def test_base58_and_eth() -> None:
    assert values("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "crypto") == \
        ["BTC:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]
    assert values("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "crypto") == []
    assert values("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "crypto") == \
        ["BTC:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"]
    # EIP-55 examples from the EIP text
    for good in ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                 "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                 "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"):
        assert eth_checksum(good[2:].lower()) == good[2:]
        assert values(good, "crypto") == [f"ETH:{good.lower()}"]
    assert values("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "crypto") == []
    assert values("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "crypto") == \
        ["ETH:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"]
    assert [h.currency for h in find_crypto(fold("LTC: ltc1qg82qk5ykyv3pvwy9kxhkj8gaevmp4vcwa2z6q2"
                                                  " zz"))] in ([], ["LTC"])


@pytest.mark.parametrize(("text", "expected"), [
    ("22 yrs", ["22"]), ("age: 22", ["22"]), ("I'm 22", ["22"]), ("22yo", ["22"]),
    ("twenty two years old", ["22"]), ("I'm twenty-two", ["22"]), ("16 y/o", ["16"]),
    ("im 17", ["17"]), ("tengo 19 años", ["19"]), ("veintidós años", ["22"]),
    ("5 years experience", []), ("I'm 5'4", []), ("I'm 100% real", []),
    ("3 years in business", []), ("$22 yrs", []), ("I am 34-24-36", []),
])
def test_ages(text: str, expected: list[str]) -> None:
    assert values(text, "age") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("$150/hr", ["150 USD/60"]), ("hh 100, hr 180", ["100 USD/30", "180 USD/60"]),
    ("qv 80 roses", ["80 USD/15"]), ("200 donation 1 hour", ["200 USD/60"]),
    ("$200 for 1 hour", ["200 USD/60"]), ("1hr: $200", ["200 USD/60"]),
    ("2hrs $350", ["350 USD/120"]), ("€120 per hour", ["120 EUR/60"]),
    ("overnight $1,200", ["1200 USD/720"]), ("$80", ["80 USD"]),
    ("5'4 120lbs", []), ("call 206 555 0143", []),
])
def test_prices(text: str, expected: list[str]) -> None:
    assert values(text, "price") == expected


def test_price_currency_follows_region() -> None:
    assert values("$150/hr", "price", "CA") == ["150 CAD/60"]


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("IG: amy_22", "social", ["instagram:amy_22"]),
    ("snap @AmySnap", "social", ["snapchat:amysnap"]),
    ("kik amy22", "social", ["kik:amy22"]),
    ("OF: lolaxo", "social", ["onlyfans:lolaxo"]),
    ("lots of fun", "social", []),
    ("Instagram and snapchat", "social", []),
    ("https://www.instagram.com/jade.rose/", "social", ["instagram:jade.rose"]),
    ("t.me/jadebot", "social", ["telegram:jadebot"]),
    ("x.com/amy2", "social", ["twitter:amy2"]),
    ("cashapp $Name12", "payment", ["cashapp:name12"]),
    ("$Name12", "payment", ["cashapp:name12"]),
    ("$150 hh", "payment", []),
    ("venmo @amy-22", "payment", ["venmo:amy-22"]),
    ("paypal.me/AmyS", "payment", ["paypal:amys"]),
    ("see https://example.org/a?b=1.", "url", ["https://example.org/a?b=1"]),
    ("site.example/page", "url", []),
])
def test_handles_and_urls(text: str, kind: str, expected: list[str]) -> None:
    assert values(text, kind) == expected


def test_payment_handle_keeps_its_written_form_in_the_summary() -> None:
    d = extract_record(AdRecord(id="a", source="s", body="cash app $Name12")).to_dict("a")
    assert d["payment_handles"] == [{"service": "cashapp", "handle": "$Name12"}]


@pytest.mark.parametrize(("text", "expected"), [
    ("New in Seattle, WA this week", ["Seattle, WA, US"]),
    ("Portland, ME", ["Portland, ME, US"]),
    ("visiting Charlotte", ["Charlotte, NC, US"]),
    ("Hi Charlotte", []),
    ("Los Angeles and San Diego", ["Los Angeles, CA, US", "San Diego, CA, US"]),
    ("Toronto, ON", ["Toronto, ON, CA"]),
    ("Sweet and New", []),
])
def test_places(text: str, expected: list[str]) -> None:
    assert values(text, "location") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi I'm Amy, ask for Bella", ["Amy", "Bella"]),
    ("my name is JESSICA.", ["Jessica"]),
    ("call me Maria", ["Maria"]),
    ("I'm New in town, I'm Available", []),
])
def test_names(text: str, expected: list[str]) -> None:
    assert values(text, "name") == expected


def test_record_contract() -> None:
    rec = AdRecord(
        id="a1", source="t", title="Amy 22yo new in Seattle, WA",
        body=("Call 2oh6 five5five 0one4three or amy at gmail dot com. IG: amy_22. "
              "$150/hr. Post ID: 4829173650. BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        url="https://x.example/escorts/4255550199-sweet", location="Seattle, WA")
    d = extract_record(rec).to_dict("a1")
    assert list(d)[:12] == ["id", "phones", "emails", "urls", "social", "payment_handles",
                            "crypto", "ages", "prices", "locations", "names", "obfuscated_phone"]
    assert "mentions" in d
    assert d["phones"] == ["+12065550143", "+14255550199"]
    assert d["emails"] == ["amy@gmail.com"]
    assert d["social"] == [{"platform": "instagram", "handle": "amy_22"}]
    assert d["crypto"] == [{"currency": "BTC", "address": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}]
    assert d["ages"] == [22]
    assert d["prices"] == [{"amount": 150, "currency": "USD", "minutes": 60}]
    assert d["locations"] == [{"city": "Seattle", "region": "WA", "country": "US"}]
    assert d["obfuscated_phone"] is True
    assert d["phone_regions"][0]["country"] == "US"
    texts = {"title": rec.title, "body": rec.body, "url": rec.url, "location": rec.location}
    for m in d["mentions"]:
        assert texts[m["field"]][m["start"]:m["end"]] == m["raw"]
    phone = next(m for m in d["mentions"] if m["kind"] == "phone")
    assert phone == {"kind": "phone", "value": "+12065550143", "field": "body", "start": 5,
                     "end": 30, "obfuscated": True, "raw": "2oh6 five5five 0one4three"}


def test_new_york_is_not_york_pennsylvania() -> None:
    from tracelight.extract import extract_record
    from tracelight.records import AdRecord

    rec = AdRecord(id="1", source="s", body="In New York tonight", location="New York, NY")
    values = {m.value for m in extract_record(rec).mentions if m.kind == "location"}
    assert values == {"New York City, NY, US"}
