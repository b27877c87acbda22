"""The README's "Data larger than memory" example, run as written (its Python block and the first
two shell commands), in a fresh folder."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- example: data larger than memory -->"


def _blocks(language: str) -> list[str]:
    text = README.read_text()
    section = text[text.index("## Data larger than memory"):]
    section = section[: section.index("\n## ", 1)]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_the_example_runs_as_written_and_the_shell_commands_on_its_files(tmp_path, monkeypatch):
    from tests.cli.helpers import run_cli

    text = README.read_text()
    assert MARKER in text
    code = text[text.index(MARKER):].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)  # the asserts in the block are the checks
    assert namespace["t"].params["df"] > 2
    assert len(list(tmp_path.glob("events-*.parquet"))) == 3
    commands = [line for line in _blocks("bash")[0].splitlines() if line.startswith("mlemap ")]
    for line in commands[:2]:  # the third needs a cluster
        assert not line.endswith("\\")
        out = run_cli(*shlex.split(line)[1:], "--quiet")
        assert out.returncode == 0, (line, out.stderr)
