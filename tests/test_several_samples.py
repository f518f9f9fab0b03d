"""Several samples in one plot (issue 15, part 2): the toy samples, the resolver finding every dataset a
question names, the prompt's sections, capture of data points and stacks, and the validator naming a
missing or wrongly normalised component.  (Reference runs in every stack: tests/test_reference_e2e.py.)"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import uproot

from conftest import only_run_dir, run_cli
from vibeplot.core.ask.validate import load_sidecars, record_truth, validate
from vibeplot.core.questions import registry
from vibeplot.core.resolver import AmbiguousDataset, ResolveContext, find_phrases, pick_all
from vibeplot.core.sandbox.run import Grant, run_script
from vibeplot.datasets import catalog, embedded
from vibeplot.datasets.sample import sum_of_weights
from vibeplot.datasets.toy import generate_toy_sample

OVERLAY, STACK = registry()["mumu-data-mc"], registry()["met-stack"]


def ak_equal(a, b) -> bool:
    import awkward as ak

    return ak.to_list(a) == ak.to_list(b)


@pytest.fixture(scope="module")
def toy(isolated_env) -> dict:
    return {name: embedded.ensure_toy_sample(name) for name in embedded.TOY_SAMPLES}


def test_toy_samples_are_small_deterministic_and_as_the_catalog_says(toy, tmp_path):
    spec = embedded.TOY_SAMPLES["toy-zmumu-mc"]
    again = generate_toy_sample(tmp_path / "z.root", spec["events"], spec["seed"], spec["fractions"], spec["weights"])
    for branch in ("genWeight", "MET_pt", "Muon_pt"):  # the cached file holds the generator's events
        assert ak_equal(uproot.open(again)["Events"][branch].array(), uproot.open(toy["toy-zmumu-mc"])["Events"][branch].array())
    record = json.loads(embedded.record_path(toy["toy-zmumu-mc"]).read_text())
    assert record["size"] == toy["toy-zmumu-mc"].stat().st_size and record["events"] == spec["events"]
    for name, path in toy.items():
        e = catalog.entry(name)
        tree = uproot.open(path)["Events"]
        assert tree.num_entries == e["n_events"] and path.stat().st_size < 2_000_000, name
        if e["kind"] == "simulation":
            assert sum_of_weights(path) == e["sum_of_weights"], name
        else:
            assert "genWeight" not in tree.keys() and e["luminosity_pb"] == embedded.TOY_DATA_LUMI_PB
    w = uproot.open(toy["toy-zmumu-mc"])["Events"]["genWeight"].array(library="np")
    assert (w < 0).any() and (uproot.open(toy["toy-ttbar-mc"])["Events"]["genWeight"].array(library="np") > 0).all()
    # the pseudo-data holds what the simulation predicts for its luminosity: sigma x eff x k x L events each
    predicted = sum(round(e["cross_section_pb"] * e["filter_efficiency"] * e["k_factor"] * embedded.TOY_DATA_LUMI_PB)
                    for e in map(catalog.entry, ("toy-zmumu-mc", "toy-ttbar-mc")))
    assert predicted == catalog.entry("toy-dimuon-data")["n_events"]


def test_the_resolver_finds_every_dataset_a_question_names(isolated_env):
    assert find_phrases(OVERLAY.text) == ["toy data", "toy zmumu mc"]
    assert find_phrases(STACK.text) == ["toy ttbar mc", "toy zmumu mc"]
    assert find_phrases("For events with a Z to mu mu candidate, plot the MET") == []
    context = ResolveContext(stack="uproot_opendata")
    found = pick_all(None, find_phrases(STACK.text), None, context)
    assert [r.dataset.name for r in found] == ["toy-ttbar-mc", "toy-zmumu-mc"]
    # repeated --dataset wins over the question; one given twice counts once
    found = pick_all(["toy-zmumu-mc", "toy data", "zmumu mc"], ["toy ttbar mc"], None, context)
    assert [r.dataset.name for r in found] == ["toy-zmumu-mc", "toy-dimuon-data"]
    # the existing ambiguity rule, per phrase: "zmumu" is an alias of several ATLAS samples
    with pytest.raises(AmbiguousDataset, match="zmumu"):
        pick_all(["toy data", "zmumu"], None, None, context)


def test_a_benchmark_question_reads_its_samples_in_the_registered_order(isolated_env):
    from vibeplot.core import plugins
    from vibeplot.core.ask.loop import AskOptions, choose_datasets, read_question

    stack = plugins.get_stack("uproot_opendata")
    reversed_text = ("Plot the dimuon invariant mass of events with exactly two opposite-charge muons in the toy "
                     "Z→μμ MC and the toy data, with the MC normalised to the data luminosity.")
    for text in (OVERLAY.text, reversed_text, "mumu-data-mc"):
        reading = read_question(text)
        assert reading.known is OVERLAY, reading.match
        found, how = choose_datasets(AskOptions(question=text), stack, reading=reading, check=False)
        assert [d.name for d in found] == ["toy-dimuon-data", "toy-zmumu-mc"], text
        assert len(how) == 2


def test_the_prompt_has_one_section_per_dataset(isolated_env, tmp_path):
    proc = run_cli("hints", "show", "--stack", "servicex_awkward", STACK.text, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "## Dataset 1 of 2 (simulation, `toy-ttbar-mc`)" in text and "## Dataset 2 of 2 (simulation, `toy-zmumu-mc`)" in text
    assert text.count("- ServiceX dataset: `dataset.FileList([") == 2 and "## Several datasets" in text
    assert "ONE `deliver` call whose `ServiceXSpec` has one `Sample` per dataset (2 here)" in text
    assert "2511.289788722992" in text and "8697462.135742188" in text  # each sample's own Σw
    assert text.count("L = 10 fb^-1 = 10000 pb^-1") == 2  # the luminosity asked for, in each simulated section
    # repeated --dataset, in the uproot stack: no ServiceX lines; data and simulation named as such
    proc = run_cli("hints", "show", "-d", "toy data", "-d", "toy-zmumu-mc", "Plot the dimuon mass", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "## Dataset 1 of 2 (data, `toy-dimuon-data`)" in proc.stdout and "5.0 pb^-1" in proc.stdout
    assert "deliver" not in proc.stdout.split("## Question")[0]
    # one sample: the single section as before
    proc = run_cli("hints", "show", "-d", "toy data", "Plot the MET", cwd=tmp_path)
    assert "## Dataset: " in proc.stdout and "## Several datasets" not in proc.stdout


def test_an_ambiguous_second_dataset_stops_with_exit_2(isolated_env, tmp_path):
    proc = run_cli("ask", "--model", "reference", "-d", "toy data", "-d", "zmumu", "mumu-data-mc", cwd=tmp_path)
    assert proc.returncode == 2 and "ambiguous" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    proc = run_cli("ask", "--model", "reference", "-d", "toy data", "mumu-data-mc", cwd=tmp_path)
    assert proc.returncode == 2 and "reads 2 dataset(s), and 1 were given" in proc.stderr, proc.stderr


def test_questions_show_lists_the_samples(isolated_env, tmp_path):
    proc = run_cli("questions", "show", "met-stack", cwd=tmp_path)
    assert proc.returncode == 0 and "datasets: toy ttbar mc, toy zmumu mc" in proc.stdout, proc.stdout + proc.stderr
    shown = json.loads(run_cli("questions", "show", "mumu-data-mc", "--json", cwd=tmp_path).stdout)
    assert shown["datasets"] == ["toy data", "toy zmumu mc"] and len(shown["references"]) == 4


# -- validation: every histogram of the figure --------------------------------------------------------

def _sidecar(*hists) -> list[dict]:
    """One image whose axes hold ``hists`` (a list of histogram dicts per axes)."""
    return [{"image": "p.png", "axes": [{"xlabel": "x", "histograms": list(h)} for h in hists]}]


def _drawn(values, weights, edges, **extra) -> dict:
    return {"kind": "stairs", "edges": list(edges), "values": np.histogram(values, edges, weights=weights)[0].tolist(),
            "label": "", **extra}


def test_stacked_components_and_data_points_are_compared_one_by_one():
    rng = np.random.default_rng(1)
    a, b, d = rng.normal(5, 2, 400), rng.normal(3, 1, 300), rng.normal(4, 2, 500)
    wa, wb = np.full(400, 0.25), np.full(300, 2.0)
    truth = [{"label": "A MC", "values": a.tolist(), "weights": wa.tolist()},
             {"label": "B MC", "values": b.tolist(), "weights": wb.tolist()},
             {"label": "Data", "values": d.tolist(), "weights": None}]
    edges = np.linspace(0, 10, 21)
    bottom = _drawn(a, wa, edges)
    top = {**_drawn(np.concatenate([a, b]), np.concatenate([wa, wb]), edges), "baseline": bottom["values"]}
    data = {**_drawn(d, None, edges), "kind": "errorbar"}
    ratio = {**_drawn(d, None, edges), "kind": "errorbar", "values": [1.0] * 20}  # a data/MC ratio panel
    assert validate(_sidecar([top, bottom, data], [ratio]), truth).status == "correct"
    # a sample missing from the stack is named
    v = validate(_sidecar([bottom, data]), truth)
    assert v.status == "wrong" and v.diagnosis == ['missing plot: nothing drawn matches reference "B MC"'], v.diagnosis
    # one component normalised wrongly (x 3): named, the others pass
    top3 = {**_drawn(np.concatenate([a, b]), np.concatenate([wa, 3 * wb]), edges), "baseline": bottom["values"]}
    v = validate(_sidecar([top3, bottom, data]), truth)
    assert v.status == "wrong" and len(v.diagnosis) == 1, v.diagnosis
    assert 'vs reference "B MC": wrong luminosity or normalisation: candidate = 3 x reference' in v.diagnosis[0]
    # without the baseline the top of the stack is not a component: A+B matches nothing
    v = validate(_sidecar([{**top, "baseline": None}, bottom, data]), truth)
    assert v.status == "wrong" and 'vs reference "B MC"' in v.diagnosis[0]


def test_capture_records_data_points_and_stack_baselines(tmp_path):
    script = tmp_path / "plot.py"
    script.write_text(textwrap.dedent("""
        import hist, mplhep as hep, matplotlib.pyplot as plt
        a = hist.Hist.new.Reg(4, 0, 4).Weight(); a.fill([0.5, 1.5, 1.5], weight=0.5)
        b = hist.Hist.new.Reg(4, 0, 4).Weight(); b.fill([1.5, 3.5], weight=2.0)
        d = hist.Hist.new.Reg(4, 0, 4).Double(); d.fill([0.5, 1.5, 1.5, 3.5])
        fig, ax = plt.subplots()
        hep.histplot([a, b], stack=True, histtype="fill", label=["A", "B"], ax=ax)
        hep.histplot(d, histtype="errorbar", color="k", label="data", ax=ax)
        ax.errorbar([0.5, 1.5, 2.5, 3.5], [1, 1, 0, 2], yerr=[1, 1, 0, 1], xerr=0.5, fmt="o", label="xerr")
        fig.savefig("p.png")
    """))
    assert run_script(script, workdir=tmp_path).ok
    (axes,) = json.loads((tmp_path / "p.png.json").read_text())["axes"]
    got = {h["label"]: h for h in axes["histograms"]}
    assert got["B"]["values"] == [0.5, 3.0, 0.0, 2.0] and got["B"]["baseline"] == [0.5, 1.0, 0.0, 0.0]
    assert got["A"]["values"] == [0.5, 1.0, 0.0, 0.0] and "baseline" not in got["A"]
    assert got["data"] == {"kind": "errorbar", "edges": [0.0, 1.0, 2.0, 3.0, 4.0], "values": [1.0, 2.0, 0.0, 1.0],
                           "label": "data"}
    assert got["xerr"]["edges"] == [0.0, 1.0, 2.0, 3.0, 4.0] and got["xerr"]["values"] == [1.0, 1.0, 0.0, 2.0]


# -- scripted wrong answers on the toy samples (slow: real scripts and recorded references) ------------

_CANDIDATE = """\
import os
import awkward as ak, hist, matplotlib.pyplot as plt, mplhep as hep, numpy as np, uproot, vector
vector.register_awkward()
DATA, Z, TT = {data!r}, {z!r}, {tt!r}
def mumu(path, weighted):
    ev = uproot.open(path)["Events"].arrays(["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge"]
                                            + (["genWeight"] if weighted else []))
    ev = ev[ak.num(ev.Muon_pt) == 2]
    ev = ev[ev.Muon_charge[:, 0] != ev.Muon_charge[:, 1]]
    mu = ak.values_astype(ak.zip({{"pt": ev.Muon_pt, "eta": ev.Muon_eta, "phi": ev.Muon_phi, "mass": ev.Muon_mass}},
                                 with_name="Momentum4D"), np.float64)
    return ak.to_numpy((mu[:, 0] + mu[:, 1]).mass), (np.asarray(ev.genWeight, dtype=np.float64) if weighted else None)
def met(path, scale):
    ev = uproot.open(path)["Events"].arrays(["MET_pt", "genWeight"])
    h = hist.Hist.new.Reg(20, 0, 200).Weight()
    h.fill(ev.MET_pt, weight=np.asarray(ev.genWeight, dtype=np.float64) * scale)
    return h
def save(name, fig):
    os.makedirs(name)
    fig.savefig(os.path.join(name, "p.png"))
    plt.close("all")
dm, _ = mumu(DATA, False)
zm, zw = mumu(Z, True)
for name, lumi_pb, norm in (("overlay_right", 5.0, True), ("overlay_unnormalised", 5.0, False),
                            ("overlay_wrong_lumi", 10.0, True)):
    d = hist.Hist.new.Reg(15, 60, 120).Double().fill(dm)
    z = hist.Hist.new.Reg(15, 60, 120).Weight().fill(zm, weight=zw * ({zscale!r} * lumi_pb if norm else 1.0))
    fig, (ax, rax) = plt.subplots(2, 1)
    hep.histplot(z, ax=ax, histtype="fill")
    hep.histplot(d, ax=ax, histtype="errorbar", color="k")
    rax.errorbar(d.axes[0].centers, d.values() / np.maximum(z.values(), 1e-9), yerr=0.1, fmt="o")  # ratio panel
    save(name, fig)
tt, zz = met(TT, {ttscale!r} * 1e4), met(Z, {zscale!r} * 1e4)
for name, hists in (("stack_right", [tt, zz]), ("stack_missing_z", [tt]),
                    ("stack_z_at_3fb", [tt, met(Z, {zscale!r} * 3e3)])):
    fig, ax = plt.subplots()
    hep.histplot(hists, ax=ax, stack=True, histtype="fill")
    save(name, fig)
"""


def _per_pb(name: str) -> float:
    e = catalog.entry(name)
    return e["cross_section_pb"] * e["filter_efficiency"] * e["k_factor"] / e["sum_of_weights"]


@pytest.fixture(scope="module")
def scripted(toy, tmp_path_factory):
    base = tmp_path_factory.mktemp("several-samples")
    files = {"data": str(toy["toy-dimuon-data"]), "z": str(toy["toy-zmumu-mc"]), "tt": str(toy["toy-ttbar-mc"])}
    work = base / "candidates"
    work.mkdir()
    (work / "candidates.py").write_text(_CANDIDATE.format(**files, zscale=_per_pb("toy-zmumu-mc"),
                                                          ttscale=_per_pb("toy-ttbar-mc")))
    result = run_script(work / "candidates.py", workdir=work, grant=Grant(read_only=tuple(toy.values())))
    assert result.ok, result.stderr
    refs = registry()["mumu-data-mc"], registry()["met-stack"]
    from vibeplot.core.plugins import get_stack

    folder = get_stack("uproot_opendata").truth_dir()
    truth, mistakes = {}, {}
    for q, names in zip(refs, (["toy-dimuon-data", "toy-zmumu-mc"], ["toy-ttbar-mc", "toy-zmumu-mc"])):
        locations = [str(toy[n]) for n in names]
        truth[q.id] = record_truth(folder / q.reference_name, locations, base / q.id)
        mistakes[q.id] = [(d, record_truth(folder / "mistakes" / s, locations, base / s)) for s, d in q.mistakes]
    return truth, mistakes, {p.name: load_sidecars(p) for p in work.iterdir() if p.is_dir()}


@pytest.mark.slow
@pytest.mark.parametrize("name, qid, expected", [
    ("overlay_right", "mumu-data-mc", None),
    ("overlay_unnormalised", "mumu-data-mc", 'vs reference "Z->mumu MC": known mistake: simulation not normalised '
                                             "to the data luminosity"),
    ("overlay_wrong_lumi", "mumu-data-mc", 'vs reference "Z->mumu MC": wrong luminosity or normalisation: '
                                           "candidate = 2 x reference"),
    ("stack_right", "met-stack", None),
    ("stack_missing_z", "met-stack", 'missing plot: nothing drawn matches reference "Z->mumu MC"'),
    ("stack_z_at_3fb", "met-stack", 'vs reference "Z->mumu MC": wrong luminosity or normalisation: '
                                    "candidate = 0.3 x reference"),
])
def test_scripted_answers_are_judged_per_histogram(scripted, name, qid, expected):
    truth, mistakes, candidates = scripted
    verdict = validate(candidates[name], truth[qid], mistakes[qid])
    if expected is None:
        assert verdict.status == "correct", verdict.diagnosis
    else:
        assert verdict.status == "wrong" and len(verdict.diagnosis) == 1 and expected in verdict.diagnosis[0], \
            verdict.diagnosis


@pytest.mark.slow
def test_reference_run_records_every_dataset(isolated_env, toy, tmp_path):
    """One end-to-end run (every stack and both questions: tests/test_reference_e2e.py)."""
    proc = run_cli("ask", "--model", "reference", "--stack", "uproot_opendata", "met-stack", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["datasets"] == ["toy-ttbar-mc", "toy-zmumu-mc"]
    assert "toy-ttbar-mc" in proc.stderr and "toy-zmumu-mc" in proc.stderr  # the table lists each
    manifest = json.loads((only_run_dir(tmp_path / "vibeplot-runs") / "run.json").read_text())
    assert [d["name"] for d in manifest["datasets"]] == ["toy-ttbar-mc", "toy-zmumu-mc"]
    assert manifest["dataset"]["name"] == "toy-ttbar-mc" and len(manifest["dataset_resolutions"]) == 2
    assert manifest["verdict"] == {"status": "correct", "diagnosis": []}, manifest["verdict"]


@pytest.mark.slow
def test_a_model_answer_missing_a_sample_is_named(isolated_env, toy, tmp_path):
    """Through `ask` with a (scripted) model: its prompt lists both samples; its stack drawn without the
    Z->mumu sample is judged wrong, naming that sample."""
    from vibeplot.core import plugins
    from vibeplot.testing.scripted_server import ScriptedServer

    code = plugins.get_stack("uproot_opendata").reference_solution("met-stack")
    code = code.replace("{{dataset1}}", str(toy["toy-ttbar-mc"])).replace("{{dataset2}}", str(toy["toy-zmumu-mc"]))
    one = '    (TTBAR_FILE, r"$t\\bar{t}$ (toy MC)", "ttbar MC", 800.0 * 1.0 * 1.0, 2511.289788722992),\n'
    assert one in code
    code = code.replace(code[code.index("SAMPLES = ["):code.index("]\n", code.index("SAMPLES = [")) + 2],
                        "SAMPLES = [\n" + one + "]\n")
    with ScriptedServer([f"- MET stacked.\n\n```python\n{code}```\n"]) as server:
        proc = run_cli("ask", "--model", "openai/gpt-4o-mini", "--api-base", server.url, "--no-cache", STACK.text,
                       cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "## Dataset 1 of 2 (simulation, `toy-ttbar-mc`)" in prompt and "## Dataset 2 of 2" in prompt
    verdict = json.loads((only_run_dir(tmp_path / "vibeplot-runs") / "run.json").read_text())["verdict"]
    assert verdict == {"status": "wrong", "diagnosis": ['missing plot: nothing drawn matches reference "Z->mumu MC"']}
