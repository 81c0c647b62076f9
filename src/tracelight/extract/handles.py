"""URLs, social-media handles and payment handles.

Handles are read from profile links (instagram.com/amy, t.me/amy, paypal.me/amy, cash.app/$amy)
and from a platform word followed by a handle ("IG: amy_22", "kik amy22", "venmo @amy-22",
"$Amy22" for Cash App). Platform words and hosts live in lexicon.yaml. Short platform words
that are also ordinary words ("of", "sc", "wa", "pp") only count with a ':' or '@' after them.
Handles are kept as written (platforms treat them case-insensitively; compare casefolded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracelight.extract.lexicon import lexicon
from tracelight.extract.normalize import word_starts

_LEX = lexicon()

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'\[\]{}|\\^`]{2,2000}", re.IGNORECASE)
_BARE_URL = re.compile(
    r"((?:[A-Za-z0-9\-]{1,63}\.){1,4}(?:com|net|org|me|app|io|co|am|ly|"
    r"xyz|site|online|club|live|tv|to|link|page|bio))(/[^\s<>\"'\[\]{}|\\^`]{0,2000})?"
    r"(?![A-Za-z0-9\-])", re.IGNORECASE)
_TRAIL = ".,;:!?)'\"”’»*"
_HANDLE_STOP = frozenset({
    "me", "my", "is", "and", "or", "the", "a", "an", "for", "to", "at", "in", "on", "of", "only",
    "here", "with", "via", "text", "call", "dm", "msg", "message", "add", "follow", "page",
    "account", "handle", "id", "name", "available", "now", "please", "pls", "plz", "too", "also",
    "it", "this", "that", "you", "your", "u", "ur", "us", "we", "our", "info", "link", "below",
    "above", "profile", "same",
})
_RESERVED_PATHS = frozenset({"p", "explore", "share", "status", "home", "intent", "i", "add",
                             "u", "reel", "reels", "stories", "s", "joinchat", "addstickers",
                             "search", "hashtag", "login", "signup", "web", "download"})
_SHORT_WORDS = frozenset({"of", "sc", "wa", "pp", "tg", "tele", "snap", "line id", "signal",
                          "chime", "tweet", "ig", "insta", "x"})
_NO_HANDLE_WORDS = frozenset({"usd", "cad", "aud", "eur", "mxn", "gbp", "dollar", "dollars"})


@dataclass(frozen=True, slots=True)
class HandleHit:
    kind: str  # url, social, payment
    platform: str  # "" for urls
    handle: str  # the URL for urls
    start: int
    end: int


def _kw_regex(mapping: dict[str, list[str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    alias = {w: name for name, words in mapping.items() for w in words}
    alts = "|".join(re.escape(w).replace(r"\ ", r"\s?") for w in sorted(alias, key=len,
                                                                      reverse=True))
    rx = re.compile(
        r"(" + alts + r")(?![A-Za-z0-9])\s{0,2}"
        r"(?:(?:id|handle|name|is|me|at|user(?:name)?)\s{1,2})?"
        r"([:=\-–>]\s{0,2})?(@\s?|\$\s?)?"
        r"([A-Za-z0-9][A-Za-z0-9._\-]{1,29}(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})?)",
        re.IGNORECASE)
    return rx, {re.sub(r"\s", "", w): n for w, n in alias.items()}


def _alias_words(mapping: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(sorted({w.split(" ")[0] for words in mapping.values() for w in words}))


_SOCIAL_RX, _SOCIAL_ALIAS = _kw_regex(_LEX.social_platforms)
_PAY_RX, _PAY_ALIAS = _kw_regex(_LEX.payment_services)
_SOCIAL_WORDS = _alias_words(_LEX.social_platforms)
_PAY_WORDS = _alias_words(_LEX.payment_services)
_URL_TLDS = ("com", "net", "org", "me", "app", "io", "co", "am", "ly", "xyz", "site", "online",
             "club", "live", "tv", "to", "link", "page", "bio")
_HOSTCH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
_CASHTAG = re.compile(r"(?<![A-Za-z0-9$])\$([A-Za-z][A-Za-z0-9_]{0,19})(?![A-Za-z0-9_])")


def _strip_url(s: int, url: str) -> tuple[int, str]:
    url = url.rstrip(_TRAIL)
    return s, url


def _host_and_path(url: str) -> tuple[str, list[str]]:
    u = re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE)
    host, _, path = u.partition("/")
    host = host.lower().split("@")[-1].split(":")[0]
    if host.startswith("www.") and host not in _LEX.payment_hosts:
        host = host[4:]
    parts = [p for p in re.split(r"[/?#]", path) if p]
    return host, parts


def _handle_from_url(url: str) -> tuple[str, str, str] | None:
    host, parts = _host_and_path(url)
    kind = "social" if host in _LEX.social_hosts else "payment" if host in _LEX.payment_hosts \
        else ""
    if not kind:
        return None
    platform = (_LEX.social_hosts if kind == "social" else _LEX.payment_hosts)[host]
    parts = [p for p in parts if p.lower() not in _RESERVED_PATHS]
    if not parts:
        return None
    handle = parts[0].lstrip("@")
    if platform == "cashapp":
        handle = "$" + handle.lstrip("$")
    if not re.fullmatch(r"\$?[A-Za-z0-9._\-]{2,40}", handle):
        return None
    return kind, platform, handle


_HOST_RUN = re.compile(r"[a-z0-9\-.]*")


def _bare_url_starts(low: str) -> list[int]:
    """Where a host name ending in a known TLD starts: found from ".tld" by str.find.

    A host name starts where its run of host characters starts (leading dots and dashes
    skipped), so every ".tld" in one run gives the same start: each run is walked once,
    from its first ".tld", and the others in it are skipped (".com" * 20000 used to walk
    back to the start of the text from every one of them)."""
    hits: list[int] = []
    for tld in _URL_TLDS:
        needle = "." + tld
        i = low.find(needle)
        while i >= 0:
            hits.append(i)
            i = low.find(needle, i + 1)
    hits.sort()
    starts: list[int] = []
    run_end = -1  # end of the host run holding the last ".tld" looked at
    k = 0  # start of that run, leading dots and dashes skipped
    for i in hits:
        if i >= run_end:
            k = i
            while k > 0 and low[k - 1] in _HOSTCH:
                k -= 1
            m = _HOST_RUN.match(low, i)
            run_end = m.end() if m else i + 1
            while k < run_end and low[k] in ".-":
                k += 1
        elif starts and starts[-1] == k:
            continue  # this run already has its start
        if k < i and (k == 0 or low[k - 1] not in "@/"):
            starts.append(k)
    return starts


def find_urls_and_handles(folded: str, low: str | None = None,
                          words: frozenset[str] | None = None) -> list[HandleHit]:
    low = folded.lower() if low is None else low
    hits: list[HandleHit] = []
    # what earlier hits cover, one byte per character: "is this span free?" costs the
    # span's length, not one comparison per earlier hit
    taken = bytearray(len(folded))

    def take(s: int, e: int) -> None:
        taken[s:e] = b"\x01" * (e - s)

    def free(s: int, e: int) -> bool:
        return taken.find(1, s, e) < 0

    if "://" in low or "www." in low:
        for m in _URL.finditer(folded):
            s, url = _strip_url(m.start(), m.group())
            hits.append(HandleHit("url", "", url, s, s + len(url)))
            take(s, s + len(url))
    if "." in low:
        for s in _bare_url_starts(low):
            if taken[s]:
                continue
            mb = _BARE_URL.match(folded, s)
            if mb is None:
                continue
            host = mb.group(1).lower()
            if mb.group(2) is None and host not in _LEX.social_hosts \
                    and host not in _LEX.payment_hosts:
                continue
            _, url = _strip_url(s, mb.group())
            hits.append(HandleHit("url", "", url, s, s + len(url)))
            take(s, s + len(url))
    for h in list(hits):
        got = _handle_from_url(h.handle)
        if got:
            hits.append(HandleHit(got[0], got[1], got[2], h.start, h.end))

    for rx, alias, kind, aliases in ((_SOCIAL_RX, _SOCIAL_ALIAS, "social", _SOCIAL_WORDS),
                                   (_PAY_RX, _PAY_ALIAS, "payment", _PAY_WORDS)):
        last = -1
        for pos in word_starts(low, aliases, words):
            if pos < last:
                continue
            mk = rx.match(folded, pos)
            if mk is None:
                continue
            word = "".join(mk.group(1).lower().split())
            platform = alias.get(word)
            handle = mk.group(4).rstrip("._-")
            if platform is None or not free(mk.start(), mk.end()):
                continue
            if handle.lower() in _HANDLE_STOP or len(handle) < 2:
                continue
            marked = bool(mk.group(2) or mk.group(3))
            if word in _SHORT_WORDS and not marked:
                continue
            if handle.isdigit() or (platform == "whatsapp" and sum(c.isdigit()
                                                                    for c in handle) > 5):
                continue  # a phone number: the phone reader owns it
            if platform == "cashapp":
                if handle.lower() in _NO_HANDLE_WORDS or handle[0].isdigit():
                    continue
                handle = "$" + handle
            end = mk.end(4) - (len(mk.group(4)) - len(handle.lstrip("$")))
            hits.append(HandleHit(kind, platform, handle, mk.start(), end))
            take(mk.start(), end)
            last = end
    if "$" in folded:
        for m in _CASHTAG.finditer(folded):
            if not free(m.start(), m.end()) or m.group(1).lower() in _NO_HANDLE_WORDS:
                continue
            hits.append(HandleHit("payment", "cashapp", "$" + m.group(1), m.start(), m.end()))
    hits.sort(key=lambda h: (h.start, h.kind))
    return hits
