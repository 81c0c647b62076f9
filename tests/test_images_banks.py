from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from images_helpers import edited_copy, scene
from tracelight.errors import InputError
from tracelight.images.banks import BankIndex, parse_bank_file, parse_bank_lines
from tracelight.images.hashing import hash_image

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
MD5 = "0d12d4462273b533b9197f78b9aeb0d7"
SHA1 = "a" * 40


def test_plain_lines_auto_kind_labels_comments() -> None:
    entries = parse_bank_lines([
        "# a comment\n", "\n", f"{PDQ}\n", f"{MD5.upper()},missing person case 12\n",
        f"{SHA1}\tpartner list\n", f"{PDQ}\n",  # duplicate dropped
    ])
    assert [(e.kind, e.value, e.label, e.line) for e in entries] == [
        ("pdq", PDQ, None, 3), ("md5", MD5, "missing person case 12", 4),
        ("sha1", SHA1, "partner list", 5)]


def test_sha256_needs_explicit_kind() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    assert parse_bank_lines([sha])[0].kind == "pdq"
    assert parse_bank_lines([sha], kind="sha256")[0].kind == "sha256"


def test_csv_with_header_and_label() -> None:
    entries = parse_bank_lines(["\ufeffmd5,label,extra\n", f"{MD5},case 7,x\n",
                                f'"{"b" * 32}","with, comma",y\n'])
    assert [(e.kind, e.label) for e in entries] == [("md5", "case 7"), ("md5", "with, comma")]
    csv_pdq = parse_bank_lines(["hash,category", f"{PDQ},known"])
    assert csv_pdq[0].kind == "pdq" and csv_pdq[0].label == "known"


def test_errors_name_file_and_lines() -> None:
    with pytest.raises(InputError) as exc:
        parse_bank_lines([f"{PDQ}\n", "xyz\n", "abc123\n"], origin="bank.txt")
    msg = str(exc.value)
    assert "bank.txt:2" in msg and "bank.txt:3" in msg and "2 invalid" in msg
    with pytest.raises(InputError, match="md5 hash has 32"):
        parse_bank_lines([PDQ], kind="md5")
    with pytest.raises(InputError, match="no hash column"):
        parse_bank_lines(["name,label", "a,b"])
    with pytest.raises(InputError, match="no hashes"):
        parse_bank_lines(["# only a comment"])


def test_parse_bank_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        parse_bank_file(tmp_path / "missing.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="UTF-8"):
        parse_bank_file(tmp_path / "bin.txt")


@given(st.lists(st.tuples(st.sampled_from([16, 20, 32]).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
    .filter(lambda s: "," not in s and "\t" not in s and not s.strip().startswith("#"))),
    min_size=1, max_size=20))
def test_roundtrip_plain_lines(items: list[tuple[bytes, str]]) -> None:
    lines = [f"{raw.hex()},{label}" for raw, label in items]
    entries = parse_bank_lines(lines)
    unique = list(dict.fromkeys(raw.hex() for raw, _ in items))
    assert [e.value for e in entries] == unique


@given(st.lists(st.text(max_size=80), max_size=10))
def test_parser_never_crashes(lines: list[str]) -> None:
    with contextlib.suppress(InputError):
        parse_bank_lines(lines)


def test_bank_index_matches(tmp_path: Path) -> None:
    a = hash_image(scene(tmp_path / "a.jpg", 1))
    b = hash_image(edited_copy(tmp_path / "a.jpg", tmp_path / "b.jpg"))
    c = hash_image(scene(tmp_path / "c.jpg", 2))
    sha1 = hashlib.sha1((tmp_path / "c.jpg").read_bytes()).hexdigest()
    index = BankIndex()
    index.add_bank("pdq-bank", parse_bank_lines([f"{a.pdq},photo A"]))
    index.add_bank("md5-bank", parse_bank_lines([f"{b.md5},copy B"]))
    index.add_bank("sha1-bank", parse_bank_lines([sha1]))
    found = index.match([a, b, c], threshold=31)
    assert [(m.bank, m.kind, m.distance) for m in found[0]] == [("pdq-bank", "pdq", 0)]
    kinds_b = {(m.bank, m.kind) for m in found[1]}
    assert kinds_b == {("md5-bank", "md5"), ("pdq-bank", "pdq")}
    assert next(m for m in found[1] if m.kind == "pdq").distance > 0
    assert [(m.bank, m.kind) for m in found[2]] == [("sha1-bank", "sha1")]
    assert index.match([b], threshold=0)[0][0].kind == "md5"
