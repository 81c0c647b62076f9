"""The full-text rank cap as the workspace's search sees it (services/search.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracelight.records import AdRecord, ProcessedAd
from tracelight.services import search as search_service
from tracelight.store import Store


def _ads(n: int) -> list[ProcessedAd]:
    return [ProcessedAd(record=AdRecord(
        id=str(i), source="site", title=f"Ad {i}", body=f"lotus number {i}",
        posted_at=datetime(2026, 1, 1 + i, tzinfo=UTC))) for i in range(1, n + 1)]


def test_search_says_when_only_the_first_matches_were_ranked(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write_batch(None, _ads(5))
    monkeypatch.setenv("TRACELIGHT_SEARCH_RANK_CAP", "3")
    result = search_service.search(store, "q", "lotus", region="US", limit=10)
    assert result.capped and result.ranked == 3 and result.total == 5
    assert result.order == "ranked_first" and len(result.ads) == 3
    assert "first matches" in result.order_words
    monkeypatch.setenv("TRACELIGHT_SEARCH_RANK_CAP", "5")
    result = search_service.search(store, "q", "lotus", region="US", limit=10)
    assert not result.capped and result.ranked == 5 and result.order == "relevance"
    assert len(result.ads) == 5


def test_rank_cap_defaults_to_5000() -> None:
    from tracelight import settings
    assert settings.get_int("search_rank_cap") == 5000
