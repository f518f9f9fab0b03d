"""README.md stays true: its commands are what CI and users run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    test_command = next(line for block in _bash_blocks(readme) for line in block.splitlines() if "pytest" in line)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command.strip() in [line.strip() for line in ci]


def test_quickstart_is_the_acceptance_question():
    readme = (ROOT / "README.md").read_text()
    first = _bash_blocks(readme)[0].strip()
    assert first.endswith('vibeplot ask --model reference "Plot the missing transverse energy of all events"')


def test_layout_folders_exist():
    for folder in ("core", "cli", "stacks/uproot_opendata", "hints", "datasets", "tests", "benchmarks", ".ci"):
        assert (ROOT / folder).is_dir(), folder
