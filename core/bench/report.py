"""The compare report: ``report.md`` and a self-contained ``report.html`` from a compare's results.

Everything is computed from the result rows (:func:`vibeplot.core.bench.compare.load_results`;
a damaged results file is skipped with a warning naming it):

* per stack, a model × question grid of the correct rate and the ran-but-wrong rate
  (``reference`` first, as the baseline row), the mean number of attempts and the mean
  cost per trial;
* the cheapest model that is correct in at least :data:`GOOD_RATE` of its trials, per
  stack and question (the baseline is not a candidate);
* the same model across stacks side by side; failure categories; script run time per stack;
* plots as PNG (``OUT/report/``): a correct-rate heat map per stack, correct rate vs
  cost per question; thumbnails of each question's plots linked to their run directories, each
  with a link to its histograms in the UHI format (``NAME.png.uhi.json``, when the run has one).

The same numbers are written to ``OUT/report/summary.json``.  Rates are over the
recorded trials of a cell; a cost is the mean per trial in USD, unknown (``?``) when
any trial of the cell had no known price.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import os
import statistics
from collections import defaultdict
from pathlib import Path

from vibeplot.core.ask.oracle import NAME as ORACLE, is_oracle
from vibeplot.core.sandbox.uhi_json import SUFFIX as UHI_SUFFIX

#: "cheapest good model": correct in at least this fraction of its trials
GOOD_RATE = 0.8
NO_PLOT = ("failed", "policy", "declined")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _usd(x: float | None) -> str:
    if x is None:
        return "?"
    return f"${x:,.4f}" if x >= 0.01 or x == 0 else f"${x:.6f}"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "—" if x is None else fmt.format(x)


def _usd_or_dash(x: float | None, correct: int) -> str:
    """A cost per correct plot: "—" when nothing was correct, "?" when a trial had no price."""
    return "—" if correct == 0 else _usd(x)


def _mean_or_none(values):
    values = list(values)
    return None if not values or any(v is None for v in values) else sum(values) / len(values)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: the chance that at least one of ``k`` trials drawn without replacement
    from ``n`` trials, ``c`` of them correct, is correct: ``1 - C(n-c, k) / C(n, k)``.

    >>> [round(pass_at_k(3, 1, k), 4) for k in (1, 2, 3)], pass_at_k(3, 0, 3)
    ([0.3333, 0.6667, 1.0], 0.0)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


#: failure categories of a trial that is not correct (see :func:`failure_category`)
FAILURE_CATEGORIES = ("no plot", "wrong", "unverifiable", "declined", "budget", "error")


def failure_category(row: dict) -> str | None:
    """Why a trial is not correct: ``no plot`` after its attempts (scripts failed or broke a policy),
    ``wrong`` (a plot, with the validator's diagnosis), ``unverifiable``, ``declined``, ``budget``
    (stopped by the budget), ``error`` (the model could not be reached, or another error); None
    when it is correct."""
    verdict, category = row["verdict"], row.get("error_category") or ""
    if verdict == "correct":
        return None
    if verdict in ("wrong", "unverifiable", "declined"):
        return verdict
    if category == "budget":
        return "budget"
    if category == "model-error" or category.startswith("error"):
        return "error"
    return "no plot"


def metrics(trials: list[dict]) -> dict:
    """pass@1, pass@k (k = trials), correct rate, mean attempts of the correct trials, and tokens,
    cost and wall time (model + scripts) per correct plot: the totals over all trials divided by
    the number correct (None when none is correct, or for cost when a trial had no price)."""
    n = len(trials)
    c = sum(t["verdict"] == "correct" for t in trials)
    tokens = sum((t["tokens_in"] or 0) + (t["tokens_out"] or 0) for t in trials)
    cost = None if any(t["cost_usd"] is None for t in trials) else sum(t["cost_usd"] for t in trials)
    seconds = sum((t["llm_seconds"] or 0.0) + (t["script_seconds"] or 0.0) for t in trials)
    per = (lambda total: None if total is None or c == 0 else total / c)
    good = [t["attempts"] for t in trials if t["verdict"] == "correct"]
    return {"n": n, "n_correct": c, "pass@1": pass_at_k(n, c, 1) if n else None,
            "pass@k": pass_at_k(n, c, n) if n else None, "k": n,
            "pass_at": [pass_at_k(n, c, k) for k in range(1, n + 1)],
            "correct_rate": c / n if n else None,
            "attempts_to_correct": sum(good) / len(good) if good else None,
            "tokens": tokens, "cost_usd": cost, "seconds": seconds,
            "tokens_per_correct": per(tokens), "cost_per_correct": per(cost), "seconds_per_correct": per(seconds)}


def _model_metrics(cells: list[dict]) -> dict:
    """A stack × model over all its questions: pass@1 and pass@k are means over the questions,
    the rest as :func:`metrics` over all its trials."""
    trials = [t for c in cells for t in c["rows"]]
    m = metrics(trials)
    per_q = [metrics(c["rows"]) for c in cells]
    m["pass@1"] = statistics.fmean(q["pass@1"] for q in per_q)
    m["pass@k"] = statistics.fmean(q["pass@k"] for q in per_q)
    m["k"] = min(q["k"] for q in per_q)
    m["pass_at"] = [statistics.fmean(q["pass_at"][i] for q in per_q) for i in range(m["k"])]
    m["questions"] = len(cells)
    return m


def summarize(rows: list[dict], spec: dict) -> dict:
    """All the report's numbers, from result rows and the compare's ``compare.json``."""
    by_cell: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        by_cell[r["stack"], r["model"], r["question"]].append(r)
    stacks = [s for s in spec.get("stacks", []) if any(r["stack"] == s for r in rows)]
    stacks += sorted({r["stack"] for r in rows} - set(stacks))
    questions = [q for q in spec.get("questions", []) if any(r["question"] == q for r in rows)]
    questions += sorted({r["question"] for r in rows} - set(questions))
    models = sorted({r["model"] for r in rows}, key=lambda m: (not is_oracle(m), spec.get("models", []).index(m)
                                                               if m in spec.get("models", []) else 1e9, m))
    cells = {}
    for (stack, model, question), trials in by_cell.items():
        n = len(trials)
        cells[f"{stack}|{model}|{question}"] = {
            "stack": stack, "model": model, "question": question, "trials": n,
            "correct": sum(t["verdict"] == "correct" for t in trials) / n,
            "wrong": sum(t["verdict"] == "wrong" for t in trials) / n,
            "no_plot": sum(t["verdict"] in NO_PLOT for t in trials) / n,
            "attempts": sum(t["attempts"] for t in trials) / n,
            "cost": _mean_or_none(t["cost_usd"] for t in trials),
            "runs": [t["run_dir"] for t in sorted(trials, key=lambda t: t["trial"]) if t["run_dir"]],
            "user_priced": any(t.get("price") == "user" for t in trials),
            **metrics(trials),
        }
    per_model = {}
    for stack in stacks:
        for model in models:
            cs = [{"rows": by_cell[stack, model, q]} for q in questions if by_cell.get((stack, model, q))]
            if cs:
                per_model[f"{stack}|{model}"] = {"stack": stack, "model": model, **_model_metrics(cs)}
    categories: dict[str, dict] = {}
    for r in sorted(rows, key=lambda r: (r["stack"], r["model"], r["question"], r["trial"])):
        cat = failure_category(r)
        if cat is not None:
            entry = categories.setdefault(cat, {"count": 0, "example": None, "example_detail": ""})
            entry["count"] += 1
            if entry["example"] is None and r["run_dir"]:
                entry["example"] = r["run_dir"]
                entry["example_detail"] = r["diagnosis"] or r["error_category"] or r["verdict"]
    failure_categories = {k: categories[k] for k in FAILURE_CATEGORIES if k in categories}
    cheapest = {}
    for stack in stacks:
        for q in questions:
            good = [c for c in cells.values() if c["stack"] == stack and c["question"] == q
                    and not is_oracle(c["model"]) and c["correct"] >= GOOD_RATE]
            priced = sorted((c for c in good if c["cost"] is not None), key=lambda c: (c["cost"], c["model"]))
            pick = priced[0] if priced else (good[0] if good else None)
            cheapest[f"{stack}|{q}"] = None if pick is None else {"model": pick["model"], "cost": pick["cost"],
                                                                  "correct": pick["correct"]}
    across = {}
    for model in models:
        for stack in stacks:
            trials = [r for r in rows if r["model"] == model and r["stack"] == stack]
            if trials:
                across[f"{model}|{stack}"] = {"trials": len(trials),
                                              "correct": sum(t["verdict"] == "correct" for t in trials) / len(trials),
                                              "cost": _mean_or_none(t["cost_usd"] for t in trials)}
    failures: dict[str, dict[str, int]] = {}
    for stack in stacks:
        counts: dict[str, int] = defaultdict(int)
        for r in rows:
            if r["stack"] == stack and r["verdict"] != "correct":
                counts[r["verdict"] if r["verdict"] not in NO_PLOT or not r["error_category"]
                       else f"{r['verdict']}: {r['error_category']}"] += 1
        failures[stack] = dict(sorted(counts.items()))
    runtime = {}
    for stack in stacks:
        times = [r["script_seconds"] for r in rows if r["stack"] == stack and r["script_seconds"]]
        runtime[stack] = {"runs": len(times), "mean_s": statistics.fmean(times) if times else None,
                          "median_s": statistics.median(times) if times else None}
    return {"stacks": stacks, "models": models, "questions": questions, "cells": cells, "cheapest": cheapest,
            "across_stacks": across, "per_model": per_model,
            "failure_categories": failure_categories, "failures": failures,
            "user_priced": sorted({r["model"] for r in rows if r.get("price") == "user"}), "script_time": runtime, "trials": len(rows),
            "total_cost": None if any(r["cost_usd"] is None for r in rows) else sum(r["cost_usd"] for r in rows)}


# -- plots ------------------------------------------------------------------------------------


_NO_COST_CHART = ("(no chart: fewer than two stack × model points with a known cost, the "
                  f"`{ORACLE}` baseline not counted)")


def _luminance(rgb) -> float:
    """Relative luminance (WCAG) of an RGB colour with components in 0..1."""
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _text_colour(rgb) -> str:
    """Black or white, whichever contrasts more with the background ``rgb`` (0..1)."""
    lum = _luminance(rgb)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def _plots(summary: dict, folder: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    qs, models = summary["questions"], summary["models"]
    for stack in summary["stacks"]:
        grid = np.full((len(models), len(qs)), np.nan)
        for i, m in enumerate(models):
            for k, q in enumerate(qs):
                c = summary["cells"].get(f"{stack}|{m}|{q}")
                if c:
                    grid[i, k] = c["correct"]
        fig, ax = plt.subplots(figsize=(max(5.0, 2.5 + 0.6 * len(qs)), max(2.8, 1.5 + 0.5 * len(models))))
        im = ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        ax.set_xticks(range(len(qs)), qs, rotation=45, ha="right")
        ax.set_yticks(range(len(models)), models)
        for i in range(len(models)):
            for k in range(len(qs)):
                if not np.isnan(grid[i, k]):
                    ax.text(k, i, f"{100 * grid[i, k]:.0f}", ha="center", va="center", fontsize=8,
                            color=_text_colour(im.cmap(im.norm(grid[i, k]))[:3]))
        fig.colorbar(im, ax=ax, label="correct rate")
        ax.set_title(f"{stack}: correct rate")
        fig.tight_layout()
        out[f"heatmap-{stack}"] = folder / f"heatmap-{stack}.png"
        fig.savefig(out[f"heatmap-{stack}"], dpi=90)
        plt.close(fig)
    points = []
    for stack in summary["stacks"]:
        for m in models:
            if is_oracle(m):
                continue
            cs = [c for c in summary["cells"].values() if c["stack"] == stack and c["model"] == m]
            costs = [c["cost"] for c in cs]
            if cs and all(x is not None for x in costs):
                points.append((sum(costs) / len(costs), sum(c["correct"] for c in cs) / len(cs), f"{m} / {stack}"))
    if len(points) < 2:  # one point or none says nothing: no chart (the report says why)
        return out
    fig, ax = plt.subplots(figsize=(6, 4))
    for x, y, label in points:
        ax.scatter(x, y, label=label)
    ax.set_xlabel("mean cost per trial [USD]")
    ax.set_ylabel("correct rate")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Correct rate vs cost")
    if ax.collections:
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    out["success-vs-cost"] = folder / "success-vs-cost.png"
    fig.savefig(out["success-vs-cost"], dpi=90)
    plt.close(fig)
    return out


def _thumbnails(rows: list[dict], out: Path, folder: Path) -> dict[str, list[dict]]:
    """Per question: one example per (stack, model), a correct trial if any, as a thumbnail."""
    from matplotlib.image import thumbnail

    folder.mkdir(parents=True, exist_ok=True)
    chosen: dict[tuple, dict] = {}
    order = {"correct": 0, "wrong": 1, "unverifiable": 2}
    for r in sorted(rows, key=lambda r: (order.get(r["verdict"], 9), r["trial"])):
        if r["plots"] and (r["question"], r["stack"], r["model"]) not in chosen:
            chosen[r["question"], r["stack"], r["model"]] = r
    per_question: dict[str, list[dict]] = defaultdict(list)
    for (question, stack, model), r in sorted(chosen.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                not is_oracle(kv[0][2]), kv[0][2])):
        for png in r["plots"]:
            source = out / png
            if not source.is_file():
                continue
            thumb = folder / (png.replace("/", "_").replace(os.sep, "_"))
            try:
                thumbnail(str(source), str(thumb), scale=0.25)
            except Exception:
                continue
            histograms = png + UHI_SUFFIX  # the plot's histograms in the UHI format, written by vibeplot
            per_question[question].append({"stack": stack, "model": model, "verdict": r["verdict"],
                                           "thumb": thumb, "run_dir": r["run_dir"], "png": png,
                                           "uhi": histograms if (out / histograms).is_file() else None})
    return per_question


# -- writers ----------------------------------------------------------------------------------


def _md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _sections(summary: dict) -> list[tuple[str, list[str], list[list[str]], dict]]:
    """(title, header, rows, options) of every table, shared by the Markdown and HTML writers."""
    qs, models, cells = summary["questions"], summary["models"], summary["cells"]
    name = (lambda m: f"{m} (baseline)" if is_oracle(m) else m)
    out = []
    for stack in summary["stacks"]:
        grid, rates, attempts, cost, runs = [], [], [], [], []
        for m in models:
            cs = [cells.get(f"{stack}|{m}|{q}") for q in qs]
            if not any(cs):
                continue
            rates.append([None if c is None else c["correct"] for c in cs])
            runs.append([None] + [c["runs"][0] if c and c["runs"] else None for c in cs])
            grid.append([name(m)] + ["" if c is None else f"{_pct(c['correct'])} ({_pct(c['wrong'])} wrong)"
                                     for c in cs])
            attempts.append([name(m)] + ["" if c is None else f"{c['attempts']:.2f}" for c in cs])
            cost.append([name(m)] + ["" if c is None else _usd(c["cost"]) for c in cs])
        out.append((f"{stack}: correct rate (ran but wrong)", ["model"] + qs, grid,
                    {"rates": rates, "stack": stack, "html_links": runs}))
        out.append((f"{stack}: mean attempts", ["model"] + qs, attempts, {"html_links": runs}))
        out.append((f"{stack}: mean cost per trial", ["model"] + qs, cost, {"html_links": runs}))
    rows, links = [], []
    for key, c in summary["cells"].items():
        rows.append([c["stack"], name(c["model"]), c["question"], str(c["n"]), str(c["n_correct"]),
                     _num(c["pass@1"]), _num(c["pass@k"]), _num(c["attempts_to_correct"]),
                     _num(c["tokens_per_correct"], "{:.0f}"), _usd_or_dash(c["cost_per_correct"], c["n_correct"]),
                     _num(c["seconds_per_correct"], "{:.1f}")])
        links.append([None, c["runs"][0] if c["runs"] else None] + [None] * 9)
    out.append(("Per stack, model and question: pass@k and cost per correct plot",
                ["stack", "model", "question", "trials", "correct", "pass@1", "pass@k (k = trials)",
                 "attempts to a correct plot", "tokens per correct plot", "cost per correct plot",
                 "seconds per correct plot"], rows, {"links": links}))
    rows = [[m["stack"], name(m["model"]), str(m["questions"]), str(m["n"]), str(m["n_correct"]), _num(m["pass@1"]),
             _num(m["pass@k"]), _num(m["attempts_to_correct"]), _num(m["tokens_per_correct"], "{:.0f}"),
             _usd_or_dash(m["cost_per_correct"], m["n_correct"]), _num(m["seconds_per_correct"], "{:.1f}")]
            for m in summary["per_model"].values()]
    out.append(("Per stack and model, over all questions", ["stack", "model", "questions", "trials", "correct",
                "pass@1 (mean)", "pass@k (mean)", "attempts to a correct plot", "tokens per correct plot",
                "cost per correct plot", "seconds per correct plot"], rows, {}))
    cats = summary["failure_categories"]
    rows = [[k, str(v["count"]), (v["example"] or "—") + (f" ({v['example_detail']})" if v["example_detail"] else "")]
            for k, v in cats.items()] or [["(none: every trial correct)", "0", "—"]]
    out.append(("Failure categories (one example run each)", ["category", "trials", "example run"], rows,
                {"links": [[None, None, v["example"]] for v in cats.values()]}))
    rows = []
    for stack in summary["stacks"]:
        picks = [summary["cheapest"].get(f"{stack}|{q}") for q in qs]
        rows.append([stack] + ["none" if p is None else f"{p['model']} ({_usd(p['cost'])})" for p in picks])
    out.append((f"Cheapest model correct in ≥ {GOOD_RATE:.0%} of trials (the {ORACLE} baseline excluded)", ["stack"] + qs, rows, {}))
    rows = [[name(m)] + [(lambda a: "" if a is None else f"{_pct(a['correct'])} of {a['trials']}")(
        summary["across_stacks"].get(f"{m}|{s}")) for s in summary["stacks"]] for m in models]
    out.append(("Same model across stacks: correct rate", ["model"] + summary["stacks"], rows, {}))
    categories = sorted({k for f in summary["failures"].values() for k in f}) or ["(none: every trial correct)"]
    rows = [[s] + [str(summary["failures"][s].get(k, 0)) for k in categories] for s in summary["stacks"]]
    out.append(("Trials not correct, by category", ["stack"] + categories, rows, {}))
    rows = [[s, str(t["runs"]), "–" if t["mean_s"] is None else f"{t['mean_s']:.1f}",
             "–" if t["median_s"] is None else f"{t['median_s']:.1f}"] for s, t in summary["script_time"].items()]
    out.append(("Script run time per stack (seconds per trial, all attempts)",
                ["stack", "trials with a run", "mean", "median"], rows, {}))
    return out


def _header(summary: dict, spec: dict) -> list[str]:
    return [
        f"Generated {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} from {summary['trials']} recorded trial(s).",
        f"Questions: {', '.join(summary['questions'])}. Stacks: {', '.join(summary['stacks'])}. "
        f"Models: {', '.join(summary['models'])}. Trials per cell: {spec.get('trials', '?')} "
        f"(the `{ORACLE}` baseline: curated solutions, one trial). "
        f"Total cost: {_usd(summary['total_cost'])}.",
    ] + ([f"User-priced (--price or the prices setting, not litellm's map): {', '.join(summary['user_priced'])}."]
         if summary.get("user_priced") else [])


def write_markdown(summary: dict, spec: dict, plots: dict, thumbs: dict, out: Path) -> Path:
    rel = (lambda p: os.path.relpath(p, out))
    parts = ["# vibeplot compare report", "", *_header(summary, spec), ""]
    for title, header, rows, opts in _sections(summary):
        if "links" in opts:
            rows = [[f"[{c}]({h})" if h else c for c, h in zip(row, hrefs)] for row, hrefs in zip(rows, opts["links"])]
        parts += [f"## {title}", "", _md_table(header, rows), ""]
        if "rates" in opts:
            parts += [f"![{opts['stack']} heat map]({rel(plots['heatmap-' + opts['stack']])})", ""]
    parts += ["## Correct rate vs cost", "", f"![correct rate vs cost]({rel(plots['success-vs-cost'])})"
              if "success-vs-cost" in plots else _NO_COST_CHART, ""]
    parts += ["## Plots per question", ""]
    for q in summary["questions"]:
        parts.append(f"### {q}")
        parts += [f"[![{t['stack']} / {t['model']}: {t['verdict']}]({rel(t['thumb'])})]({t['run_dir']}) "
                  f"{t['stack']} / {t['model']}: {t['verdict']}"
                  + (f" ([histograms]({t['uhi']}))" if t["uhi"] else "") + "  "
                  for t in thumbs.get(q, [])] or ["(no plot)"]
        parts.append("")
    path = out / "report.md"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _heat_style(rate: float | None) -> str:
    """Background from red (0) to green (1), with black or white text, whichever is legible on it."""
    if rate is None:
        return ""
    red, green, blue = int(230 - 120 * rate), int(120 + 110 * rate), 130
    colour = _text_colour((red / 255, green / 255, blue / 255))
    return f' style="background: rgb({red},{green},{blue}); color: {colour}"'


#: click a column header to sort its table by it (again: the other way); numbers sort as numbers
SORT_SCRIPT = """<script>
document.querySelectorAll('table.sortable th').forEach(function (th) {
  th.title = 'click to sort';
  th.addEventListener('click', function () {
    var table = th.closest('table'), col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var rows = Array.prototype.slice.call(table.querySelectorAll('tr')).slice(1);
    var dir = th.dataset.dir === 'asc' ? -1 : 1;
    th.parentNode.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    var key = function (tr) {
      var text = tr.children[col] ? tr.children[col].textContent.trim() : '';
      var num = parseFloat(text.replace(/[$,%]/g, ''));
      return isNaN(num) ? [1, text.toLowerCase()] : [0, num];
    };
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x[0] !== y[0]) return x[0] - y[0];
      return (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) * dir;
    });
    rows.forEach(function (tr) { table.appendChild(tr); });
  });
});
</script>"""


def write_html(summary: dict, spec: dict, plots: dict, thumbs: dict, out: Path) -> Path:
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>vibeplot compare report</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;"
             "margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px;text-align:center}"
             "th{background:#eee;cursor:pointer}td:first-child{text-align:left}tr.baseline td{font-style:italic}"
             ".thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:8px}"
             "figure{margin:0;font-size:12px;text-align:center}"
             "img.thumb{width:100%;height:170px;object-fit:contain;background:#fff;border:1px solid #ddd}"
             "img.plot{max-width:95%}</style></head><body>",
             "<h1>vibeplot compare report</h1>", *[f"<p>{e(line)}</p>" for line in _header(summary, spec)]]
    for title, header, rows, opts in _sections(summary):
        parts.append(f"<h2>{e(title)}</h2><table class='grid sortable'><tr>"
                     + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        for i, row in enumerate(rows):
            rates = [None] + (opts["rates"][i] if "rates" in opts else [None] * (len(row) - 1))
            links = opts.get("links") or opts.get("html_links") or []
            hrefs = links[i] if i < len(links) else [None] * len(row)
            baseline = any(c.endswith("(baseline)") for c in row)
            parts.append(("<tr class='baseline'>" if baseline else "<tr>") + "".join(
                f"<td{_heat_style(rate)}>" + (f"<a href='{e(h)}'>{e(c)}</a>" if h else e(c)) + "</td>"
                for c, rate, h in zip(row, rates, hrefs)) + "</tr>")
        parts.append("</table>")
        if "rates" in opts:
            parts.append(f"<img class='plot' alt='{e(opts['stack'])} heat map' "
                         f"src='{_data_uri(plots['heatmap-' + opts['stack']])}'>")
    parts.append("<h2>Correct rate vs cost</h2>" + (
        f"<img class='plot' alt='correct rate vs cost' src='{_data_uri(plots['success-vs-cost'])}'>"
        if "success-vs-cost" in plots else f"<p>{e(_NO_COST_CHART.replace('`', ''))}</p>"))
    parts.append("<h2>Plots per question</h2>")
    for q in summary["questions"]:
        parts.append(f"<h3>{e(q)}</h3><div class='thumbs'>")
        for t in thumbs.get(q, []):
            parts.append(f"<figure><a href='{e(t['run_dir'])}'><img class='thumb' alt='{e(t['png'])}' "
                         f"src='{_data_uri(t['thumb'])}'></a><figcaption>{e(t['stack'])} / {e(t['model'])}: "
                         f"{e(t['verdict'])}" + (f" (<a href='{e(t['uhi'])}'>histograms</a>)" if t["uhi"] else "")
                         + "</figcaption></figure>")
        parts.append("</div>" if thumbs.get(q) else "<p>(no plot)</p></div>")
    parts.append(SORT_SCRIPT)
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def write_report(out: Path, warn=None) -> dict[str, Path]:
    """Write ``OUT/report.md``, ``OUT/report.html`` and ``OUT/report/`` (plots, summary.json).

    Damaged results files are left out, each with a ``warn`` (default: a line on stderr) naming it."""
    from vibeplot.core.bench.compare import _warn

    out = Path(out)
    rows, spec = _load(out, warn or _warn)
    summary = summarize(rows, spec)
    folder = out / "report"
    plots = _plots(summary, folder)
    thumbs = _thumbnails(rows, out, folder / "thumbs")
    write_summary(out, summary)
    return {"md": write_markdown(summary, spec, plots, thumbs, out),
            "html": write_html(summary, spec, plots, thumbs, out), "summary": out / "summary.json"}


def _load(out: Path, warn) -> tuple[list[dict], dict]:
    from vibeplot.core.bench.compare import load_results

    spec_path = out / "compare.json"
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8")) if spec_path.is_file() else {}
    except ValueError as err:
        warn(f"{spec_path} is damaged ({err}); the report orders stacks, models and questions by name")
        spec = {}
    return load_results(out, warn=warn).to_pylist(), spec


def summary_of(out: Path, warn=None) -> dict:
    """The summary of a compare's results (what ``summary.json`` holds), without writing anything."""
    from vibeplot.core.bench.compare import _warn

    rows, spec = _load(Path(out), warn or _warn)
    return summarize(rows, spec)


def write_summary(out: Path, summary: dict) -> Path:
    """The report's numbers as ``OUT/summary.json`` (also ``OUT/report/summary.json``)."""
    from vibeplot.core.files import atomic_write

    text = json.dumps(summary, indent=2) + "\n"
    (Path(out) / "report").mkdir(parents=True, exist_ok=True)
    atomic_write(Path(out) / "report" / "summary.json", text)
    return atomic_write(Path(out) / "summary.json", text)


def short_table(summary: dict) -> str:
    """A few lines for the terminal: correct / wrong / no plot per stack × model, and the total cost."""
    header = ["stack", "model", "correct", "wrong", "no plot", "other", "pass@k", "cost per correct"]
    body = []
    for m in summary["per_model"].values():
        rows = [c for c in summary["cells"].values() if c["stack"] == m["stack"] and c["model"] == m["model"]]
        wrong = round(sum(c["wrong"] * c["trials"] for c in rows))
        no_plot = round(sum(c["no_plot"] * c["trials"] for c in rows))
        body.append([m["stack"], m["model"] + (" (baseline)" if is_oracle(m["model"]) else ""), str(m["n_correct"]),
                     str(wrong), str(no_plot), str(m["n"] - m["n_correct"] - wrong - no_plot), _num(m["pass@k"]),
                     _usd_or_dash(m["cost_per_correct"], m["n_correct"])])
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + body]
    lines.append(f"total cost: {_usd(summary['total_cost'])} over {summary['trials']} trial(s)")
    return "\n".join(lines)
