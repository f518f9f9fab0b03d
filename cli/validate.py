"""``vibeplot validate``: re-validate a finished run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print the verdict as one JSON object (status, diagnosis, notes, run) on stdout.")
def validate(run_dir, as_json):
    """Check RUN_DIR's plots against the benchmark question's truth values.

    \b
    Exit codes: 0 correct, 1 wrong or unverifiable, 2 not a run of a known benchmark question.
    """
    import json

    from vibeplot.core.errors import ConfigError
    from vibeplot.core.ask.loop import add_verdict
    from vibeplot.core.ask.rundir import save_manifest

    manifest_path = run_dir / "run.json"
    if not manifest_path.is_file():
        raise ConfigError(f"{run_dir} is not a vibeplot run directory (no run.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    verdict = add_verdict(run_dir, manifest)
    if verdict is None:
        raise ConfigError(f"{run_dir} is not a run of a known benchmark question; nothing to validate against")
    save_manifest(run_dir, manifest)
    records = manifest.get("plot_records")
    if records is not None:
        files = "NAME.png.json" + (" and NAME.png.uhi.json" if manifest.get("plot_uhi_records") is not None else "")
        click.echo(f"histograms: as vibeplot recorded them during the run ({len(records)} plot(s), "
                   f"{files} checked against the sha256 in run.json)", err=True)
    if as_json:
        click.echo(json.dumps({"run": str(run_dir.resolve()), "status": verdict["status"],
                               "diagnosis": verdict.get("diagnosis", []), "notes": verdict.get("notes", [])}))
        raise SystemExit(0 if verdict["status"] == "correct" else 1)
    click.echo(f"{verdict['status']}" + (": " + "; ".join(verdict["diagnosis"]) if verdict["diagnosis"] else ""))
    for note in verdict.get("notes", []):  # remarks that do not change the verdict (e.g. variances)
        click.echo(f"note: {note}")
    raise SystemExit(0 if verdict["status"] == "correct" else 1)
