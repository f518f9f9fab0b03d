"""``vibeplot datasets``: list, resolve and show catalog datasets; generate the embedded sample."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vibeplot.core import config


@click.group()
def datasets():
    """Datasets vibeplot knows (catalog and plugins), phrase resolution, and the embedded sample."""


@datasets.command()
@click.option("--events", "-n", type=click.IntRange(1), default=None,
              help=f"Events to write [default: {config.SAMPLE_EVENTS}; with --weighted, the weighted sample's 20000].")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=None,
              help="Random seed (the default is the embedded sample's, or the weighted sample's with --weighted).")
@click.option("--weighted", is_flag=True,
              help="Write the weighted sample instead: Z->ll events with a per-event genWeight (about 15% negative); "
                   "prints the sum of genWeight.")
def generate(events, out, seed, weighted):
    """Write a sample in the ADL benchmark schema (tree Events, GeV) to OUT."""
    import time

    from vibeplot.datasets import embedded
    from vibeplot.datasets.sample import generate_sample, generate_weighted_sample, sum_of_weights

    start = time.perf_counter()
    if weighted:
        events = events or embedded.WEIGHTED_EVENTS
        generate_weighted_sample(out, n_events=events, seed=embedded.WEIGHTED_SEED if seed is None else seed)
    else:
        events = events or config.SAMPLE_EVENTS
        generate_sample(out, n_events=events, seed=config.SAMPLE_SEED if seed is None else seed)
    took = time.perf_counter() - start
    kind = "weighted events" if weighted else "events"
    click.echo(f"wrote {events} {kind} to {out} in {took:.1f} s ({events / took:,.0f} events/s)")
    if weighted:
        click.echo(f"sum of genWeight: {sum_of_weights(out)!r}")


def _context(stack: str | None):
    from vibeplot.core.resolver import ResolveContext

    if not stack:
        return ResolveContext()
    from vibeplot.core import plugins

    st = plugins.get_stack(stack)
    return ResolveContext(stack=st.name, formats=tuple(st.formats or ()))


def _all_datasets() -> list:
    """Catalog datasets plus those third-party resolvers name by phrase, by name."""
    from vibeplot.core.resolver import ResolveContext, candidates, known_phrases
    from vibeplot.datasets import catalog

    out = {e["name"]: catalog.dataset(e["name"]) for e in catalog.entries()}
    for phrase in known_phrases():
        for c in candidates(phrase, ResolveContext()):
            if c.exact:
                out.setdefault(c.dataset.name, c.dataset)
    return list(out.values())


def _find(name: str):
    """The dataset called ``name`` (exactly), or a DatasetError naming the closest."""
    from vibeplot.core.resolver import ResolveContext, candidates
    from vibeplot.core.errors import DatasetError

    for ds in _all_datasets():
        if ds.name == name:
            return ds
    found = candidates(name, ResolveContext())
    for c in found:
        if c.dataset.name == name:
            return c.dataset
    closest = ", ".join(c.dataset.name for c in found[:5]) or "none"
    raise DatasetError(f"no dataset is called {name!r}; closest: {closest}",
                       hint="see `vibeplot datasets list`")


def _facts(ds) -> list[tuple[str, str]]:
    meta = ds.metadata
    where = "did" if meta.get("did") or meta.get("dids") else "location"
    rows = [("name", ds.name), ("title", ds.title), (where, ds.location), ("format", ds.format)]
    for key in ("experiment", "run_period", "kind", "process", "cross_section_pb", "filter_efficiency", "k_factor"):
        if meta.get(key) is not None:
            rows.append((key, str(meta[key])))
    return rows


def _record(ds) -> dict:
    """Everything about ``ds`` as a JSON-ready object (``--json``)."""
    return {"name": ds.name, "title": ds.title, "location": ds.location, "format": ds.format, "tree": ds.tree,
            "experiment": ds.metadata.get("experiment") or ds.experiment or "",
            "metadata": json.loads(json.dumps(ds.metadata, default=str)), "prompt_notes": ds.prompt_notes}


def _dumps(value) -> str:
    return json.dumps(value, indent=2, default=str)


@datasets.command("list")
@click.option("--experiment", "-e", default=None, help="Only this experiment (e.g. ATLAS, CMS).")
@click.option("--format", "-f", "fmt", default=None, help="Only this format (physlite, nanoaod, flat-ntuple, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the datasets.")
def list_(experiment, fmt, as_json):
    """The datasets vibeplot knows (built-in catalog and plugins)."""
    from rich.table import Table

    from rich.console import Console

    from ._show import console

    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(width=200)
    table = Table()
    table.add_column("name", no_wrap=True)
    for title in ("experiment", "run period", "kind", "format"):
        table.add_column(title, no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("process", no_wrap=True, max_width=60, overflow="ellipsis")
    n, chosen = 0, []
    for ds in _all_datasets():
        meta = ds.metadata
        exp = meta.get("experiment") or ds.experiment or ""
        if experiment and experiment.lower() not in exp.lower():
            continue
        if fmt and fmt.lower() != ds.format.lower():
            continue
        chosen.append(ds)
        table.add_row(ds.name, exp, meta.get("run_period", ""), meta.get("kind", ""), ds.format,
                      meta.get("process", ""))
        n += 1
    if as_json:
        click.echo(_dumps([_record(ds) for ds in chosen]))
        return
    console.print(table)
    click.echo(f"{n} dataset(s); `vibeplot datasets show NAME` for everything about one.")


@datasets.command("resolve")
@click.argument("phrase", nargs=-1, required=True)
@click.option("--stack", "-s", default=None, help="Prefer datasets this stack can read.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: phrase, status (resolved or ambiguous), dataset, why, alternatives.")
def resolve_(phrase, stack, as_json):
    """What a PHRASE ("semileptonic ttbar") resolves to, with the alternatives.

    \b
    Exit codes: 0 resolved, or ambiguous (the candidates are listed; name one
    with `vibeplot ask --dataset NAME`); 2 no dataset matches (the closest are named).
    """
    from vibeplot.core.resolver import AmbiguousDataset, resolve

    text = " ".join(phrase)
    try:
        found = resolve(text, _context(stack))
    except AmbiguousDataset as err:
        if as_json:
            click.echo(_dumps({"phrase": text, "status": "ambiguous", "dataset": None, "why": None,
                               "alternatives": [{"name": c.dataset.name, "score": c.score, "title": c.dataset.title}
                                                for c in err.candidates]}))
            return
        click.echo(f"{text!r} is ambiguous; candidates:")
        for c in err.candidates:
            click.echo(f"  {c.dataset.name:32} {c.score:.2f}  {c.dataset.title}")
        click.echo("Be more specific, or pass one name with --dataset NAME.")
        return
    ds = found.dataset
    if as_json:
        click.echo(_dumps({"phrase": text, "status": "resolved", "dataset": _record(ds), "why": found.why,
                           "alternatives": [{"name": c.dataset.name, "score": c.score, "title": c.dataset.title}
                                            for c in found.alternatives[:5]]}))
        return
    click.echo(f"{text!r} -> {ds.name}  ({found.why})")
    for key, value in _facts(ds)[1:]:
        click.echo(f"  {key:18} {value}")
    if found.alternatives:
        click.echo("alternatives:")
        for c in found.alternatives[:5]:
            click.echo(f"  {c.dataset.name:32} {c.score:.2f}")


@datasets.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the dataset as one JSON object.")
def show(name, as_json):
    """Everything known about dataset NAME, with sources."""
    ds = _find(name)
    if as_json:
        click.echo(_dumps(_record(ds)))
        return
    for key, value in _facts(ds):
        click.echo(f"{key:18} {value}")
    if ds.tree:
        click.echo(f"{'tree':18} {ds.tree}")
    shown = {k for k, _ in _facts(ds)} | {"name", "title", "tree", "aliases", "sources", "notes",
                                          "format", "location"}
    for key, value in ds.metadata.items():
        if key in shown:
            continue
        if isinstance(value, list):
            click.echo(f"{key}:")
            for item in value:
                click.echo(f"  - {item}")
        else:
            click.echo(f"{key:18} {value}")
    if ds.metadata.get("aliases"):
        click.echo(f"{'aliases':18} " + ", ".join(ds.metadata["aliases"]))
    if ds.metadata.get("notes"):
        click.echo(f"notes: {ds.metadata['notes']}")
    if ds.metadata.get("sources"):
        click.echo("sources:")
        for src in ds.metadata["sources"]:
            click.echo(f"  - {src}")
    click.echo("prompt notes:")
    click.echo("  " + ds.prompt_notes.rstrip().replace("\n", "\n  "))


def choose_interactively(phrase: str, found: list):
    """Ask on the terminal which of several candidates ``phrase`` means (used by `ask` on a TTY)."""
    click.echo(f"\nThe dataset phrase {phrase!r} is ambiguous:", err=True)
    for i, c in enumerate(found, 1):
        click.echo(f"  {i}. {c.dataset.name} ({c.score:.2f}) {c.dataset.title}", err=True)
    n = click.prompt("Which one", type=click.IntRange(1, len(found)), default=1, err=True)
    return found[n - 1]
