"""Prompt tokens per stack and dataset format: what `vibeplot hints show` prints, counted.

    uv run --locked --all-extras python benchmarks/prompt_tokens.py

For every stack and every dataset format it reads, the first prompt of two questions is built by
the `vibeplot hints show --stack S --dataset D QUESTION` command (in-process, so exactly what the
command prints) and counted with litellm's token counter and the gpt-4o tokenizer (the counter
`vibeplot ask` uses for replies without token usage, and benchmarks/bench.py item 4):

- ADL 1 (missing ET of all events): needs no b-tagging;
- ADL 6 (trijet with the maximum b-tagging discriminant): the b-tagging brick's question.

Dataset per format: flat-ntuple the embedded sample (default), root-file that sample given by path,
nanoaod the catalog's "agc ttbar", physlite the catalog's "jz2" (a rucio DID; no servicex.yaml needed).

`--bricks-at REV` reads every hint brick as it was at git revision REV (everything else as it is
now), to measure what a change of the bricks did: e.g. `--bricks-at HEAD~1`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("VIBEPLOT_CACHE_DIR", tempfile.mkdtemp(prefix="vibeplot-tokens-cache-"))

from click.testing import CliRunner  # noqa: E402

from vibeplot.cli.main import cli  # noqa: E402
from vibeplot.core import plugins  # noqa: E402
from vibeplot.core.ask import llm  # noqa: E402
from vibeplot.core.questions import registry  # noqa: E402
from vibeplot.datasets import embedded  # noqa: E402

TOKENIZER = "gpt-4o"
QUESTIONS = ("adl-1", "adl-6")


def datasets() -> dict[str, str | None]:
    """A `--dataset` value per format (None: the default, the embedded sample)."""
    return {"flat-ntuple": None, "root-file": str(embedded.ensure_sample()), "nanoaod": "agc ttbar",
            "physlite": "jz2"}


def shown(stack: str, dataset: str | None, question: str) -> str:
    """What `vibeplot hints show` prints."""
    args = ["hints", "show", "--stack", stack, *(["--dataset", dataset] if dataset else []), question]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"vibeplot {' '.join(args)} failed ({result.exit_code}): {result.output}")
    return result.output


def table() -> list[tuple[str, str, dict[str, int]]]:
    """(stack, format, {question id: tokens}) for every stack and format it reads."""
    rows = []
    for name, stack in sorted(plugins.stacks().items()):
        if name not in ("uproot_opendata", "servicex_awkward", "rdataframe"):
            continue  # third-party stacks (e.g. the tests' toy stack) are not ours to measure
        for fmt, dataset in datasets().items():
            if stack.formats and fmt not in stack.formats:
                continue
            counts = {qid: llm.count_tokens(TOKENIZER, shown(name, dataset, registry()[qid].text))
                      for qid in QUESTIONS}
            rows.append((name, fmt, counts))
    return rows


def bricks_at(revision: str) -> None:
    """Make the prompt builder read hint bricks from git ``revision`` (a brick missing there: now)."""
    from vibeplot.core.ask import prompt

    repo = Path(__file__).resolve().parents[1]
    current = prompt.brick_source

    def source(name: str, stack) -> str:
        local = stack.local_hints_dir / f"{name}.md" if stack.local_hints_dir is not None else None
        path = local if local is not None and local.is_file() else repo / "hints" / f"{name}.md"
        try:
            rel = Path(path).resolve().relative_to(repo)
        except ValueError:
            return current(name, stack)  # not a brick of this repository (a third-party stack's)
        shown = subprocess.run(["git", "show", f"{revision}:{rel}"], cwd=repo, capture_output=True, text=True)
        return shown.stdout if shown.returncode == 0 else current(name, stack)

    prompt.brick_source = source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bricks-at", metavar="REV", help="read the hint bricks as they were at git revision REV")
    args = parser.parse_args()
    if args.bricks_at:
        bricks_at(args.bricks_at)
        print(f"hint bricks as at {args.bricks_at}")
    print(f"{'stack':18} {'format':12} " + " ".join(f"{q:>7}" for q in QUESTIONS) + f"   ({TOKENIZER} tokens)")
    for name, fmt, counts in table():
        print(f"{name:18} {fmt:12} " + " ".join(f"{counts[q]:>7}" for q in QUESTIONS))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
