"""``vibeplot datasets``: the embedded sample (and, later, the catalog)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def datasets():
    """Datasets vibeplot knows and the embedded sample."""


@datasets.command()
@click.option("--events", "-n", type=click.IntRange(1), default=100_000, show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=None, help="Random seed [default: the embedded sample's].")
def generate(events, out, seed):
    """Write a sample in the ADL benchmark schema (tree Events, GeV) to OUT."""
    import time

    from vibeplot.core.sample import generate_sample
    from vibeplot.datasets import embedded

    start = time.perf_counter()
    generate_sample(out, n_events=events, seed=embedded.SEED if seed is None else seed)
    took = time.perf_counter() - start
    click.echo(f"wrote {events} events to {out} in {took:.1f} s ({events / took:,.0f} events/s)")
