#!/usr/bin/env python3
"""Check (or rewrite) the command transcripts in README.md by running them.

    python3 scripts/readme.py            report every transcript that differs; exit 1 if any
    python3 scripts/readme.py --update   rewrite README.md with the real output

A transcript is a fenced block whose lines start with ``$ `` (a command) followed by its output.
The blocks run in README order as one session, as a reader would type them: in a new temporary
folder (the working directory) holding a copy of ``examples/`` as ``_posts/`` (and of the real
posts of ``tests/stories/`` as ``sample/``, for the Stories section) and a new archive
(``NEWSARC_DB``), so the first ``newsarc import`` imports, a second export into the same folder is
refused, and so on. ``/tmp/demo`` in a command or its output stands for that folder, so the README
shows the same paths on every machine.

Each command runs in ``bash`` on a pseudo-terminal (stdout and stderr both; stdin empty), so the
terminal views (tables, ``show``, bars) are what a user sees, and a pipe (``| cut``) makes what a
script sees: 100 columns, ``NO_COLOR`` (no colour or box drawing, so the text pastes), ``TZ=UTC``,
no pager. ``newsarc`` is this checkout's code run by this Python. The example files get fixed
modification times (``older/`` a day older), so which copy of a duplicate wins does not depend on
when the repository was cloned.

Import timings (``in 0.06s, 224 files/s``) vary from run to run: they are compared as placeholders,
and ``--update`` keeps the README's numbers when nothing else changed.

The synopses (a fenced block that starts ``newsarc COMMAND [--option ...]``) are checked against
``newsarc COMMAND --help``: every option they name exists, and a list of values (``--format
table|json``) holds only values the option takes (a list may leave values out: ``stats --help``
offers ``ids``, which ``stats`` refuses).

tests/test_readme.py runs the check.
"""

from __future__ import annotations

import argparse
import difflib
import os
import pty
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
EXAMPLES = REPO / "examples"
SAMPLE = REPO / "tests" / "stories" / "real"
#: the folder the README's transcripts show; the real one is a temporary folder
SHOWN_ROOT = "/tmp/demo"
WIDTH = 100
#: modification time of the example files (2022-06-01 UTC); files under older/ a day before
MTIME = 1654041600
TIMEOUT = 60

FENCE = re.compile(r"^(```+)")
#: what differs between two runs of the same import: its duration and rate
#: (with the white space around, as a terminal may wrap the summary line anywhere in it)
TIMING = re.compile(r"\s+in\s+\d+(?:\.\d+)?s,\s+[\d,.]+\s+files/s\b")
#: a terminal's input, token by token: control sequences (a progress bar drawn and erased on
#: stderr), line feeds, carriage returns and runs of text
CONTROL_OR_TEXT = re.compile(
    r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\n|\r|[^\x1b\r\n]+|\x1b"
)


@dataclass
class Step:
    """One ``$ command`` of a transcript and the output the README shows for it."""

    command: str
    output: list[str]  # lines, without the blank lines that separate it from the next command
    gap: int  # blank lines after the output, before the next command or the end of the block


@dataclass
class Block:
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    steps: list[Step]


def find_blocks(lines: list[str]) -> list[Block]:
    """The fenced blocks whose first line is a ``$ `` command."""
    blocks = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        body = lines[i + 1 : j]
        if body and body[0].startswith("$ "):
            blocks.append(Block(i + 1, j, parse_steps(body)))
        i = j + 1
    return blocks


def parse_steps(body: list[str]) -> list[Step]:
    steps: list[Step] = []
    for line in body:
        if line.startswith("$ "):
            steps.append(Step(line[2:], [], 0))
        else:
            steps[-1].output.append(line)
    for step in steps:
        while step.output and not step.output[-1].strip():
            step.output.pop()
            step.gap += 1
    return steps


class Session:
    """A temporary folder with the examples and an archive, where the README's commands run."""

    def __init__(self) -> None:
        # a name of letters and digits only: Markdown output escapes `_` in paths
        self.root = Path(tempfile.gettempdir()).resolve() / f"newsarcreadme{secrets.token_hex(6)}"
        self.root.mkdir(mode=0o700)
        posts = self.root / "_posts"
        shutil.copytree(EXAMPLES, posts)
        for path in sorted(posts.rglob("*")):
            age = 86400 if "older" in path.relative_to(posts).parts else 0
            os.utime(path, (MTIME - age, MTIME - age))
        # the real posts of the stories' labelled set (one day of the sample site, with its
        # copies from several outlets), for the Stories section, as ``sample/``
        sample = self.root / "sample"
        shutil.copytree(SAMPLE, sample)
        for path in sorted(sample.rglob("*")):
            os.utime(path, (MTIME, MTIME))
        home = self.root / ".home"
        home.mkdir()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TERM": "xterm",
            "TZ": "UTC",
            "NO_COLOR": "1",
            "COLUMNS": str(WIDTH),
            "LINES": "1000",
            "PAGER": "cat",
            "NEWSARC_DB": str(self.root / ".archive.db"),
            "XDG_DATA_HOME": str(home / "data"),
            "PYTHONPATH": str(REPO),
            "PYTHONHASHSEED": "0",
        }
        # the console script as installed would run it, from this checkout, named `newsarc`
        entry = "import sys; sys.argv[0] = 'newsarc'; from newsarc.cli import main; main()"
        self.prelude = f'newsarc() {{ {shlex.quote(sys.executable)} -c "{entry}" "$@"; }}\n'

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def run(self, command: str) -> list[str]:
        """The command's terminal output (stdout and stderr as they interleave), as lines."""
        command = command.replace(SHOWN_ROOT, str(self.root))
        master, slave = pty.openpty()
        _set_size(slave, WIDTH)
        proc = subprocess.Popen(
            ["bash", "-c", self.prelude + command],
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=self.root, env=self.env,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        chunks = []
        try:
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every process holding the terminal has ended
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(master)
            proc.wait(timeout=TIMEOUT)
        lines = screen(b"".join(chunks).decode("utf-8", "replace"))
        lines = [line.replace(str(self.root), SHOWN_ROOT).rstrip(" ") for line in lines]
        while lines and not lines[-1]:
            lines.pop()
        return lines


def screen(text: str) -> list[str]:
    """The lines left on the terminal: a progress bar that erased itself is gone.

    Enough of a terminal for what newsarc and Rich write: line feeds, carriage returns, cursor up,
    erase line; other control sequences (cursor visibility, colours) change no text."""
    lines = [""]
    row = col = 0
    for token in CONTROL_OR_TEXT.findall(text):
        if token == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b["):
            if token.endswith("A"):
                row = max(0, row - int(token[2:-1] or 1))
            elif token.endswith("K"):
                lines[row] = lines[row][:col] if token[2:-1] in ("", "0") else ""
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return lines


def _set_size(fd: int, columns: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 1000, columns, 0, 0))


def same(shown: list[str], real: list[str]) -> bool:
    return TIMING.sub(" in …", "\n".join(shown)) == TIMING.sub(" in …", "\n".join(real))


SYNOPSIS = re.compile(r"^newsarc ([a-z]+) ")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
VALUES = re.compile(r"(--[a-z][a-z-]*) ([\w-]+(?:\|[\w-]+)+(?:\|\.\.\.)?)")
HELP_CHOICES = re.compile(r"\[([\w-]+(?:\|[\w-]+)+)\]")


def find_synopses(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of every fenced block, without a language, that starts ``newsarc X ``."""
    found = []
    inside: int | None = None
    for n, line in enumerate(lines):
        if line.startswith("```"):
            if inside is None:
                inside = n + 1 if line.strip() == "```" else -1
            else:
                body = lines[inside:n] if inside > 0 else []
                if body and SYNOPSIS.match(body[0]):
                    found.append((inside + 1, "\n".join(body)))
                inside = None
    return found


def help_entries(help_text: str) -> dict[str, str]:
    """Each option of a ``--help`` page and the text of its entry (its line, where the left
    column names it, and the description lines under it, up to the next option)."""
    entries: dict[str, str] = {}
    current: list[str] = []
    for line in help_text.splitlines():
        if line.startswith("  -"):
            current = OPTION.findall(line.strip().split("  ", 1)[0])
            entries.update(dict.fromkeys(current, ""))
        for option in current:
            entries[option] += line + "\n"
    return entries


def check_synopsis(text: str, help_text: str) -> list[str]:
    """What a synopsis says that ``--help`` does not."""
    entries = help_entries(help_text)
    problems = [
        f"{o}: not an option" for o in dict.fromkeys(OPTION.findall(text)) if o not in entries
    ]
    for option, values in VALUES.findall(text):
        if option not in entries:
            continue
        listed = [v for v in values.split("|") if v != "..."]
        choices = HELP_CHOICES.search(entries[option])
        if choices:
            wrong = [v for v in listed if v not in choices.group(1).split("|")]
        else:  # a free-form option: its help must name every value
            entry = entries[option]
            wrong = [
                v for v in listed if not re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", entry)
            ]
        if wrong:
            problems.append(f"{option}: {', '.join(wrong)} not among its values")
    return problems


def render(block: Block, outputs: list[list[str]]) -> list[str]:
    lines = []
    for step, output in zip(block.steps, outputs, strict=True):
        lines.append(f"$ {step.command}")
        lines.extend(output)
        lines.extend([""] * step.gap)
    return lines


@dataclass
class Report:
    text: str  # the README with every transcript's real output
    stale: list[str]  # a diff for each transcript that differs
    synopses: list[str]  # what synopses say that --help does not (a person rewrites those)


def check(text: str, name: str = "README.md") -> Report:
    """Run every transcript and check every synopsis of README text ``text``."""
    lines = text.split("\n")
    updates: list[tuple[Block, list[str]]] = []
    report = Report(text, [], [])
    session = Session()
    try:
        for block in find_blocks(lines):  # in README order: the session depends on it
            outputs = []
            for step in block.steps:
                real = session.run(step.command)
                outputs.append(step.output if same(step.output, real) else real)
            shown, updated = lines[block.start : block.end], render(block, outputs)
            if updated != shown:
                diff = difflib.unified_diff(shown, updated, name, "real output", lineterm="")
                report.stale.append(f"{name} line {block.start + 1}:\n" + "\n".join(diff))
            updates.append((block, updated))
        for number, synopsis in find_synopses(lines):
            match = SYNOPSIS.match(synopsis)
            assert match is not None
            command = match.group(1)
            help_text = "\n".join(session.run(f"COLUMNS=200 newsarc {command} --help"))
            for problem in check_synopsis(synopsis, help_text):
                report.synopses.append(f"{name} line {number}: newsarc {command} {problem}")
    finally:
        session.close()
    for block, updated in reversed(updates):  # bottom-up: earlier line numbers stay valid
        lines[block.start : block.end] = updated
    report.text = "\n".join(lines)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the README's transcripts")
    parser.add_argument("readme", nargs="?", type=Path, default=README)
    args = parser.parse_args()
    text = args.readme.read_text(encoding="utf-8")
    report = check(text, args.readme.name)
    if args.update:
        if report.text != text:
            args.readme.write_text(report.text, encoding="utf-8")
        print(f"{args.readme}: {len(report.stale)} transcript(s) rewritten", file=sys.stderr)
    else:
        for problem in report.stale:
            print(problem)
        if report.stale:
            print(
                f"{len(report.stale)} transcript(s) differ; scripts/readme.py --update rewrites them"
            )
    for problem in report.synopses:
        print(problem)
    return 1 if report.synopses or (report.stale and not args.update) else 0


if __name__ == "__main__":
    sys.exit(main())
