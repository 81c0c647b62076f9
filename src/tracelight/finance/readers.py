"""Streaming readers for transactions and accounts: the native layout (CSV or JSON Lines) and
the AMLworld layout (Altman et al., NeurIPS 2023: `Timestamp, From Bank, Account, To Bank,
Account, Amount Received, Receiving Currency, Amount Paid, Payment Currency, Payment Format,
Is Laundering`).

Every input is hostile: a row that cannot be read becomes a `Reject` (`file:line: reason`)
and reading goes on; nothing here raises on bad content. Rows are read one at a time, so
memory stays flat however long the file is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from tracelight.finance.records import (
    Account,
    Reject,
    Transaction,
    account_from,
    parse_amount,
    transaction_from,
)

MAX_LINE = 64 * 1024
AML_FORMATS = {"cash": "cash_deposit", "cheque": "check", "ach": "ach", "credit card": "card",
               "wire": "wire", "bitcoin": "crypto_kiosk", "reinvestment": "ach"}
AML_HEADER = ("Timestamp", "From Bank", "Account", "To Bank", "Account", "Amount Received",
              "Receiving Currency", "Amount Paid", "Payment Currency", "Payment Format")
AML_CURRENCIES = {"us dollar": "USD", "euro": "EUR", "yuan": "CNY", "yen": "JPY",
                  "uk pound": "GBP", "rupee": "INR", "ruble": "RUB", "canadian dollar": "CAD",
                  "australian dollar": "AUD", "swiss franc": "CHF", "mexican peso": "MXN",
                  "brazil real": "BRL", "shekel": "ILS", "saudi riyal": "SAR", "bitcoin": "XBT"}

Item = Transaction | Reject
AccountItem = Account | Reject


def _bad_text(values: Iterable[Any]) -> bool:
    return any(isinstance(v, str) and any("\udc80" <= c <= "\udcff" for c in v) for v in values)


def _text_stream(stream: IO[bytes]) -> io.TextIOWrapper:
    # undecodable bytes survive as surrogates; the row holding them is rejected, not the file
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _jsonl_rows(text: IO[str], name: str) -> Iterator[tuple[str, dict[str, Any] | Reject]]:
    for n, line in enumerate(text, 1):
        origin = f"{name}:{n}"
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            yield origin, Reject(origin, f"line longer than {MAX_LINE} characters")
            continue
        if _bad_text([line]):
            yield origin, Reject(origin, "not UTF-8 text")
            continue
        try:
            obj = json.loads(line, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            yield origin, Reject(origin, f"not JSON ({str(exc)[:80]})")
            continue
        if not isinstance(obj, dict):
            yield origin, Reject(origin, "a JSON line must be an object")
            continue
        yield origin, obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _csv_rows(text: IO[str], name: str,
              ) -> Iterator[tuple[str, list[str] | Reject]]:
    reader = csv.reader(text)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            origin = f"{name}:{reader.line_num}"
            yield origin, Reject(origin, f"unreadable CSV ({str(exc)[:80]})")
            continue
        origin = f"{name}:{reader.line_num}"
        if not row or not any(c.strip() for c in row):
            continue
        if _bad_text(row):
            yield origin, Reject(origin, "not UTF-8 text")
            continue
        yield origin, row


def _guess_jsonl(name: str, head: bytes) -> bool:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".json", ".ndjson")):
        return True
    if lowered.endswith(".csv"):
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _peekable(stream: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    # read1: what a pipe has now, so a live stream is scored line by line, not 4 KiB at a time
    head = getattr(stream, "read1", stream.read)(4096)
    rest = io.BufferedReader(_Chain(head, stream))
    return head, rest


class _Chain(io.RawIOBase):
    """A byte stream that first gives back what was peeked, then the rest."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head, self.stream = head, stream
        self.read_some = getattr(stream, "read1", stream.read)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = self.read_some(len(b))
        b[:len(data)] = data
        return len(data)


def _rows(stream: IO[bytes], name: str, make: Callable[[dict[str, Any]], Any],
          header_hook: Callable[[list[str]], Callable[[list[str], int], Any] | None] | None,
          ) -> Iterator[Any]:
    head, body = _peekable(stream)
    text = _text_stream(body)
    if _guess_jsonl(name, head):
        for origin, obj in _jsonl_rows(text, name):
            if isinstance(obj, Reject):
                yield obj
                continue
            yield _make(make, obj, origin)
        return
    header: list[str] | None = None
    special = None
    for origin, row in _csv_rows(text, name):
        if isinstance(row, Reject):
            yield row
            continue
        if header is None:
            header = [h.strip().lstrip("\ufeff") for h in row]
            special = header_hook(header) if header_hook else None
            continue
        if special is not None:
            try:
                yield special(row, int(origin.rsplit(":", 1)[1]))
            except ValueError as exc:
                yield Reject(origin, str(exc))
            continue
        if len(row) != len(header):
            yield Reject(origin, f"{len(row)} fields where the header has {len(header)}")
            continue
        yield _make(make, dict(zip(header, row, strict=True)), origin)


def _make(make: Callable[[dict[str, Any]], Any], obj: dict[str, Any], origin: str) -> Any:
    try:
        return make(obj)
    except ValueError as exc:
        return Reject(origin, str(exc))
    except (TypeError, OverflowError, RecursionError) as exc:  # hostile shapes, never a crash
        return Reject(origin, f"unreadable record ({type(exc).__name__})")


def _aml_row(name: str) -> Callable[[list[str], int], Transaction]:
    def parse(row: list[str], line: int) -> Transaction:
        if len(row) < 10:
            raise ValueError(f"{len(row)} fields where the AMLworld layout has 11")
        ts, fbank, facct, tbank, tacct, _recv, _rcur, paid, pcur, fmt = row[:10]
        channel = AML_FORMATS.get(fmt.strip().lower())
        if channel is None:
            raise ValueError(f"payment format {fmt[:30]!r} is not one of AMLworld's")
        currency = AML_CURRENCIES.get(pcur.strip().lower())
        if currency is None:
            raise ValueError(f"payment currency {pcur[:30]!r} is not one of AMLworld's")
        digest = hashlib.sha1("\x1f".join(row[:10]).encode("utf-8", "replace")).hexdigest()
        raw = {"tx_id": f"aml-{digest[:16]}-{line}", "timestamp": ts.strip().replace(" ", "T"),
               "amount": parse_amount(paid), "currency": currency, "channel": channel,
               "from_account": f"{fbank.strip()}:{facct.strip()}",
               "to_account": f"{tbank.strip()}:{tacct.strip()}"}
        return transaction_from(raw)
    return parse


def read_transactions(stream: IO[bytes], name: str) -> Iterator[Item]:
    """Transactions (or rejects) from one byte stream, native or AMLworld, CSV or JSONL."""
    def hook(header: list[str]) -> Callable[[list[str], int], Transaction] | None:
        if tuple(h.strip() for h in header[:10]) == AML_HEADER:
            return _aml_row(name)
        return None
    yield from _rows(stream, name, transaction_from, hook)


def read_accounts(stream: IO[bytes], name: str) -> Iterator[AccountItem]:
    """Accounts (or rejects) from one byte stream, CSV or JSONL."""
    yield from _rows(stream, name, account_from, None)
