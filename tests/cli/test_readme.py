"""The README's "Command line" block, run as written: every command in order, on an empty
folder, each one must exit 0.

The block is read from README.md at test time (nothing is copied here). The only line not run
is the one that opens the desktop app (the ``gui`` subcommand, or ``esaudit`` with no
subcommand): it would block on the event loop; the app has its own tests in ``tests/ui/``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
ESAUDIT = str(Path(sys.executable).with_name("esaudit"))
GLOBAL_FLAGS = {"--read-only", "--debug"}


def command_block() -> list[str]:
    """The commands of the first ```sh block under '## Command line' (continuations joined)."""
    text = README.read_text("utf-8")
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert match, "no ```sh block under '## Command line' in README.md"
    commands: list[str] = []
    pending = ""
    for line in match.group(1).splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    return commands


def esaudit_args(command: str) -> list[str]:
    """The words after ``esaudit`` in a command (``NAME=$(esaudit ...)`` included)."""
    words = shlex.split(command, comments=True)
    first = words[0]
    if re.fullmatch(r"[A-Za-z_]\w*=\$\(esaudit", first):
        words = ["esaudit", *words[1:]]
        words[-1] = words[-1].removesuffix(")")
    assert words[0] == "esaudit", f"README command does not run esaudit: {command}"
    return words[1:]


def subcommand(command: str) -> str | None:
    args = esaudit_args(command)
    i = 0
    while i < len(args):
        if args[i] == "--db":
            i += 2
        elif args[i].startswith("--db=") or args[i] in GLOBAL_FLAGS:
            i += 1
        else:
            return args[i]
    return None


def opens_the_app(command: str) -> bool:
    return subcommand(command) in (None, "gui")


def with_executable(command: str) -> str:
    """``esaudit`` where a command starts (line start or ``$(``) -> this venv's executable."""
    return re.sub(r"(^|\$\()esaudit(?=\s|\)|$)", lambda m: m.group(1) + shlex.quote(ESAUDIT),
                  command)


def test_readme_block_is_parsed_as_expected() -> None:
    commands = command_block()
    assert len(commands) > 10
    skipped = [c for c in commands if opens_the_app(c)]
    assert len(skipped) == 1 and subcommand(skipped[0]) == "gui", skipped
    assert subcommand("esaudit --db demo.db --read-only verify") == "verify"
    assert with_executable('ID=$(esaudit --db d order create --customer "A")') == \
        f'ID=$({shlex.quote(ESAUDIT)} --db d order create --customer "A")'


def test_every_readme_command_succeeds_in_order(tmp_path: Path) -> None:
    commands = [c for c in command_block() if not opens_the_app(c)]
    # One bash process runs them all, so ID=$(...) carries over to the later $ID; each command
    # writes its own stdout/stderr files and the script stops at the first non-zero exit.
    lines = ["set -u"]
    for i, command in enumerate(commands):
        lines += [f"echo {i} > step", "{", with_executable(command),
                  f"}} > out.{i} 2> err.{i} || exit 97"]
    script = tmp_path / "walk.sh"
    script.write_text("\n".join(lines) + "\n", "utf-8")
    env = {**os.environ, "ESAUDIT_DB": "", "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600, env=env)
    if result.returncode != 0:
        step = int((tmp_path / "step").read_text().strip())
        err = (tmp_path / f"err.{step}").read_text("utf-8")
        raise AssertionError(f"README command {step + 1} failed: {commands[step]}\n"
                             f"stderr: {err}{result.stderr}")
    assert int((tmp_path / "step").read_text()) == len(commands) - 1
    for name in ("demo.db", "audit.pdf", "heads.json", "orders.jsonl", "copy.db"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "audit.pdf").read_bytes().startswith(b"%PDF-")
