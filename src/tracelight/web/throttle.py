"""Login throttling that cannot be turned against an account, and bounded auditing of refusals.

`LoginLimiter` slows guessing with an exponential delay rather than a lock:

- **per address**: after `free_per_ip` failures in the window, each further attempt must wait
  `base_delay_s * 2**(n - free_per_ip)` seconds after the last failure (at most `max_ip_delay_s`);
- **per user name**: the same after `free_per_name` failures (at most `max_name_delay_s`), but
  only for browsers that have not logged in as that user before. A successful login leaves a
  signed *device cookie* (`tl_device`) naming the user; attempts carrying it skip the per-name
  delay (they still count per address). A stranger can therefore slow down guessing of the
  admin's password, but cannot keep the admin out of the admin's own browser.

Attempts made during a delay are answered 429 with `Retry-After` and never reach the password
check, so they gain an attacker nothing; they do not lengthen the delay either. Counters live
in memory per server process, at most `max_keys` of them (the oldest are forgotten first).

`AuditThrottle` keeps refused attempts from filling the audit log: per address and window the
first `burst` refusals are written one by one, then only the 16th, 32nd, 64th, ... (each with
the count so far); across all addresses at most `global_burst` single rows per window, then a
summary row at each power of two.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Counter:
    failures: int = 0
    last: float = 0.0


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


class LoginLimiter:
    """Exponential back-off per address and per user name (see the module docstring)."""

    def __init__(self, free_per_name: int = 5, free_per_ip: int = 20, base_delay_s: float = 1.0,
                 max_name_delay_s: float = 300.0, max_ip_delay_s: float = 900.0,
                 window_s: float = 900.0, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free = {"u": free_per_name, "ip": free_per_ip}
        self.cap = {"u": max_name_delay_s, "ip": max_ip_delay_s}
        self.base_delay_s = base_delay_s
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._counters: OrderedDict[str, _Counter] = OrderedDict()
        self._lock = threading.Lock()
        self.audit = AuditThrottle(window_s=window_s, clock=clock)

    def _delay(self, kind: str, c: _Counter) -> float:
        over = c.failures - self.free[kind]
        if over < 0:
            return 0.0
        return min(self.cap[kind], self.base_delay_s * 2.0 ** min(over, 40))

    def _get(self, key: str, now: float) -> _Counter | None:
        c = self._counters.get(key)
        if c is not None and now - c.last > self.window_s + self._delay(key.split(":", 1)[0], c):
            del self._counters[key]  # quiet for a whole window after its delay: forgotten
            return None
        return c

    def _keys(self, ip: str, username: str, trusted: bool) -> list[str]:
        keys = ["ip:" + ip]
        if not trusted:
            keys.append("u:" + username.lower())
        return keys

    def wait_s(self, ip: str, username: str, *, trusted: bool = False) -> float:
        """Seconds before this address may try this user name again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [0.0]
            for key in self._keys(ip, username, trusted):
                c = self._get(key, now)
                if c is not None:
                    waits.append(c.last + self._delay(key.split(":", 1)[0], c) - now)
            return max(waits)

    def failed(self, ip: str, username: str, *, trusted: bool = False) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(ip, username, trusted):
                c = self._get(key, now) or _Counter()
                c.failures += 1
                c.last = now
                self._counters[key] = c
                self._counters.move_to_end(key)
            while len(self._counters) > self.max_keys:
                self._counters.popitem(last=False)

    def succeeded(self, username: str, *, trusted: bool = False) -> None:
        """A login with the right password. From a new browser it clears the name's count;
        from the user's own browser it does not (the count is about the strangers)."""
        if not trusted:
            with self._lock:
                self._counters.pop("u:" + username.lower(), None)


class AuditThrottle:
    """Decide which refused attempts get their own audit row (see the module docstring)."""

    def __init__(self, burst: int = 10, global_burst: int = 1000, window_s: float = 900.0,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.global_burst = global_burst
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> int:
        start, n = self._windows.get(key, (now, 0))
        if now - start > self.window_s:
            start, n = now, 0
        self._windows[key] = (start, n + 1)
        self._windows.move_to_end(key)
        return n + 1

    def admit(self, key: str) -> tuple[int | None, int | None]:
        """(count for `key` if this refusal gets a row, global count if a summary row is due)."""
        now = self.clock()
        with self._lock:
            n = self._count("k:" + key, now)
            total = self._count("*", now)
            while len(self._windows) > self.max_keys:
                self._windows.popitem(last=False)
        single = n if ((n <= self.burst and total <= self.global_burst)
                       or (n > self.burst and _is_power_of_two(n))) else None
        summary = total if total > self.global_burst and _is_power_of_two(total) else None
        return single, summary
