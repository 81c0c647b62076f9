"""Cryptocurrency addresses, accepted only when their checksum verifies.

- Base58Check (BTC P2PKH/P2SH, LTC, DOGE) via the `base58` package: the version byte names the
  currency and the 4-byte double-SHA256 checksum must match.
- Bech32 / Bech32m segwit addresses (BIP-173, BIP-350): the checksum is a BCH code over
  GF(32), a dozen lines, written out below from the BIP text.
- Ethereum: 0x + 40 hex. Mixed case must satisfy EIP-55 (keccak-256 of the lower-case hex,
  via pycryptodome); all-lower or all-upper carries no checksum and is accepted. Values are
  given in EIP-55 form so one address written two ways is one entity.

A random string that merely looks like an address fails its checksum and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import base58
from Crypto.Hash import keccak

_B58 = re.compile(r"(?<![A-Za-z0-9])[13LMD][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])")
_BECH = re.compile(r"(?<![A-Za-z0-9])(?:bc|tb|ltc)1[02-9ac-hj-np-z]{6,87}(?![A-Za-z0-9])",
                   re.IGNORECASE)
_ETH = re.compile(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![A-Za-z0-9])")

_B58_VERSIONS = {0x00: "BTC", 0x05: "BTC", 0x30: "LTC", 0x32: "LTC", 0x1E: "DOGE"}
_BECH_HRP = {"bc": "BTC", "tb": "BTC", "ltc": "LTC"}

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


@dataclass(frozen=True, slots=True)
class CryptoHit:
    currency: str
    address: str
    start: int
    end: int


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_verify(addr: str) -> str | None:
    """The human-readable part if `addr` is a valid segwit address (BIP-173/350), else None."""
    if addr.lower() != addr and addr.upper() != addr:
        return None  # mixed case is invalid by the spec
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90:
        return None
    hrp = addr[:pos]
    try:
        data = [_CHARSET.index(c) for c in addr[pos + 1:]]
    except ValueError:
        return None
    const = _polymod(_hrp_expand(hrp) + data)
    witver = data[0]
    if witver > 16:
        return None
    if const != (_BECH32_CONST if witver == 0 else _BECH32M_CONST):
        return None
    # the witness program: 5-bit groups back to bytes, 2..40 bytes (v0: 20 or 32)
    prog_bits = (len(data) - 7) * 5
    prog_len = prog_bits // 8
    if prog_bits % 8 > 4 or not 2 <= prog_len <= 40 or (witver == 0 and prog_len not in (20, 32)):
        return None
    return hrp


# Public names for the demo generator, which must make addresses these checks accept.
BECH32_CHARSET = _CHARSET
bech32_polymod = _polymod
hrp_expand = _hrp_expand


def eth_checksum(addr_hex: str) -> str:
    """EIP-55 mixed-case form of a 40-hex-digit address (without the 0x)."""
    lower = addr_hex.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "".join(c.upper() if c.isalpha() and int(h, 16) >= 8 else c
                   for c, h in zip(lower, digest[:40], strict=True))


def eth_verify(addr: str) -> str | None:
    """EIP-55 form of `0x...` if valid (checksum verified when mixed-case), else None."""
    body = addr[2:]
    good = eth_checksum(body)
    if body.islower() or body.isupper() or body.isdigit() or body == good:
        return "0x" + good
    return None


def b58_verify(addr: str) -> str | None:
    try:
        raw = base58.b58decode_check(addr)
    except ValueError:
        return None
    if len(raw) != 21:
        return None
    return _B58_VERSIONS.get(raw[0])


def _has_long_word(folded: str) -> bool:
    return max(map(len, folded.split()), default=0) >= 26


def find_crypto(folded: str) -> list[CryptoHit]:
    hits: list[CryptoHit] = []
    if not _has_long_word(folded):
        return hits  # every address is 26+ characters: most ads stop here
    if "0x" in folded:
        for m in _ETH.finditer(folded):
            good = eth_verify(m.group())
            if good:
                hits.append(CryptoHit("ETH", good, m.start(), m.end()))
    low = folded.lower()
    for m in _BECH.finditer(folded) if ("bc1" in low or "tb1" in low or "ltc1" in low) else ():
        hrp = bech32_verify(m.group())
        if hrp:
            hits.append(CryptoHit(_BECH_HRP[hrp], m.group().lower(), m.start(), m.end()))
    for m in _B58.finditer(folded):
        cur = b58_verify(m.group())
        if cur:
            hits.append(CryptoHit(cur, m.group(), m.start(), m.end()))
    hits.sort(key=lambda h: h.start)
    return hits
