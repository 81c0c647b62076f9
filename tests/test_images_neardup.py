from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from images_helpers import edited_copy, scene
from tracelight.images.hashing import hash_image
from tracelight.images.neardup import near_duplicate_pairs


def test_pairs_link_ads_sharing_edited_photos(tmp_path: Path) -> None:
    a = hash_image(scene(tmp_path / "a.jpg", 1))
    a_copy = replace(hash_image(tmp_path / "a.jpg"), position=1)
    b = hash_image(edited_copy(tmp_path / "a.jpg", tmp_path / "b.jpg"))
    c = hash_image(scene(tmp_path / "c.jpg", 5))
    flat = replace(hash_image(scene(tmp_path / "d.jpg", 6)), quality=10)
    pairs = near_duplicate_pairs([("ad1", a), ("ad1", a_copy), ("ad2", a), ("ad3", b),
                                  ("ad4", c), ("ad5", flat), ("ad6", flat)])
    keyed = {(p.a, p.b): p for p in pairs}
    assert set(keyed) == {("ad1", "ad2"), ("ad1", "ad3"), ("ad2", "ad3")}
    assert keyed[("ad1", "ad2")].exact and keyed[("ad1", "ad2")].distance == 0
    assert not keyed[("ad1", "ad3")].exact and 0 < keyed[("ad1", "ad3")].distance <= 31
    assert pairs[0].distance == 0


def test_nothing_to_pair() -> None:
    assert near_duplicate_pairs([]) == []
