"""``vibeplot questions``: the benchmark question registry."""

from __future__ import annotations

import json

import click


def _reference_paths(question) -> list[tuple[str, str]]:
    """(stack[/variant], path) of every reference solution installed for ``question``."""
    from vibeplot.core import plugins

    out = []
    for name, stack in sorted(plugins.stacks().items()):
        if stack.references_dir is None:
            continue
        folders = [("", stack.references_dir)]
        folders += [(f"/{d.name}", d) for d in sorted(stack.references_dir.iterdir()) if d.is_dir()
                    and not d.name.startswith("_")]
        for variant, folder in folders:
            path = folder / question.reference_name
            if path.is_file():
                out.append((name + variant, str(path)))
    return out


@click.group()
def questions():
    """Benchmark questions with curated references and automatic validation."""


@questions.command("list")
@click.option("--set", "spec", default="all", show_default=True,
              help="Comma-separated ids or sets (adl, extra, all).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the questions.")
def list_(spec, as_json):
    """List benchmark questions: id, sets, stacks with a reference, text."""
    from vibeplot.core.errors import ConfigError
    from vibeplot.core.questions import select

    try:
        chosen = select(spec)
    except KeyError as err:
        raise ConfigError(err.args[0]) from None
    if as_json:
        click.echo(json.dumps([{"id": q.id, "text": q.text, "tags": list(q.tags), "dataset": q.dataset,
                                "references": sorted({s.split("/")[0] for s, _ in _reference_paths(q)})}
                               for q in chosen], indent=2))
        return
    for q in chosen:
        stacks = sorted({s.split("/")[0] for s, _ in _reference_paths(q)})
        click.echo(click.style(q.id, bold=True) + f"  [{', '.join(q.tags)}]  references: {', '.join(stacks) or 'none'}")
        click.echo(f"  {q.text}")


@questions.command()
@click.argument("question_id")
@click.option("--json", "as_json", is_flag=True, help="Print the question as one JSON object.")
def show(question_id, as_json):
    """Everything about one question: wording, meaning, dataset, references."""
    from vibeplot.core.errors import ConfigError
    from vibeplot.core.questions import match, registry

    q = registry().get(question_id) or match(question_id)
    if q is None:
        raise ConfigError(f"no benchmark question {question_id!r}", hint="see `vibeplot questions list`")
    if as_json:
        click.echo(json.dumps({"id": q.id, "text": q.text, "aliases": list(q.aliases), "tags": list(q.tags),
                               "dataset": q.dataset, "datasets": list(q.datasets) or [q.dataset],
                               "meaning": q.meaning, "differences": dict(q.differences),
                               "references": [{"stack": s, "path": p} for s, p in _reference_paths(q)]}, indent=2))
        return
    click.echo(click.style(q.id, bold=True) + f"  [{', '.join(q.tags)}]")
    click.echo(f"text:     {q.text}")
    for alias in q.aliases:
        click.echo(f"alias:    {alias}")
    if len(q.datasets) > 1:  # a question about several samples, in the order its references read them
        click.echo(f"datasets: {', '.join(q.datasets)}")
    else:
        click.echo(f"dataset:  {q.dataset}")
    click.echo(f"meaning:  {q.meaning or '(the text is unambiguous)'}")
    for stack, note in q.differences.items():
        click.echo(f"differs:  {stack}: {note}")
    click.echo("references:")
    for stack, path in _reference_paths(q) or [("none", "")]:
        click.echo(f"  {stack:<22} {path}")


@questions.command("match")
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the match as one JSON object (id null: none).")
def match_(text, as_json):
    """Which benchmark question TEXT asks, and why (or why none).

    \b
    The same matching `vibeplot ask` uses: by id, or by wording (the same physics objects and
    quantities, the same numbers compared the same way, the same charge and flavour, no word the
    registered question does not explain).  Exit codes: 0 a question matched, 1 none did.
    """
    from vibeplot.core.questions import explain

    found = explain(" ".join(text))
    if as_json:
        click.echo(json.dumps(found.as_dict(), indent=2))
        raise SystemExit(0 if found.question else 1)
    if found.question is None:
        click.echo("no benchmark question matches")
        for reason in found.reasons:
            click.echo(f"  {reason}")
        raise SystemExit(1)
    click.echo(click.style(found.question.id, bold=True) + f"  (by {found.how})")
    if found.phrasing:
        click.echo(f"  registered: {found.phrasing}")
    for reason in found.reasons:
        click.echo(f"  {reason}")
