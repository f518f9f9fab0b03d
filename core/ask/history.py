"""Past runs: the run directories under an out dir (``vibeplot runs``), read from their ``run.json``.

One run is summarised as a flat dict (:func:`summarise`); :func:`find_runs` lists them, newest
first, filtered by stack, verdict and start time.  ``--since`` takes a date or a duration:

>>> import datetime as dt
>>> now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
>>> parse_since("2d", now).isoformat()
'2026-12-02T12:00:00+00:00'
>>> parse_since("90m", now).isoformat()
'2026-12-04T10:30:00+00:00'
>>> parse_since("2026-12-01", now).isoformat()
'2026-12-01T00:00:00+00:00'
>>> summarise({"question": "Plot the MET", "started": "2026-12-03T10:00:00+00:00", "stack": "uproot_opendata",
...            "model": "reference", "outcome": "plot", "verdict": {"status": "correct", "diagnosis": []},
...            "totals": {"cost_usd": 0}}, "runs/x")["verdict"]
'correct'
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from vibeplot.core.errors import ConfigError

#: the keys of one run's summary (``vibeplot runs --json`` prints a list of these)
FIELDS = ("started", "question", "stack", "model", "dataset", "outcome", "verdict", "attempts", "cost_usd", "path",
          "parent_run", "rerun_of")
#: a run with no verdict (the question is no benchmark question, or no plot was made)
NO_VERDICT = "none"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """A duration back from ``now`` (``30m``, ``12h``, ``2d``, ``1w``) or an ISO date/time (UTC if no zone)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if found:
        return now - dt.timedelta(seconds=float(found[1]) * _UNITS[found[2]])
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since {text!r} is neither a date (2026-12-01) nor a duration (2d, 12h, 30m)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def summarise(manifest: dict, path) -> dict:
    """One run's summary: the :data:`FIELDS` of its manifest (missing ones are ``None``)."""
    verdict = manifest.get("verdict") or {}
    dataset = manifest.get("dataset")
    return {
        "started": manifest.get("started"),
        "question": manifest.get("question"),
        "stack": manifest.get("stack"),
        "model": manifest.get("model"),
        "dataset": dataset.get("name") if isinstance(dataset, dict) else dataset,
        "outcome": manifest.get("outcome"),
        "verdict": verdict.get("status", NO_VERDICT),
        "attempts": len(manifest.get("attempts") or []),
        "cost_usd": (manifest.get("totals") or {}).get("cost_usd"),
        "path": str(path),
        # the run this one follows up (`ask --continue`) or runs again (`vibeplot rerun`), else None
        "parent_run": manifest.get("parent_run"),
        "rerun_of": manifest.get("rerun_of"),
    }


def follows(summary: dict) -> str:
    """How a run follows another, for the listing: ``after NAME`` (a follow-up), ``rerun of NAME``, or "".

    >>> follows({"parent_run": "/w/runs/20261204-101500-plot-met", "rerun_of": None})
    'after 20261204-101500-plot-met'
    """
    if summary.get("rerun_of"):
        return f"rerun of {Path(summary['rerun_of']).name}"
    if summary.get("parent_run"):
        return f"after {Path(summary['parent_run']).name}"
    return ""


def read_run(path) -> dict:
    """The manifest of the run directory ``path``; a ConfigError if it has no readable ``run.json``."""
    path = Path(path)
    try:
        manifest = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path} is not a vibeplot run directory (no readable run.json: {err})") from None
    if not isinstance(manifest, dict):
        raise ConfigError(f"{path} is not a vibeplot run directory (run.json is not an object)")
    return manifest


def _started(summary: dict) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(summary["started"])
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def find_runs(out, *, stack: str | None = None, verdict: str | None = None,
              since: dt.datetime | None = None) -> list[dict]:
    """Summaries of the runs directly under ``out``, newest first; folders without a readable
    ``run.json`` are skipped."""
    out = Path(out)
    found = []
    for run_dir in sorted(out.iterdir()) if out.is_dir() else ():
        try:
            summary = summarise(read_run(run_dir), run_dir)
        except ConfigError:
            continue
        if stack and summary["stack"] != stack:
            continue
        if verdict and summary["verdict"] != verdict:
            continue
        if since and ((started := _started(summary)) is None or started < since):
            continue
        found.append(summary)
    found.sort(key=lambda s: s["started"] or "", reverse=True)
    return found


def locate(run: str, out) -> Path:
    """The run directory ``run`` names: a path, or a directory name (or its unique prefix) under ``out``."""
    path = Path(run)
    if (path / "run.json").is_file():
        return path
    out = Path(out)
    if out.is_dir():
        names = sorted(p for p in out.iterdir() if p.name.startswith(run) and (p / "run.json").is_file())
        exact = [p for p in names if p.name == run]
        if exact or len(names) == 1:
            return (exact or names)[0]
        if names:
            raise ConfigError(f"{run!r} names {len(names)} runs under {out}: "
                              + ", ".join(p.name for p in names[:5]), hint="give more of the name")
    raise ConfigError(f"no run {run!r} (neither a run directory nor a run under {out})",
                      hint="see `vibeplot runs`")
