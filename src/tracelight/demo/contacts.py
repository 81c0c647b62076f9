"""Synthetic identifiers for the demo corpus and the ways ads write (and hide) them.

Every identifier made here is *valid* by the rules a real extractor checks (phonenumbers'
`is_valid_number`, base58check, bech32, EIP-55), so a correct extractor must find it; the
decoys made here are deliberately *invalid* (a broken checksum) so a correct extractor must not.
All values are random: the numbers belong to nobody's real listing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import base58
import phonenumbers

from tracelight.demo.rand import pick
from tracelight.extract.crypto import (
    BECH32_CHARSET,
    b58_verify,
    bech32_polymod,
    bech32_verify,
    eth_checksum,
    eth_verify,
    hrp_expand,
)

p2pkh_verify = b58_verify

# --------------------------------------------------------------------------------------- phones

EN_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ES_WORDS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
# Spellings real ads use to dodge scrapers (FIELD_NOTES "How contacts are hidden").
EN_VARIANTS = {0: ["oh", "zer0", "zero"], 2: ["too", "two"], 4: ["f0ur", "for", "four"],
               6: ["s1x", "six"], 1: ["one", "0ne"], 8: ["eight", "ate"]}
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SEPARATOR_EMOJI = ["✨", "🌸", "💕", "⭐", "🌹", "•"]


def _fullwidth(d: int) -> str:
    return chr(0xFF10 + d)


def _math(base: int) -> Callable[[int], str]:
    return lambda d: chr(base + d)


def _circled(d: int) -> str:
    return "⓪" if d == 0 else chr(0x2460 + d - 1)


def _keycap(d: int) -> str:
    return f"{d}\ufe0f\u20e3"


UNICODE_DIGITS: dict[str, Callable[[int], str]] = {
    "fullwidth": _fullwidth,
    "math_bold": _math(0x1D7CE),
    "math_double": _math(0x1D7D8),
    "math_sans": _math(0x1D7E2),
    "math_mono": _math(0x1D7F6),
    "circled": _circled,
    "superscript": lambda d: SUPERSCRIPT[d],
    "keycap": _keycap,
}


@dataclass(frozen=True)
class Phone:
    e164: str
    country: str  # US, CA, GB

    @property
    def groups(self) -> list[str]:
        """Digit groups as written nationally (without the +1 / +44 prefix)."""
        if self.e164.startswith("+1"):
            d = self.e164[2:]
            return [d[:3], d[3:6], d[6:]]
        d = self.e164[3:]  # +44 7xxx xxxxxx
        return [d[:4], d[4:]]

    @property
    def prefix(self) -> str:
        return "+1" if self.e164.startswith("+1") else "+44"


def _valid(e164: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False


# In the area codes of places.py every exchange 200-999 but N11 and 555 is valid (checked
# exhaustively once; tests re-check every number of a corpus), so North American numbers are
# validated once per area code. UK mobile ranges have holes (07700...), so each is checked.
_AREA_OK: dict[str, bool] = {}


def _valid_fast(e164: str) -> bool:
    if not e164.startswith("+1"):
        return _valid(e164)
    ok = _AREA_OK.get(e164[2:5])
    if ok is None:
        ok = _AREA_OK[e164[2:5]] = _valid(e164)
    return ok


def make_phone(rng: random.Random, country: str, area_codes: list[str], used: set[str]) -> Phone:
    """A random, valid, never-before-used number in a real area code of `country`."""
    for _ in range(1000):
        if country == "GB":
            e164 = "+447" + pick(rng, ["4", "5", "7", "8", "9"]) + "".join(
                pick(rng, "0123456789") for _ in range(8))
        else:
            exch = rng.randint(200, 999)
            if exch % 100 == 11 or exch == 555:
                continue  # N11 service codes and the 555 range are not ordinary numbers
            e164 = f"+1{pick(rng, area_codes)}{exch}{rng.randint(0, 9999):04d}"
        if e164 not in used and _valid_fast(e164):
            used.add(e164)
            return Phone(e164, country)
    raise RuntimeError(f"could not make a valid phone for {country}")  # pragma: no cover


def make_tollfree(rng: random.Random, used: set[str]) -> Phone:
    for _ in range(1000):
        e164 = f"+1{pick(rng, ['800', '888', '877', '866'])}{rng.randint(200, 999)}" \
               f"{rng.randint(0, 9999):04d}"
        if e164 not in used and _valid(e164):
            used.add(e164)
            return Phone(e164, "US")
    raise RuntimeError("could not make a toll-free phone")  # pragma: no cover


PLAIN_STYLES = ["paren", "dash", "dot", "space", "intl", "run", "one_dash"]
OBFUSCATED_STYLES = ["words_en", "words_es", "lookalike", "unicode", "separators", "split"]


def render_phone_plain(rng: random.Random, p: Phone, style: str | None = None) -> str:
    g = p.groups
    if p.prefix == "+44":
        return pick(rng, [f"+44 {g[0]} {g[1]}", f"+44{g[0]}{g[1]}", f"+44 {g[0]}-{g[1]}",
                           f"+44 ({g[0]}) {g[1]}"])
    style = style or pick(rng, PLAIN_STYLES)
    return {
        "paren": f"({g[0]}) {g[1]}-{g[2]}",
        "dash": f"{g[0]}-{g[1]}-{g[2]}",
        "dot": f"{g[0]}.{g[1]}.{g[2]}",
        "space": f"{g[0]} {g[1]} {g[2]}",
        "intl": f"+1 {g[0]}-{g[1]}-{g[2]}",
        "run": "".join(g),
        "one_dash": f"1-{g[0]}-{g[1]}-{g[2]}",
    }[style]


def _word(rng: random.Random, d: int, spanish: bool) -> str:
    if spanish:
        return ES_WORDS[d]
    return pick(rng, EN_VARIANTS.get(d, [EN_WORDS[d]]))


def render_phone_obfuscated(rng: random.Random, p: Phone, style: str) -> str:
    """One of the hiding styles of FIELD_NOTES; the result still spells exactly p's digits."""
    g = p.groups
    prefix = "+44 " if p.prefix == "+44" else ""
    if style == "words_en":
        upper = rng.random() < 0.3
        parts = []
        for grp in g:
            out = ""
            for ch in grp:
                w = _word(rng, int(ch), False) if rng.random() < 0.55 else ch
                out += w.upper() if upper else w
            parts.append(out)
        return prefix + pick(rng, [" ", "-", " "]).join(parts)
    if style == "words_es":
        sep = pick(rng, [" ", " - "])
        mix = rng.random() < 0.5
        parts = [" ".join(ES_WORDS[int(c)] if (not mix or rng.random() < 0.6) else c
                          for c in grp) for grp in g]
        return prefix + sep.join(parts)
    if style == "lookalike":
        parts = []
        for grp in g:
            out = ""
            for ch in grp:
                if ch == "0":
                    out += pick(rng, ["O", "o", "O"])
                elif ch == "1":
                    out += pick(rng, ["l", "I"])
                else:
                    out += ch
            parts.append(out)
        return prefix + pick(rng, ["-", " ", "."]).join(parts)
    if style == "unicode":
        name = pick(rng, list(UNICODE_DIGITS))
        fn = UNICODE_DIGITS[name]
        sep = "" if name == "keycap" else pick(rng, [" ", "-", ""])
        return prefix + sep.join("".join(fn(int(c)) for c in grp) for grp in g)
    if style == "separators":
        if p.prefix == "+44":
            digits = "44" + "".join(g)
            pairs = [digits[i:i + 2] for i in range(0, len(digits), 2)]
            return "+" + pick(rng, [";", ",", "'"]).join(pairs)
        kind = rng.random()
        if kind < 0.35:
            e = pick(rng, SEPARATOR_EMOJI)
            return e.join("".join(g))
        if kind < 0.7:
            return pick(rng, [",", "'", "/", "|", ";"]).join(g)
        e = pick(rng, SEPARATOR_EMOJI)
        return f" {e} ".join(g)
    if style == "split":
        filler = pick(rng, ["... call me ...", "then", "~ text me ~", "and after that",
                             "... (no blocked calls) ..."])
        return f"{prefix}{g[0]} {filler} {' '.join(g[1:])}"
    raise ValueError(style)


def render_phone_url(rng: random.Random, p: Phone, slug: str) -> str:
    digits = "".join(p.groups) if p.prefix == "+1" else "44" + "".join(p.groups)
    host = pick(rng, ["gallery.example.net", "pics.example.org", "my-page.example.com"])
    return f"https://{host}/p/{digits}-{slug}"


# ------------------------------------------------------------------------- emails and handles

EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "proton.me", "hotmail.com", "icloud.com"]


def render_email(rng: random.Random, email: str) -> tuple[str, bool]:
    """(text as written, obfuscated?)"""
    user, domain = email.split("@")
    host, tld = domain.rsplit(".", 1)
    r = rng.random()
    if r < 0.45:
        cased = user.capitalize() if rng.random() < 0.3 else user
        return f"{cased}@{domain}", False
    return pick(rng, [
        f"{user} at {host} dot {tld}",
        f"{user} (at) {host} [dot] {tld}",
        f"{user} @ {host} .{tld}",
        f"{user} AT {host} DOT {tld}",
        f"{user}[at]{host}[dot]{tld}",
    ]), True


SOCIAL_FORMS = {
    "instagram": ["IG: @{h}", "insta @{h}", "Instagram: {h}", "instagram.com/{h}"],
    "snapchat": ["snap: {h}", "SC: {h}", "Snapchat @{h}"],
    "telegram": ["Telegram @{h}", "t.me/{h}", "TG: @{h}"],
    "kik": ["kik: {h}", "Kik me @{h}"],
    "twitter": ["twitter @{h}", "X: @{h}", "x.com/{h}"],
    "onlyfans": ["onlyfans.com/{h}", "OF: {h}"],
}

PAYMENT_FORMS = {
    "cashapp": ["cashapp {h}", "Cash App: {h}", "CashApp {h} for deposits"],
    "venmo": ["venmo @{h}", "Venmo: @{h}"],
    "paypal": ["paypal.me/{h}", "PayPal: paypal.me/{h}"],
}


# ------------------------------------------------------------------------------------- crypto

# One home for checksums: the extractor's (the generator must plant what it accepts).
_BECH32 = BECH32_CHARSET


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc = bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if bits:
        ret.append((acc << (tobits - bits)) & maxv)
    return ret


def make_bech32(rng: random.Random) -> str:
    """A P2WPKH (witness v0, 20-byte program) address with a valid BIP-173 checksum."""
    data = [0, *_convertbits(rng.randbytes(20), 8, 5)]
    values = hrp_expand("bc") + data
    polymod = bech32_polymod([*values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(_BECH32[d] for d in data + checksum)


def make_p2pkh(rng: random.Random) -> str:
    return base58.b58encode_check(b"\x00" + rng.randbytes(20)).decode()


def eip55(hex40: str) -> str:
    return "0x" + eth_checksum(hex40)


def make_eth(rng: random.Random) -> str:
    return eip55(rng.randbytes(20).hex())


def make_crypto(rng: random.Random) -> dict[str, str]:
    r = rng.random()
    if r < 0.4:
        return {"currency": "BTC", "address": make_p2pkh(rng)}
    if r < 0.7:
        return {"currency": "BTC", "address": make_bech32(rng)}
    return {"currency": "ETH", "address": make_eth(rng)}


def make_invalid_crypto(rng: random.Random) -> dict[str, str]:
    """A realistic-looking address whose checksum fails: must NOT be extracted."""
    good = make_crypto(rng)
    addr = good["address"]
    for _ in range(100):
        if addr.startswith("0x"):
            letters = [i for i, c in enumerate(addr) if i > 1 and c.isalpha()]
            i = pick(rng, letters)
            bad = addr[:i] + addr[i].swapcase() + addr[i + 1:]
            ok = eth_verify(bad)
        elif addr.startswith("bc1"):
            i = rng.randrange(4, len(addr))
            bad = addr[:i] + pick(rng, _BECH32.replace(addr[i], "")) + addr[i + 1:]
            ok = bech32_verify(bad)
        else:
            alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
            i = rng.randrange(2, len(addr))
            bad = addr[:i] + pick(rng, alphabet.replace(addr[i], "")) + addr[i + 1:]
            ok = p2pkh_verify(bad)
        if not ok:
            return {"currency": good["currency"], "address": bad}
    raise RuntimeError("could not break a checksum")  # pragma: no cover
