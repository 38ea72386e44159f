"""The docs tell the truth about what they name: every `portalops` command line in README.md,
docs/ and the runbooks is one the command has, with options it takes; every `make` target,
repository path, benchmark script and relative link exists; every page under docs/ is reachable
from README.md, and README.md stays a front door (under 10 KB)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import click
import pytest

from portalops.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
RUNBOOKS = sorted((ROOT / "runbooks").glob("*.md"))
MAKEFILE = ROOT / "Makefile"
README_LIMIT_BYTES = 10 * 1024

# What a repository path written in the docs starts with: the top-level folders.
TOP_LEVEL = ("deploy", "inventory", "lab", "monitors", "loadtests", "audit", "runbooks", "bench", "portal",
             "loopback_portal", "portalops", "tests", "docs")

# Words that stand before the command they run (`time make demo`, `sudo portalops ...`).
PREFIX_WORDS = {"time", "sudo", "env", "exec", "nohup", "!", "{", "do", "then"}
ELLIPSES = {"...", "\u2026"}  # `portalops lab ...`: any of the group's commands
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PORTALOPS = re.compile(r"^(?:(?:.*/)?bin/)?portalops$")  # portalops, .venv/bin/portalops, $(BIN)/portalops
PATH = re.compile(r"(?<![\w./~$:@-])((?:%s)/[\w./*?<>{}-]*)" % "|".join(map(re.escape, TOP_LEVEL)))
BENCH_SCRIPT = re.compile(r"(?<![\w./-])bench/[\w/.-]*?\.py\b")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def rel(path: Path) -> str:
    """The path as the repository writes it (docs/deploy.md)."""
    return str(path.relative_to(ROOT))


@dataclass(frozen=True)
class Code:
    """A piece of code in a Markdown file: a line of a fenced block (continued lines joined)
    or an inline code span (its line breaks made spaces)."""

    path: Path
    line: int
    text: str

    def where(self) -> str:
        """file:line, for a failure message."""
        return f"{rel(self.path)}:{self.line}"


def split_markdown(path: Path) -> tuple[list[Code], str]:
    """The file's code pieces, and its prose with every piece of code blanked out (line
    numbers kept), where links are looked for."""
    lines = path.read_text(encoding="utf-8").splitlines()
    prose = list(lines)
    pieces: list[Code] = []
    fence, continued, start = None, "", 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if fence is None:
            opening = re.match(r"(`{3,}|~{3,})", stripped)
            if opening:
                fence = opening.group(1)
                prose[number - 1] = ""
            continue
        prose[number - 1] = ""
        if stripped.startswith(fence) and not stripped[len(fence):].strip(fence[0]).strip():
            fence = None
            continue
        if not continued:
            start = number
        if line.rstrip().endswith("\\"):
            continued += line.rstrip()[:-1] + " "
            continue
        pieces.append(Code(path, start, continued + line))
        continued = ""
    text = "\n".join(prose)
    blanked = list(text)
    # A code span never crosses a blank line (the end of a paragraph).
    for paragraph in re.finditer(r"(?:[^\n]+\n?)+", text):
        for span in CODE_SPAN.finditer(paragraph.group(0)):
            start, end = paragraph.start() + span.start(), paragraph.start() + span.end()
            pieces.append(Code(path, text.count("\n", 0, start) + 1, " ".join(span.group(2).split())))
            blanked[start:end] = ["\n" if char == "\n" else " " for char in text[start:end]]
    return pieces, "".join(blanked)


def shell_words(text: str) -> list[str]:
    """The words and operators of a line of shell, comments left out."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote in a sketch of a command: split it plainly
        return re.findall(r"[^\s;&|()<>]+|[;&|()<>]+", text.split(" #")[0])


def simple_commands(text: str) -> list[list[str]]:
    """Every simple command in a line of shell, each as its words with the words that only
    lead into it (`time`, `sudo`, `VAR=value`) taken off. A `$(...)` substitution is a command
    of its own and one word (SUBSTITUTION) of the command around it; `;`, `&&`, `|` end one."""
    done: list[list[str]] = []
    open_commands: list[list[str]] = [[]]  # the innermost last
    redirected = False
    for word in shell_words(text):
        if not set(word) <= set("();<>|&"):
            if not redirected:  # a redirection's file is no word of the command
                open_commands[-1].append(word)
            redirected = False
            continue
        for char in word:
            if char == "(":
                outer = open_commands[-1]
                if outer and outer[-1].endswith("$"):
                    outer[-1] = outer[-1][:-1] + "SUBSTITUTION"
                open_commands.append([])
            elif char == ")" and len(open_commands) > 1:
                done.append(open_commands.pop())
            elif char in ");|&":
                done.append(open_commands[-1])
                open_commands[-1] = []
            elif char in "<>":
                redirected = True
    done.extend(reversed(open_commands))
    commands = []
    for words in done:
        while words and (words[0] in PREFIX_WORDS or ASSIGNMENT.match(words[0])):
            words = words[1:]
        if words:
            commands.append(words)
    return commands


def options_of(command: click.Command, context: click.Context) -> set[str]:
    """Every spelling of every option of the command, its help option included."""
    return {name for param in command.get_params(context) if isinstance(param, click.Option)
            for name in param.opts + param.secondary_opts}


def takes_value(command: click.Command, context: click.Context, name: str) -> bool:
    for param in command.get_params(context):
        if isinstance(param, click.Option) and name in param.opts + param.secondary_opts:
            return not (param.is_flag or param.count)
    return False


def command_problems(words: list[str]) -> list[str]:
    """What is wrong with a `portalops ...` command line: a command the CLI does not have, or
    an option its command does not take (only commands that pass unknown options on, such as
    `loadtest` to Locust and `lab ssh` to ssh, may take them)."""
    command: click.Command = main
    context = click.Context(main, info_name="portalops", **main.context_settings)
    path = ["portalops"]
    problems = []
    index = 1
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--" or word in ELLIPSES:  # the rest is the command's own, or left out
            break
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            known = options_of(command, context)
            if name in known:
                if "=" not in word and takes_value(command, context, name):
                    index += 1
            elif not context.ignore_unknown_options:
                problems.append(f"`{' '.join(path)}` has no option {name} (it has {', '.join(sorted(known))})")
            continue
        if isinstance(command, click.Group):
            sub = command.commands.get(word)
            if sub is None:
                problems.append(f"`{' '.join(path)}` has no command `{word}` "
                                f"(it has {', '.join(sorted(command.commands))})")
                break
            context = click.Context(sub, info_name=word, parent=context, **sub.context_settings)
            command = sub
            path.append(word)
    return problems


def portalops_commands(path: Path) -> list[tuple[Code, list[str]]]:
    """Every `portalops ...` command line of a Markdown file, with where it is written."""
    pieces, _ = split_markdown(path)
    return [(piece, words) for piece in pieces for words in simple_commands(piece.text)
            if PORTALOPS.match(words[0])]


def make_targets() -> set[str]:
    """The Makefile's targets (variable assignments and pattern or file targets left out)."""
    targets = set()
    for line in MAKEFILE.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-][A-Za-z0-9_. -]*?)\s*:(?![:=])", line)
        if match and not line.startswith("\t"):
            targets.update(name for name in match.group(1).split() if not name.startswith("."))
    return targets


def repository_paths(path: Path) -> list[tuple[Code, str]]:
    """Every repository path written in code in a Markdown file (a path on a host or on the
    controller starts with / or ~ and is not one)."""
    pieces, _ = split_markdown(path)
    found = []
    for piece in pieces:
        for match in PATH.finditer(piece.text):
            found.append((piece, match.group(1).rstrip(".,:")))
    return found


def exists_in_repository(written: str) -> bool:
    """True if the path (`<Alert>` and `{name}` stand for any name, `*` is a glob) names a
    file or folder of the repository."""
    pattern = re.sub(r"<[^>]*>|\{[^}]*\}", "*", written).rstrip("/") or "."
    if any(char in pattern for char in "*?["):
        return any(ROOT.glob(pattern))
    return (ROOT / pattern).exists()


def relative_links(path: Path) -> list[tuple[int, str, Path]]:
    """Every link of a Markdown file to a file of the repository (not to a web address or an
    anchor of the same page), as (line, as written, the file it names)."""
    _, prose = split_markdown(path)
    found = []
    for pattern in (LINK, REFERENCE_LINK):
        for match in pattern.finditer(prose):
            target = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
                continue
            line = prose.count("\n", 0, match.start()) + 1
            found.append((line, target, (path.parent / unquote(target.split("#", 1)[0])).resolve()))
    return found


PAGES = [README, *DOCS]
PAGE_IDS = [rel(p) for p in PAGES]
COMMAND_PAGES = PAGES + [p for p in RUNBOOKS if portalops_commands(p)]


def test_the_docs_exist_and_readme_names_portalops_commands():
    assert DOCS, "docs/ has no pages"
    assert portalops_commands(README), "README.md names no `portalops` command: the command check reads nothing"


@pytest.mark.parametrize("page", COMMAND_PAGES, ids=[rel(p) for p in COMMAND_PAGES])
def test_every_portalops_command_line_names_a_real_command_with_options_it_takes(page):
    problems = [f"{piece.where()}: `{' '.join(words)}`: {problem}"
                for piece, words in portalops_commands(page) for problem in command_problems(words)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_make_target_named_is_in_the_makefile(page):
    targets = make_targets()
    pieces, _ = split_markdown(page)
    problems = [f"{piece.where()}: `{' '.join(words)}`: the Makefile has no target `{word}` "
                f"(it has {', '.join(sorted(targets))})"
                for piece in pieces for words in simple_commands(piece.text) if words[0] == "make"
                for word in words[1:] if not word.startswith("-") and "=" not in word and word not in targets]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_repository_path_in_code_exists(page):
    problems = [f"{piece.where()}: `{written}` does not exist in the repository"
                for piece, written in repository_paths(page)
                if not exists_in_repository(written)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_bench_script_named_exists(page):
    text = page.read_text(encoding="utf-8")
    problems = [f"{rel(page)}:{text.count(chr(10), 0, m.start()) + 1}: `{m.group(0)}` is not a benchmark script "
                f"of bench/ (it has {', '.join(sorted(p.name for p in (ROOT / 'bench').glob('*.py')))})"
                for m in BENCH_SCRIPT.finditer(text) if not (ROOT / m.group(0)).is_file()]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_relative_link_resolves_to_a_file(page):
    problems = [f"{rel(page)}:{line}: the link ({written}) names {target}, which does not exist"
                for line, written, target in relative_links(page) if not target.exists()]
    assert not problems, "\n".join(problems)


def test_readme_links_every_page_under_docs():
    linked = {target for _, _, target in relative_links(README)}
    unlinked = [rel(page) for page in DOCS if page.resolve() not in linked]
    assert not unlinked, f"README.md does not link {', '.join(unlinked)}: a page nobody can find from the front door"


def test_readme_is_a_front_door_under_10_kb():
    size = len(README.read_bytes())
    assert size < README_LIMIT_BYTES, (f"README.md is {size} bytes, over {README_LIMIT_BYTES}: "
                                       f"move the detail into docs/ and link it")


# The parsing the checks above rely on, shown on lines like the docs'.

def test_a_substitution_is_a_command_of_its_own_and_one_word_of_the_outer_one():
    assert simple_commands("time portalops deploy $(portalops lab inventory) --limit commune  # x; y") == [
        ["portalops", "lab", "inventory"], ["portalops", "deploy", "SUBSTITUTION", "--limit", "commune"]]


def test_an_unknown_option_or_command_is_named_and_pass_through_options_are_allowed():
    assert command_problems(["portalops", "deploy", "INVENTORY", "--dry", "--limit", "db"]) == []
    assert "no option --no-such-flag" in command_problems(["portalops", "deploy", "--no-such-flag"])[0]
    assert "no command `runbook`" in command_problems(["portalops", "runbook", "HostDown"])[0]
    assert command_problems(["portalops", "loadtest", "INVENTORY", "--spike-factor", "4"]) == []
    assert command_problems(["portalops", "lab", "ssh", "db-1", "-o", "LogLevel=ERROR"]) == []
    assert command_problems([".venv/bin/portalops", "lab", "up", "-h"]) == []
    assert command_problems(["portalops", "lab", "..."]) == []
