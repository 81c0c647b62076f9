"""E-mail addresses, plain and spelled out ("amy at gmail dot com", "amy (at) gmail [dot] com").

Matched on the folded text (full-width and mathematical letters read as ASCII). Spelled-out
forms are accepted only with a known top-level domain, so "meet me at the mall dot com"-like
prose needs a real-looking domain to count. Values are lower-case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TLDS = ("com|net|org|edu|gov|mil|io|co|us|uk|ca|au|de|fr|es|mx|me|info|biz|xyz|app|dev|ru|"
         "nl|it|br|in|jp|ch|se|no|online|site|club|live|email|ly|ai|tv|cc|eu|pl|be|at|ie|nz|"
         "za|ar|cl|pe|ve|ph|vn|th|my|sg|hk|tw|kr|co\\.uk")
_PROVIDERS = ("gmail", "yahoo", "hotmail", "outlook", "icloud", "aol", "protonmail", "proton",
              "live", "msn", "gmx", "mail", "yandex", "zoho")

_PLAIN = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})@"
    r"([A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9][A-Za-z0-9\-]{0,62}){0,4})"
    r"(?![A-Za-z0-9\-@])")

_AT = r"(?:\s?[\(\[\{<]\s?(?:at|@)\s?[\)\]\}>]\s?|\s{1,2}at\s{1,2}|\s{1,2}@\s{0,2}|\s{0,2}@\s{1,2})"
_DOT = r"(?:\s?[\(\[\{<]\s?dot\s?[\)\]\}>]\s?|\s{1,2}dot\s{1,2}|\s{0,2}\.)"
_OBF = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})" + _AT +
    r"([A-Za-z0-9][A-Za-z0-9\-]{0,62})((?:" + _DOT + r"[A-Za-z0-9][A-Za-z0-9\-]{0,62}){0,3})"
    + _DOT + r"(" + _TLDS + r")(?![A-Za-z0-9])", re.IGNORECASE)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
# "name at gmail" with no domain ending is too loose; with an explicit "@" it is a provider.
_BARE_PROVIDER = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})\s?@\s?(" +
    "|".join(_PROVIDERS) + r")(?![A-Za-z0-9.\-@])", re.IGNORECASE)
_LOCAL_STOP = frozenset({"me", "us", "you", "him", "her", "them", "it", "is", "are", "here",
                         "there", "email", "mail", "contact", "reach", "write", "i", "we", "be",
                         "am", "available", "located", "staying", "incall", "outcall", "or",
                         "and", "text", "call", "only", "just", "also", "from", "up", "out"})


@dataclass(frozen=True, slots=True)
class EmailHit:
    value: str
    start: int
    end: int
    obfuscated: bool


def _clean_local(local: str) -> str:
    return local.strip(".").lower()


_TLD_END = re.compile(r"\.[a-z]{2,24}$")
_LOCAL_BACK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}$")
_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9][A-Za-z0-9\-]{0,62}){0,4}"
                     r"(?![A-Za-z0-9\-@])")
_LOCAL_CH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_AT_MARKS = (" at ", "(at)", "[at]", "{at}", "<at>", "( at )", "[ at ]", "(@)", "[@]", "@")


def _local_start(folded: str, at: int) -> int | None:
    """Start of the local part that ends at `at` (spaces before an "at" marker skipped)."""
    k = at
    while k > 0 and folded[k - 1] == " ":
        k -= 1
    m = _LOCAL_BACK.search(folded, max(0, k - 64), k)
    if m is None:
        return None
    s = m.start()
    # the lookbehind of the full pattern, checked here so the scan needs no lookbehind
    if s > 0 and folded[s - 1] in _LOCAL_CH:
        return None
    return s


def find_emails(text: str, folded: str, low: str | None = None) -> list[EmailHit]:
    low = folded.lower() if low is None else low
    hits: list[EmailHit] = []
    # what earlier hits cover, one byte per character: checking a span costs its length,
    # not one comparison per earlier hit (quadratic on a body of a thousand addresses)
    taken = bytearray(len(folded))

    def free(s: int, e: int) -> bool:
        return taken.find(1, s, e) < 0

    # Plain addresses, anchored on each "@" (a fast literal search) rather than on every
    # position where a local part could start.
    at = folded.find("@")
    while at >= 0:
        s = _local_start(folded, at) if at > 0 and folded[at - 1] != " " else None
        dm = _DOMAIN.match(folded, at + 1) if s is not None else None
        if s is not None and dm is not None:
            domain = dm.group().lower().rstrip(".-")
            if "." in domain and _TLD_END.search(domain):
                e = at + 1 + len(domain)
                hits.append(EmailHit(f"{_clean_local(folded[s:at])}@{domain}", s, e,
                                     text[s:e] != folded[s:e]))
                taken[s:e] = b"\x01" * (e - s)
        at = folded.find("@", at + 1)
    # Spelled-out forms: try the full pattern only where an "at" marker is.
    starts: set[int] = set()
    for mark in _AT_MARKS:
        i = low.find(mark)
        while i >= 0:
            s = _local_start(folded, i)
            if s is not None:
                starts.add(s)
            i = low.find(mark, i + 1)
    for s in sorted(starts):
        for rx, bare in ((_OBF, False), (_BARE_PROVIDER, True)):
            m = rx.match(folded, s)
            if m is None:
                continue
            e = m.end()
            local = _clean_local(m.group(1))
            if not free(s, e) or local in _LOCAL_STOP or not local:
                continue
            if bare:
                value = f"{local}@{m.group(2).lower()}.com"
            else:
                middle = [p for p in _DOT_SPLIT.split(m.group(3)) if p]
                value = f"{local}@{'.'.join([m.group(2), *middle, m.group(4)]).lower()}"
            hits.append(EmailHit(value, s, e, True))
            taken[s:e] = b"\x01" * (e - s)
            break
    hits.sort(key=lambda h: h.start)
    return hits
