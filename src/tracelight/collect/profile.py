"""Site profiles: what to crawl on one site and how to read its ads, as validated YAML.

A profile that is wrong fails loudly at load with a ConfigError naming the file and the key
("site.yaml: selectors.title: must be a non-empty string"), the way score/catalogue.py does.
Format: docs/crawl.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import yaml
from selectolax.lexbor import LexborHTMLParser

from tracelight.errors import ConfigError

MAX_PROFILE_BYTES = 1_000_000
SELECTOR_FIELDS = ("title", "body", "posted_at", "location", "images", "contacts", "next_page",
                   "ad_links")
REQUIRED_SELECTORS = ("title", "body")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HOST_RE = re.compile(r"^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$")
KEYS = {"name", "country", "start_urls", "allowed_hosts", "listing_patterns", "ad_patterns",
        "selectors", "delay_seconds", "concurrency", "max_depth", "max_pages", "max_page_bytes",
        "timeout_seconds", "retries", "user_agent", "proxy", "obey_robots",
        "robots_override_reason", "allow_private_addresses", "source", "image_hosts",
        "download_images"}
DEFAULT_UA = "tracelight-crawler/0.1 (+investigations; contact the operator)"


@dataclass(frozen=True)
class SiteProfile:
    """One site to crawl. Patterns are regular expressions searched in a URL's path+query."""

    name: str
    path: str
    country: str  # ISO 3166 alpha-2: the default phone region of the site's ads
    start_urls: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    listing_patterns: tuple[re.Pattern[str], ...]
    ad_patterns: tuple[re.Pattern[str], ...]
    selectors: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 1.0
    concurrency: int = 1
    max_depth: int = 5
    max_pages: int = 10_000
    max_page_bytes: int = 5_000_000
    timeout_seconds: float = 20.0
    retries: int = 2
    user_agent: str = DEFAULT_UA
    proxy: str | None = None
    obey_robots: bool = True
    robots_override_reason: str = ""
    allow_private_addresses: bool = False
    source: str = ""
    image_hosts: tuple[str, ...] = ()  # hosts images may also come from (a CDN), besides these
    download_images: bool = True

    def host_allowed(self, url: str, *, image: bool = False) -> bool:
        """True when `url` is http(s) on one of the allowed hosts (host, or host:port); for an
        image, the image_hosts count too."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        host = parts.hostname.lower()
        with_port = f"{host}:{port}" if port else host
        hosts = (*self.allowed_hosts, *self.image_hosts) if image else self.allowed_hosts
        return any(h in (host, with_port) for h in hosts)

    def kind_of(self, url: str) -> str | None:
        """'ad', 'listing' or None (not a page this profile follows)."""
        parts = urlsplit(url)
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        if any(p.search(tail) for p in self.ad_patterns):
            return "ad"
        if any(p.search(tail) for p in self.listing_patterns):
            return "listing"
        return None


def _fail(path: str, key: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {message}", hint="see docs/crawl.md for the profile format")


def _str(raw: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _num(raw: dict[str, Any], key: str, path: str, default: float, lo: float, hi: float,
         *, integer: bool = False) -> Any:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            integer and not isinstance(value, int)):
        kind = "an integer" if integer else "a number"
        raise _fail(path, key, f"must be {kind}, got {value!r}")
    if not lo <= value <= hi:
        raise _fail(path, key, f"must be between {lo:g} and {hi:g}, got {value!r}")
    return value


def _bool(raw: dict[str, Any], key: str, path: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _fail(path, key, f"must be true or false, got {value!r}")
    return value


def _list(raw: dict[str, Any], key: str, path: str, *, required: bool) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or (required and not value):
        raise _fail(path, key, "must be a non-empty list" if required else "must be a list")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _fail(path, f"{key}[{i}]", f"must be a non-empty string, got {item!r}")
        out.append(item.strip())
    return out


def _patterns(raw: dict[str, Any], key: str, path: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for i, text in enumerate(_list(raw, key, path, required=True)):
        try:
            out.append(re.compile(text))
        except re.error as exc:
            raise _fail(path, f"{key}[{i}]", f"not a regular expression ({exc})") from None
    return tuple(out)


def _selectors(raw: dict[str, Any], path: str) -> dict[str, str]:
    value = raw.get("selectors")
    if not isinstance(value, dict):
        raise _fail(path, "selectors", "must be a mapping of field -> CSS selector")
    out: dict[str, str] = {}
    probe = LexborHTMLParser("<html><body><p>x</p></body></html>")
    for key, sel in value.items():
        where = f"selectors.{key}"
        if key not in SELECTOR_FIELDS:
            raise _fail(path, where, f"unknown field; known: {', '.join(SELECTOR_FIELDS)}")
        if not isinstance(sel, str) or not sel.strip():
            raise _fail(path, where, f"must be a non-empty string, got {sel!r}")
        sel = sel.strip()
        if sel.startswith(("/", "xpath:")):
            raise _fail(path, where, "XPath is not supported; write a CSS selector")
        try:
            probe.css(sel)
        except Exception as exc:  # lexbor raises ValueError/SelectolaxError on a bad selector
            raise _fail(path, where, f"not a valid CSS selector ({exc})") from None
        out[key] = sel
    for key in REQUIRED_SELECTORS:
        if key not in out:
            raise _fail(path, f"selectors.{key}", "is required")
    return out


def parse_profile(raw: Any, path: str) -> SiteProfile:
    """A SiteProfile from parsed YAML; ConfigError naming `path` and the key otherwise."""
    if not isinstance(raw, dict):
        raise _fail(path, "(top)", "a profile is a mapping of keys (docs/crawl.md)")
    for key in raw:
        if key not in KEYS:
            raise _fail(path, str(key), f"unknown key; known: {', '.join(sorted(KEYS))}")
    name = _str(raw, "name", path)
    if not NAME_RE.match(name):
        raise _fail(path, "name", "letters, digits, '_', '.', '-' only (at most 64)")
    country = _str(raw, "country", path).upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise _fail(path, "country", f"not a country code libphonenumber knows: {country!r}")
    hosts = [h.lower() for h in _list(raw, "allowed_hosts", path, required=True)]
    for i, host in enumerate(hosts):
        if not HOST_RE.match(host):
            raise _fail(path, f"allowed_hosts[{i}]", f"not a host name (or host:port): {host!r}")
    image_hosts = [h.lower() for h in _list(raw, "image_hosts", path, required=False)]
    for i, host in enumerate(image_hosts):
        if not HOST_RE.match(host):
            raise _fail(path, f"image_hosts[{i}]", f"not a host name (or host:port): {host!r}")
    start = _list(raw, "start_urls", path, required=True)
    prof = SiteProfile(
        name=name, path=path, country=country, start_urls=tuple(start),
        allowed_hosts=tuple(hosts),
        listing_patterns=_patterns(raw, "listing_patterns", path),
        ad_patterns=_patterns(raw, "ad_patterns", path),
        selectors=_selectors(raw, path),
        delay_seconds=float(_num(raw, "delay_seconds", path, 1.0, 0, 3600)),
        concurrency=_num(raw, "concurrency", path, 1, 1, 16, integer=True),
        max_depth=_num(raw, "max_depth", path, 5, 0, 1000, integer=True),
        max_pages=_num(raw, "max_pages", path, 10_000, 1, 10_000_000, integer=True),
        max_page_bytes=_num(raw, "max_page_bytes", path, 5_000_000, 1024, 100_000_000,
                            integer=True),
        timeout_seconds=float(_num(raw, "timeout_seconds", path, 20.0, 0.1, 600)),
        retries=_num(raw, "retries", path, 2, 0, 10, integer=True),
        user_agent=_str(raw, "user_agent", path, DEFAULT_UA),
        proxy=_str(raw, "proxy", path) if raw.get("proxy") is not None else None,
        obey_robots=_bool(raw, "obey_robots", path, True),
        robots_override_reason=str(raw.get("robots_override_reason") or "").strip(),
        allow_private_addresses=_bool(raw, "allow_private_addresses", path, False),
        source=_str(raw, "source", path, name),
        image_hosts=tuple(image_hosts),
        download_images=_bool(raw, "download_images", path, True),
    )
    if not prof.obey_robots and not prof.robots_override_reason:
        raise _fail(path, "robots_override_reason", "required when obey_robots is false: say "
                    "why this site's robots.txt is overridden (it is recorded with the crawl)")
    for i, url in enumerate(start):
        if not prof.host_allowed(url):
            raise _fail(path, f"start_urls[{i}]", f"not an http(s) URL on allowed_hosts: {url!r}")
    if prof.proxy is not None and urlsplit(prof.proxy).scheme not in ("http", "https",
                                                                      "socks5"):
        raise _fail(path, "proxy", "must be an http://, https:// or socks5:// URL")
    return prof


def load_profile(path: str | Path) -> SiteProfile:
    """Read and validate the profile at `path`."""
    name = str(path)
    p = Path(path)
    try:
        if p.stat().st_size > MAX_PROFILE_BYTES:
            raise ConfigError(f"{name}: a profile is at most {MAX_PROFILE_BYTES:,} bytes")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read profile ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not UTF-8 text") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        raise _fail(name, where, "not valid YAML") from None
    return parse_profile(raw, name)
