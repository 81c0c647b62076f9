"""Fast random picks: `random.Random.choice`/`sample` cost more than the rest of an ad."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def distinct(rng: random.Random, seq: Sequence[T], k: int) -> list[T]:
    """k different elements (k <= len(seq)), in random order."""
    n = len(seq)
    chosen: list[int] = []
    while len(chosen) < k:
        i = int(rng.random() * n)
        if i not in chosen:
            chosen.append(i)
    return [seq[i] for i in chosen]
