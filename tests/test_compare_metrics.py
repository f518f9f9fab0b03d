"""Compare metrics (issue 16, parts 3 and 4): pass@k, cost per correct plot, failure categories,
``summary.json``, the terminal table and a report people read."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from vibeplot.core import plugins
from vibeplot.core.bench import report
from vibeplot.core.bench.compare import Cell, load_results, write_row
from vibeplot.testing.scripted_server import ScriptedServer

GOOD, SUBTLE = "openai/gpt-4o-mini", "openai/gpt-4o"
LOCAL = "openai/vibeplot-local-test-model"  # not in litellm's price map


def test_user_prices_from_option_and_config_table(tmp_path, monkeypatch):
    from vibeplot.core import config
    from vibeplot.core.ask import llm
    from vibeplot.core.bench.compare import check_prices
    from vibeplot.core.errors import ConfigError

    assert llm.parse_price("ollama/llama3.1=0/0") == ("ollama/llama3.1", (0.0, 0.0))
    assert llm.parse_price("a=b/c=0.15/0.6") == ("a=b/c", (0.15, 0.6))
    for bad in ("nomodel", "=1/2", "m=1", "m=1/2/3", "m=-1/2", "m=x/2", "m=nan/1"):
        with pytest.raises(ConfigError, match="bad price"):
            llm.parse_price(bad)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[prices]\n"my/table-model" = "0.5/1.5"\n"my/list-model" = [2, 4]\n"my/bad" = "free"\n')
    monkeypatch.setenv("VIBEPLOT_CONFIG", str(cfg))
    monkeypatch.delenv("VIBEPLOT_PRICES", raising=False)
    config._file_settings.cache_clear()
    try:
        assert llm.user_price("my/table-model") == (0.5, 1.5) and llm.user_price("my/list-model") == (2.0, 4.0)
        assert llm.user_price("my/unpriced") is None
        with pytest.raises(ConfigError, match="bad price for my/bad"):
            llm.user_price("my/bad")
        with pytest.raises(ConfigError, match="no price for my/unpriced") as err:  # --max-cost needs a price
            check_prices(["my/unpriced"])
        assert "--price MODEL=IN/OUT" in err.value.hint
        check_prices(["my/table-model", "reference"])  # a user price is enough
        monkeypatch.setenv("VIBEPLOT_PRICES", "my/env-model=1/2")
        assert llm.user_price("my/env-model") == (1.0, 2.0)
    finally:
        config._file_settings.cache_clear()


@pytest.mark.parametrize("n, c, k, want", [
    (3, 1, 1, 1 / 3), (3, 1, 2, 2 / 3), (3, 1, 3, 1.0), (3, 0, 3, 0.0), (3, 3, 1, 1.0),
    (5, 2, 2, 7 / 10),        # 1 - C(3,2)/C(5,2) = 1 - 3/10
    (10, 3, 5, 11 / 12),      # 1 - C(7,5)/C(10,5) = 1 - 21/252
    (4, 2, 3, 1.0),           # fewer wrong trials than k: a correct one is always drawn
])
def test_pass_at_k_matches_hand_computed_values(n, c, k, want):
    assert report.pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


def test_pass_at_k_refuses_impossible_counts():
    for n, c, k in ((3, 4, 1), (3, 1, 0), (3, 1, 4), (2, -1, 1)):
        with pytest.raises(ValueError):
            report.pass_at_k(n, c, k)


def _row(model, trial, verdict, cost, *, question="adl-1", attempts=1, category="", diagnosis="", tokens=(100, 20),
         seconds=(1.0, 2.0)):
    cell = Cell("uproot_opendata", model, question, trial)
    return cell, {**vars(cell), "attempts": attempts, "verdict": verdict, "diagnosis": diagnosis,
                  "tokens_in": tokens[0], "tokens_out": tokens[1], "cost_usd": cost,
                  "llm_seconds": seconds[0], "script_seconds": seconds[1], "error_category": category,
                  "plots": [], "run_dir": f"runs/{cell.key}/r"}


def _write(out: Path, rows) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps({"questions": ["adl-1", "adl-2"], "stacks": ["uproot_opendata"],
                                                  "models": ["m/a", "m/local"], "trials": 3}))
    for cell, row in rows:
        write_row(out, cell, row)


def test_summary_metrics_from_known_rows(tmp_path):
    out = tmp_path / "cmp"
    _write(out, [
        _row("reference", 1, "correct", 0.0, tokens=(0, 0)),
        _row("m/a", 1, "correct", 0.01, attempts=2),
        _row("m/a", 2, "wrong", 0.02, diagnosis="jet pT cut too loose by 10 GeV"),
        _row("m/a", 3, "failed", 0.03, attempts=3, category="KeyError"),
        _row("m/a", 1, "declined", 0.005, question="adl-2"),
        _row("m/a", 2, "failed", 0.0, question="adl-2", category="model-error", tokens=(0, 0)),
        _row("m/a", 3, "failed", 0.001, question="adl-2", category="budget"),
        _row("m/local", 1, "correct", None),  # no known price
    ])
    paths = report.write_report(out, warn=lambda m: pytest.fail(m))
    summary = json.loads((out / "summary.json").read_text())
    assert summary == json.loads((out / "report" / "summary.json").read_text()) and paths["summary"] == out / "summary.json"

    a1 = summary["cells"]["uproot_opendata|m/a|adl-1"]
    assert (a1["n"], a1["n_correct"], a1["k"]) == (3, 1, 3)
    assert a1["pass@1"] == pytest.approx(1 / 3) and a1["pass@k"] == 1.0
    assert a1["pass_at"] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert a1["attempts_to_correct"] == 2.0
    assert a1["cost_per_correct"] == pytest.approx(0.06)  # all three trials' cost for one correct plot
    assert a1["tokens_per_correct"] == 360 and a1["seconds_per_correct"] == pytest.approx(9.0)
    a2 = summary["cells"]["uproot_opendata|m/a|adl-2"]
    assert (a2["pass@1"], a2["pass@k"], a2["cost_per_correct"], a2["attempts_to_correct"]) == (0.0, 0.0, None, None)
    assert summary["cells"]["uproot_opendata|m/local|adl-1"]["cost_per_correct"] is None  # unpriced: never $0

    per_a = summary["per_model"]["uproot_opendata|m/a"]
    assert (per_a["n"], per_a["n_correct"], per_a["questions"]) == (6, 1, 2)
    assert per_a["pass@1"] == pytest.approx((1 / 3 + 0) / 2) and per_a["pass@k"] == pytest.approx(0.5)
    assert per_a["cost_per_correct"] == pytest.approx(0.066)

    cats = summary["failure_categories"]
    assert {k: v["count"] for k, v in cats.items()} == {"no plot": 1, "wrong": 1, "declined": 1, "budget": 1,
                                                       "error": 1}
    assert cats["wrong"]["example"] == "runs/uproot_opendata__m-a__adl-1__t2/r"
    assert "too loose" in cats["wrong"]["example_detail"]
    assert cats["no plot"]["example_detail"] == "KeyError"

    md = (out / "report.md").read_text()
    assert ("| uproot_opendata | [m/a](runs/uproot_opendata__m-a__adl-1__t1/r) | adl-1 | 3 | 1 | 0.33 | 1.00 | 2.00 "
            "| 360 | $0.0600 | 9.0 |") in md
    # 5 trials × 120 tokens (one had none), 6 trials × 3 s, all over the one correct plot
    assert "| uproot_opendata | m/a | 2 | 6 | 1 | 0.17 | 0.50 | 2.00 | 600 | $0.0660 | 18.0 |" in md
    assert "| adl-2 | 3 | 0 | 0.00 | 0.00 | — | — | — | — |" in md  # nothing correct: no per-correct figures
    assert "| budget | 1 | [runs/uproot_opendata__m-a__adl-2__t3/r (budget)]" in md
    assert "excluded" in md and "reference (baseline)" in md
    # one priced non-baseline point only: no chart, and the report says why
    assert not (out / "report" / "success-vs-cost.png").exists() and "no chart: fewer than two" in md

    page = (out / "report.html").read_text()
    assert "table.sortable th" in page and page.count("<table class='grid sortable'>") >= 5
    assert "<script src" not in page and "http" not in page.split("<script>")[1]  # inline, no CDN
    assert "success-vs-cost" not in page and "no chart: fewer than two" in page
    assert "<tr class='baseline'>" in page and "object-fit:contain" in page
    assert "href='runs/uproot_opendata__m-a__adl-1__t1/r'" in page
    # every heat-map cell links to its (first) run: here m/a's adl-2 cell, 0% correct
    assert re.search(r"<td style=\"background: rgb\(230,120,130\); color: black\">"
                     r"<a href='runs/uproot_opendata__m-a__adl-2__t1/r'>0% \(0% wrong\)</a></td>", page), page
    # heat-map cells: the text colour is the one legible on the background
    for r, g, b, colour in re.findall(r"background: rgb\((\d+),(\d+),(\d+)\); color: (\w+)", page):
        lum = report._luminance((int(r) / 255, int(g) / 255, int(b) / 255))
        assert colour == ("black" if lum > 0.179 else "white"), (r, g, b, colour)

    table = report.short_table(summary)
    assert re.search(r"uproot_opendata\s+m/a\s+1\s+1\s+4\s+0\s+0\.50\s+\$0\.0660", table), table
    assert table.splitlines()[-1] == "total cost: ? over 8 trial(s)"


def test_text_colour_follows_background_luminance():
    assert report._text_colour((0.0, 0.0, 0.0)) == "white" and report._text_colour((1.0, 1.0, 1.0)) == "black"
    assert report._text_colour((0.65, 0.0, 0.15)) == "white"  # dark red of RdYlGn
    assert report._text_colour((1.0, 1.0, 0.75)) == "black"   # its pale middle


def _ordered_replies(sample: Path, outcomes: dict[str, list[str]]):
    """Per model, trial after trial: ``correct`` (the stack's reference), ``wrong`` (jets cut at
    pT > 30 instead of 40 GeV) or ``broken`` (the reference, raising KeyError first)."""
    counters = {m.split("/")[1]: itertools.count() for m in outcomes}
    wanted = {m.split("/")[1]: v for m, v in outcomes.items()}

    def reply(messages, request):
        kind = wanted[request["model"]][next(counters[request["model"]])]
        code = plugins.get_stack("uproot_opendata").reference_solution("adl-4").replace("{{dataset}}", str(sample))
        if kind == "wrong":
            code = code.replace("pt > 40", "pt > 30").replace("Jet_pt > 40", "Jet_pt > 30")
        elif kind == "broken":
            code = "raise KeyError('no_such_branch')\n" + code  # passes the pre-flight, fails at run time
        return f"Here it is.\n\n```python\n{code}```\n"
    return reply


@pytest.mark.slow  # a real compare: 10 ask runs with validation
def test_scripted_compare_gives_exact_pass_at_k_and_cost_per_correct(sample, tmp_path):
    outcomes = {GOOD: ["correct", "wrong", "broken"], SUBTLE: ["wrong", "wrong", "wrong"],
                LOCAL: ["correct", "correct", "wrong"]}
    assert "pt > 40" in plugins.get_stack("uproot_opendata").reference_solution("adl-4").replace("Jet_pt", "pt")
    out = tmp_path / "cmp"
    with ScriptedServer([_ordered_replies(sample, outcomes)]) as server:
        proc = run_cli("compare", "-q", "adl-4", "-s", "uproot_opendata", "-m", f"{GOOD},{SUBTLE},{LOCAL}", "-t", "3",
                       "-j", "1", "-n", "1", "-o", str(out), "--api-base", server.url,
                       "--price", f"{LOCAL}=2/10", cwd=tmp_path,
                       env={"OPENAI_API_KEY": "scripted"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = load_results(out).to_pylist()
    verdicts = {(r["model"], r["trial"]): r["verdict"] for r in rows}
    assert verdicts == {("reference", 1): "correct", (GOOD, 1): "correct", (GOOD, 2): "wrong", (GOOD, 3): "failed",
                        (SUBTLE, 1): "wrong", (SUBTLE, 2): "wrong", (SUBTLE, 3): "wrong",
                        (LOCAL, 1): "correct", (LOCAL, 2): "correct", (LOCAL, 3): "wrong"}
    spent = {m: sum(r["cost_usd"] for r in rows if r["model"] == m) for m in (GOOD, SUBTLE, LOCAL)}
    assert all(v > 0 for v in spent.values())
    # the local model is priced from --price ($2 / $10 per million tokens) and marked so
    for r in rows:
        assert r["price"] == {"reference": "", LOCAL: "user"}.get(r["model"], "litellm"), r
        if r["model"] == LOCAL:
            assert r["cost_usd"] == pytest.approx((2 * r["tokens_in"] + 10 * r["tokens_out"]) / 1e6, rel=1e-12)
    assert json.loads((out / "compare.json").read_text())["prices"] == {LOCAL: [2.0, 10.0]}

    summary = json.loads((out / "summary.json").read_text())
    good = summary["cells"][f"uproot_opendata|{GOOD}|adl-4"]
    assert (good["n"], good["n_correct"]) == (3, 1)
    assert good["pass_at"] == pytest.approx([1 / 3, 2 / 3, 1.0]) and good["pass@k"] == 1.0
    assert good["cost_per_correct"] == pytest.approx(spent[GOOD], rel=1e-12)
    subtle = summary["cells"][f"uproot_opendata|{SUBTLE}|adl-4"]
    assert (subtle["pass@1"], subtle["pass@k"], subtle["cost_per_correct"]) == (0.0, 0.0, None)
    local = summary["cells"][f"uproot_opendata|{LOCAL}|adl-4"]
    assert local["pass_at"] == pytest.approx([2 / 3, 1.0, 1.0]) and local["user_priced"]
    assert local["cost_per_correct"] == pytest.approx(spent[LOCAL] / 2, rel=1e-12)
    assert summary["user_priced"] == [LOCAL]
    ref = summary["cells"]["uproot_opendata|reference|adl-4"]
    assert (ref["pass@1"], ref["cost_per_correct"]) == (1.0, 0.0)
    cats = summary["failure_categories"]
    assert {k: v["count"] for k, v in cats.items()} == {"no plot": 1, "wrong": 5}
    assert cats["no plot"]["example_detail"] == "KeyError" and (out / cats["no plot"]["example"] / "run.json").is_file()

    md = (out / "report.md").read_text()
    assert f"| adl-4 | 3 | 1 | 0.33 | 1.00 | 1.00 | {good['tokens_per_correct']:.0f} | {report._usd(spent[GOOD])} |" in md
    assert f"| uproot_opendata | {SUBTLE}" in md and "| adl-4 | 3 | 0 | 0.00 | 0.00 | — | — | — | — |" in md
    # the terminal ends with the short table: correct / wrong / no plot per stack × model, total cost
    assert re.search(rf"uproot_opendata\s+{re.escape(GOOD)}\s+1\s+1\s+1\s+0\s+1\.00", proc.stdout), proc.stdout
    assert re.search(rf"uproot_opendata\s+{re.escape(SUBTLE)}\s+0\s+3\s+0\s+0\s+0\.00\s+—", proc.stdout)
    assert re.search(rf"uproot_opendata\s+{re.escape(LOCAL)}\s+2\s+1\s+0\s+0\s+1\.00\s+"
                     + re.escape(report._usd(spent[LOCAL] / 2)), proc.stdout)
    assert f"total cost: {report._usd(sum(spent.values()))} over 10 trial(s)" in proc.stdout
    assert f"User-priced (--price or the prices setting, not litellm's map): {LOCAL}." in md
    page = (out / "report.html").read_text()
    assert "table.sortable th" in page and "<img class='plot' alt='correct rate vs cost'" in page  # 2 priced points


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium (.ci/run installs it)")
def test_html_tables_sort_in_headless_chromium(tmp_path):
    out = tmp_path / "cmp"
    _write(out, [_row("reference", 1, "correct", 0.0, tokens=(0, 0)), _row("m/a", 1, "correct", 0.01),
                 _row("m/a", 2, "wrong", 0.02), _row("m/local", 1, "failed", 0.5, category="KeyError")])
    report.write_report(out, warn=lambda m: pytest.fail(m))
    probe = out / "probe.html"  # clicks the first column of numbers twice, reports the order each time
    probe.write_text((out / "report.html").read_text().replace("</body>", """<script>
var table = document.querySelectorAll('table.sortable')[0], th = table.querySelectorAll('th')[1];
var column = () => [...table.querySelectorAll('tr')].slice(1).map(r => r.children[1].textContent);
th.click(); var up = column(); th.click();
document.title = JSON.stringify({up: up, down: column()});
</script></body>"""))
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    order = json.loads(dom.stdout.split("<title>")[1].split("</title>")[0].replace("&quot;", '"'))
    assert order == {"up": ["0% (0% wrong)", "50% (50% wrong)", "100% (0% wrong)"],
                     "down": ["100% (0% wrong)", "50% (50% wrong)", "0% (0% wrong)"]}


@pytest.mark.slow  # two small compares
def test_max_cost_counts_a_user_priced_model(sample, tmp_path):
    """Without --price an unpriced model cannot be budgeted; with it, its calls count against --max-cost."""
    reply = _ordered_replies(sample, {LOCAL: ["correct"] * 8})
    with ScriptedServer([reply]) as server:
        base = ["compare", "-q", "adl-4", "-s", "uproot_opendata", "-m", LOCAL, "--no-baseline", "-j", "1",
                "-n", "1", "--api-base", server.url]
        env = {"OPENAI_API_KEY": "scripted"}
        proc = run_cli(*base, "-o", str(tmp_path / "refused"), "--max-cost", "1", cwd=tmp_path, env=env)
        assert proc.returncode == 2 and f"no price for {LOCAL}" in proc.stderr and not server.requests
        proc = run_cli(*base, "-t", "1", "-o", str(tmp_path / "probe"), "--price", f"{LOCAL}=1000/0",
                       cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        (probe,) = load_results(tmp_path / "probe").to_pylist()
        assert probe["price"] == "user" and probe["cost_usd"] == pytest.approx(probe["tokens_in"] * 1000 / 1e6)
        out = tmp_path / "budget"
        proc = run_cli(*base, "-t", "5", "-o", str(out), "--price", f"{LOCAL}=1000/0",
                       "--max-cost", f"{2.5 * probe['cost_usd']:.9f}", cwd=tmp_path, env=env)
        assert proc.returncode == 1 and "would be exceeded" in proc.stderr, proc.stderr[-3000:]
        rows = load_results(out).to_pylist()
        assert len(rows) == 2 and len(server.requests) == 1 + 2  # the probe's call and two within the budget
        assert all(r["price"] == "user" and r["cost_usd"] == pytest.approx(probe["cost_usd"]) for r in rows)
