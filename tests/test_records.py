from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelight.errors import RecordError
from tracelight.records import AdRecord, record_from_mapping


def test_minimal_record_and_extra_fields_kept() -> None:
    rec = record_from_mapping({"id": 42, "body": "hello", "phone_seen": "x"},
                              default_source="feed")
    assert rec.id == "42" and rec.source == "feed" and rec.body == "hello"
    assert rec.extra == {"phone_seen": "x"}


def test_posted_at_is_utc() -> None:
    rec = record_from_mapping({"id": "a", "source": "s", "title": "t",
                               "posted_at": "2026-01-02T03:04:05-05:00"}, default_source=None)
    assert rec.posted_at == datetime(2026, 1, 2, 8, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("data", "message"), [
    ({"body": "x", "source": "s"}, "missing required field 'id'"),
    ({"id": "", "body": "x", "source": "s"}, "missing required field 'id'"),
    ({"id": "a", "source": "s"}, "neither title nor body"),
    ({"id": "a", "body": 5, "source": "s"}, "'body' must be a string"),
    ({"id": "a", "body": "x"}, "missing 'source'"),
    ({"id": "a", "body": "x", "source": "s", "posted_at": "yesterday"}, "not an ISO 8601"),
    ({"id": "a", "body": "x", "source": "s", "images": [1]}, "'images' must be a list"),
    ({"id": "a", "body": "x\x00y", "source": "s"}, "NUL"),
    (["not", "an", "object"], "must be a JSON object"),
])
def test_invalid_records_explain_themselves(data: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        record_from_mapping(data, default_source=None, origin="f:1")


def test_content_hash_separates_parts() -> None:
    a = AdRecord(id="1", source="s", title="ab", body="c")
    b = AdRecord(id="1", source="s", title="a", body="bc")
    assert a.content_hash() != b.content_hash()
    assert a.content_hash() == AdRecord(id="2", source="t", title="ab", body="c").content_hash()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["id", "source", "title", "body", "url", "posted_at",
                                        "location", "images", "other"]),
                       st.one_of(st.none(), st.text(max_size=20), st.integers(),
                                 st.lists(st.text(max_size=5), max_size=3)), max_size=6))
def test_any_mapping_gives_a_record_or_a_record_error(data: dict[str, object]) -> None:
    try:
        rec = record_from_mapping(data, default_source="d")
    except RecordError as err:
        assert err.message
    else:
        assert rec.id and (rec.title or rec.body)
        rec.content_hash()
