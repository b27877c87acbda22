"""The argument parser: every command and every argument explains itself in --help."""

import argparse

import pytest

from mlemap.cli.main import build_parser

from .helpers import run_cli


def _commands(parser):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub, sub.choices


def _arguments():
    parser = build_parser()
    sub, commands = _commands(parser)
    yield "mlemap", parser
    for name, command in commands.items():
        yield f"mlemap {name}", command


@pytest.mark.parametrize("prog, parser", list(_arguments()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_argument_has_help_text(prog, parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help not in (None, "", argparse.SUPPRESS), f"{prog}: {name} has no help text"


def test_every_command_has_help_in_the_command_list():
    sub, commands = _commands(build_parser())
    described = {choice.dest: choice.help for choice in sub._choices_actions}
    assert set(described) == set(commands)
    assert all(described.values())


@pytest.mark.parametrize("command", ["fit", "compare", "regress", "path", "families", "tour", "lessons"])
def test_command_help_prints_and_exits_0(command):
    done = run_cli(command, "--help", columns=80)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith(f"usage: mlemap {command}")
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
