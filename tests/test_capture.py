"""The capture hook reads the histograms a figure drew, whatever API drew them."""

import json
import textwrap

import pytest

from vibeplot.core.sandbox.run import run_script

EXPECTED = {"edges": [0.0, 1.0, 2.0, 3.0, 4.0], "values": [1.0, 2.0, 0.0, 1.0]}


@pytest.mark.parametrize("draw", [
    'h = hist.Hist.new.Reg(4, 0, 4, name="x").Double(); h.fill(data); h.plot(ax=ax, histtype="fill")',
    'h = hist.Hist.new.Reg(4, 0, 4, name="x").Double(); h.fill(data); h.plot(ax=ax, histtype="step")',
    'ax.hist(data, bins=4, range=(0, 4))',
    'ax.hist(data, bins=4, range=(0, 4), histtype="step")',
    'ax.hist(data, bins=4, range=(0, 4), histtype="stepfilled")',
    'ax.stairs(*np.histogram(data, bins=4, range=(0, 4)))',
])
def test_matplotlib_histograms_are_captured(tmp_path, draw):
    script = tmp_path / "plot.py"
    script.write_text(textwrap.dedent(f"""
        import hist, numpy as np, matplotlib.pyplot as plt
        data = [0.5, 1.5, 1.5, 3.2]
        fig, ax = plt.subplots()
        {draw}
        ax.set_xlabel("x [GeV]")
        fig.savefig("p.png")
    """))
    assert run_script(script, workdir=tmp_path).ok
    sidecar = json.loads((tmp_path / "p.png.json").read_text())
    (axes,) = sidecar["axes"]
    assert axes["xlabel"] == "x [GeV]"
    assert [{k: h[k] for k in EXPECTED} for h in axes["histograms"]] == [EXPECTED]


def test_shapes_that_are_not_histograms_are_ignored(tmp_path):
    script = tmp_path / "plot.py"
    script.write_text("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                      "ax.fill([0, 1, 1, 0], [0, 0, 1, 1]); ax.fill_between([0, 1, 2], [1, 2, 1])\n"
                      "ax.bar([0, 2], [1, 1], width=0.5)\nfig.savefig('p.png')\n")
    assert run_script(script, workdir=tmp_path).ok
    assert json.loads((tmp_path / "p.png.json").read_text())["axes"] == []
