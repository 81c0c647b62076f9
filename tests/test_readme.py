"""The README's walkthrough runs word for word after `make demo`, in the same folder.

`make demo` is `tracelight demo` (which then serves the workspace); here `tracelight demo
--no-serve` builds a smaller corpus of the same generator in a temporary folder, and every
command of the walkthrough's shell blocks runs there in a real shell, in order. The ids and the
phone the README quotes belong to the 2,000-ad demo; on the small corpus they are replaced by
the equivalents the demo itself suggests (its "Try:" lines, which are run too).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tracelight.demo import generate
from tracelight.kinds import normalize_lookup

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SECTION = "## Five-minute walkthrough"
SETUP = ["make demo", "make test"]


def readme_blocks(section: str = SECTION) -> list[list[str]]:
    """The lines of each ```sh block in `section` (up to the next '## ' heading)."""
    text = README.read_text()
    start = text.index(section)
    end = text.find("\n## ", start + len(section))
    body = text[start:end if end > 0 else None]
    return [[line for line in block.splitlines() if line.strip()]
            for block in re.findall(r"```sh\n(.*?)```", body, flags=re.S)]


def _command(line: str) -> str:
    """The line without its trailing comment (a '#' after two spaces)."""
    return re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()


def test_readme_opens_with_the_two_setup_commands() -> None:
    text = README.read_text()
    first = re.search(r"```sh\n(.*?)```", text, flags=re.S)
    assert first is not None
    assert first.group(1).split("\n")[:-1] == SETUP
    walkthrough = text[text.index(SECTION):]
    assert "second shell" in walkthrough.split("```")[0]  # make demo keeps its shell busy
    assert readme_blocks()[0][0].startswith(". .venv/bin/activate")


def test_readme_examples_come_from_the_demo_data(tmp_path: Path) -> None:
    """The phone and ids the walkthrough quotes are in the 2,000-ad demo `make demo` makes."""
    generate(tmp_path, n_ads=2000, seed=7, images=False)
    with (tmp_path / "truth.jsonl").open() as fh:
        truth = {r["id"]: r for r in map(json.loads, fh)}
    lines = [_command(line) for block in readme_blocks() for line in block]
    phones = [shlex.split(line)[-1] for line in lines if "--phone" in line]
    assert phones
    for typed in phones:
        (e164,) = normalize_lookup("phone", typed, "US")
        carriers = [i for i, r in truth.items() if e164 in r["phones"]]
        assert len(carriers) >= 2, typed
        assert f"{len(carriers)} ads with this phone" in README.read_text()
        ways = {p["raw"] for i in carriers for p in truth[i]["phone_text"] if p["phone"] == e164}
        assert len(ways) == len(carriers)  # "each written another way"
    ids = re.findall(r"\b(?:show|similar) (demo-\d{6})", "\n".join(lines))
    assert ids and all(i in truth for i in ids)
    shown = re.search(r"\bshow (demo-\d{6})", "\n".join(lines))
    assert shown and truth[shown.group(1)]["label"] == 1  # the top lead is a planted one


def _shell(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def _substitute(line: str, top: str, networked: str, phone: str, authored: str) -> str:
    """The README's 2,000-ad values -> the small corpus's; a smaller second corpus."""
    line = re.sub(r"\bshow demo-\d{6}", f"show {top}", line)
    line = re.sub(r"\bsimilar demo-\d{6}", f"similar {networked}", line)
    line = re.sub(r"\bsimilar au-\d{6}", f"similar {authored}", line)
    line = re.sub(r"--phone (\"[^\"]*\"|'[^']*'|\S+)", f"--phone {shlex.quote(phone)}", line)
    return line.replace("--ads 500", "--ads 120")


@pytest.mark.slow
def test_walkthrough_runs_word_for_word(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("no bash to run the README's shell lines")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tracelight"  # what `. .venv/bin/activate` puts on PATH
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m tracelight \"$@\"\n")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACELIGHT_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=str(REPO / "src"), COLUMNS="80")
    work = tmp_path / "checkout"
    work.mkdir()

    demo = _shell("tracelight demo --no-serve --ads 300", work, env)  # `make demo`, unserved
    assert demo.returncode == 0, demo.stderr
    tries = [line.strip() for line in demo.stdout.splitlines()
             if line.startswith("  tracelight ")]
    assert len(tries) >= 4, demo.stdout
    found: dict[str, str] = {}
    for line in tries:
        cmd = _command(line)
        words = shlex.split(cmd)
        if words[1] in ("show", "similar"):
            found["authored" if words[2].startswith("au-") else words[1]] = words[2]
        if "--phone" in words:
            found["phone"] = words[words.index("--phone") + 1]
        done = _shell(cmd, work, env)
        assert done.returncode == 0 and done.stdout.strip(), (cmd, done.stderr)
    assert set(found) == {"show", "similar", "phone", "authored"}, tries

    ran = 0
    for block in readme_blocks():
        for raw in block:
            line = _command(raw)
            if line.startswith((". ", "make ")) or "tracelight serve" in line:
                continue  # the shim stands for the venv; serving blocks
            if line.startswith("tracelight user add"):
                continue  # asks for a password on the terminal
            if "jq " in line and shutil.which("jq") is None:
                continue
            line = _substitute(line, found["show"], found["similar"], found["phone"],
                               found["authored"])
            done = _shell(line, work, env)
            assert done.returncode == 0, (line, done.stderr)
            assert done.stdout.strip(), (line, done.stderr)
            assert "Traceback" not in done.stderr, (line, done.stderr)
            ran += 1
    assert ran >= 12
    # the demo store was not touched by the second corpus: its ads stay at revision 1
    shown = _shell(f"tracelight show {found['show']} --format jsonl", work, env)
    assert json.loads(shown.stdout)["revision"] == 1
