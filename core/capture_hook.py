"""Sandbox hook: every saved matplotlib figure gets a JSON sidecar of the histograms drawn in it.

Imported before the generated script (see :mod:`vibeplot.core.sandbox`, hooks).
It never edits the script: once ``matplotlib.figure`` is imported, it wraps
``Figure.savefig`` so that after ``name.png`` is written, ``name.png.json``
records, per axes, every histogram-like artist:

* ``StepPatch`` (``ax.stairs``, and what ``hist.Hist.plot`` / ``mplhep.histplot``
  draw for ``histtype="step"`` or ``"fill"``): bin edges and contents;
* bar containers (``plt.hist``, ``ax.bar``): edges from the bars, contents from
  their heights;

with the axes' x/y labels and title.  Validation (comparing against reference
values) reads these files.  matplotlib is not imported by the hook itself, so
scripts that do not plot pay nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys

TARGET = "matplotlib.figure"


def _bars(container) -> dict | None:
    rects = [r for r in container.patches if r.get_width() > 0]
    if not rects:
        return None
    lefts = [float(r.get_x()) for r in rects]
    rights = [float(r.get_x() + r.get_width()) for r in rects]
    edges = lefts + [rights[-1]]
    if any(abs(a - b) > 1e-9 * max(1.0, abs(a)) for a, b in zip(rights[:-1], lefts[1:])):
        return None  # not contiguous: a bar chart, not a histogram
    return {"kind": "bars", "edges": edges, "values": [float(r.get_height()) for r in rects],
            "label": container.get_label()}


def _describe(figure) -> list[dict]:
    from matplotlib.container import BarContainer
    from matplotlib.patches import StepPatch

    axes_out = []
    for ax in figure.get_axes():
        hists = []
        for artist in ax.patches:
            if isinstance(artist, StepPatch):
                values, edges, _baseline = artist.get_data()
                hists.append({"kind": "stairs", "edges": [float(e) for e in edges],
                              "values": [float(v) for v in values], "label": artist.get_label()})
        for container in ax.containers:
            if isinstance(container, BarContainer) and (found := _bars(container)):
                hists.append(found)
        if hists:
            axes_out.append({"xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
                             "histograms": hists})
    return axes_out


def _patch(module) -> None:
    original = module.Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        result = original(self, fname, *args, **kwargs)
        if isinstance(fname, (str, bytes)) or hasattr(fname, "__fspath__"):
            path = str(fname if not isinstance(fname, bytes) else fname.decode())
            try:
                with open(path + ".json", "w", encoding="utf-8") as out:
                    json.dump({"image": path, "axes": _describe(self)}, out)
            except Exception as err:  # capture must never break the user's plot
                print(f"vibeplot: could not record histograms of {path}: {err}", file=sys.stderr)
        return result

    module.Figure.savefig = savefig


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs :func:`_patch` right after ``matplotlib.figure`` is imported."""

    def find_spec(self, name, path=None, target=None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


if TARGET in sys.modules:
    _patch(sys.modules[TARGET])
else:
    sys.meta_path.insert(0, _AfterImport())
