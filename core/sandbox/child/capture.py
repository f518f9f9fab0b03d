"""Start-up module (sandbox): every saved matplotlib figure gets a JSON sidecar of the histograms drawn in it.

Imported before the generated script (a start-up module, see :mod:`vibeplot.core.sandbox.run`).
It never edits the script: once ``matplotlib.figure`` is imported, it wraps
``Figure.savefig`` so that after ``name.png`` is written, ``name.png.json``
records, per axes, every histogram-like artist:

* ``StepPatch`` (``ax.stairs``, and what ``hist.Hist.plot`` / ``mplhep.histplot``
  draw for ``histtype="step"`` or ``"fill"``): bin edges and contents;
* bar containers (``plt.hist``, ``ax.bar``): edges from the bars, contents from
  their heights;
* step outlines (``plt.hist(histtype="step")`` and ``"stepfilled"`` polygons);
* points (markers) with error bars (``mplhep.histplot(histtype="errorbar")``, ``ax.errorbar(fmt="o")``),
  as data is drawn in a data/MC plot: edges from the x error bars, or from evenly spaced points;

a stacked ``StepPatch`` (``mplhep.histplot([...], stack=True)``) also records its ``baseline``
(the top of the components below it), so its own contents are ``values - baseline``;

with the axes' x/y labels and title.  The record goes to vibeplot through an inherited
pipe (:mod:`vibeplot.core.sandbox.child.channel`), and vibeplot writes ``name.png.json`` itself once the
script has ended, so a script cannot forge the record by editing files.  For ROOT, ``TCanvas::SaveAs`` and
``TPad::Print`` are wrapped the same way (through a ROOT pythonization, so only
when the script uses canvases): every 1-D ``TH1`` on the canvas or its pads,
also inside a ``THStack``, with edges, contents, variances (the sums of squared weights, or
ROOT's ``GetBinError(i)**2``), the underflow and overflow bins with theirs, and titles.
Validation (comparing against truth values) reads the ``name.png.json`` files; vibeplot also
writes each record in the UHI format, ``name.png.uhi.json`` (:mod:`vibeplot.core.sandbox.uhi_json`).
Neither
matplotlib nor ROOT is imported by this module itself, so scripts that do not plot
pay nothing.

When ``VIBEPLOT_EXTRA_FORMATS`` names formats (``pdf``, ``svg``; ``ask --format png,pdf``), each
``name.png`` is also saved as ``name.pdf`` (...) from the same figure or canvas, right after it;
vibeplot checks those files after the run (:func:`vibeplot.core.sandbox.run.check_extra`).
"""

from __future__ import annotations

import json
import os
import sys

from vibeplot.core.sandbox.child.channel import send
from vibeplot.core.sandbox.child.patch import after_import

TARGET = "matplotlib.figure"
ROOT_TARGET = "ROOT"
EXTRA_FORMATS_ENV = "VIBEPLOT_EXTRA_FORMATS"
#: the formats a PNG may also be saved in (vibeplot knows how to check each)
KNOWN_EXTRA = ("pdf", "svg")


def _extra_names(fname) -> list[str]:
    """``name.pdf``, ... for ``name.png`` when extra formats are asked for (else none)."""
    wanted = [f for f in os.environ.get(EXTRA_FORMATS_ENV, "").split(",") if f in KNOWN_EXTRA]
    if not wanted or not (isinstance(fname, (str, bytes)) or hasattr(fname, "__fspath__")):
        return []
    path = os.fsdecode(fname)
    if not path.lower().endswith(".png"):
        return []
    return [path[:-4] + "." + f for f in wanted]


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


def _step_outline(polygon) -> dict | None:
    """Edges and contents from the outline ``plt.hist(histtype="step"/"stepfilled")`` draws:
    (x0, base), (x0, v0), (x1, v0), (x1, v1), ..., (xn, v[n-1]), (xn, base)."""
    pts = polygon.get_xy()
    if len(pts) < 4:
        return None
    edges, values, k = [float(pts[0][0])], [], 1
    while k + 1 < len(pts) and pts[k + 1][0] > pts[k][0] and pts[k][0] == pts[k - 1][0]:
        values.append(float(pts[k][1]))
        edges.append(float(pts[k + 1][0]))
        k += 2
    base = pts[0][1]
    if len(values) < 2 or k >= len(pts) or pts[k][0] != edges[-1] or pts[k][1] != base:
        return None  # not a histogram outline
    return {"kind": "steps", "edges": edges, "values": values, "label": polygon.get_label()}


def _errorbar(container) -> dict | None:
    """Edges and contents of histogram points drawn with error bars (data in a data/MC plot:
    ``mplhep.histplot(histtype="errorbar")``, ``ax.errorbar``): the points' heights; the edges from
    the x error bars when they are drawn and touch, else from evenly spaced bin centres."""
    import numpy as np

    line, _caps, bars = container
    if line is None or str(line.get_marker()) in ("None", "none", "", " ") or not line.get_visible():
        return None  # no points drawn: the error bars of a histogram drawn otherwise (a step's yerr)
    x = np.ma.filled(np.ma.asarray(line.get_xdata(), dtype=float), np.nan)
    y = np.nan_to_num(np.ma.filled(np.ma.asarray(line.get_ydata(), dtype=float), np.nan))
    if len(x) < 2 or len(x) != len(y) or not np.all(np.isfinite(x)) or np.any(np.diff(x) <= 0):
        return None
    edges = None
    if getattr(container, "has_xerr", False) and bars:
        segments = bars[0].get_segments()
        if len(segments) == len(x):
            lefts = [float(min(seg[0][0], seg[-1][0])) for seg in segments]
            rights = [float(max(seg[0][0], seg[-1][0])) for seg in segments]
            if all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for a, b in zip(rights[:-1], lefts[1:])):
                edges = lefts + [rights[-1]]
    if edges is None:
        width = np.diff(x)
        if not np.allclose(width, width[0], rtol=1e-6, atol=0):
            return None  # uneven points without x error bars: not readable as a histogram
        edges = [float(v) for v in np.append(x - width[0] / 2, x[-1] + width[0] / 2)]
    return {"kind": "errorbar", "edges": edges, "values": [float(v) for v in y], "label": container.get_label()}


def _describe(figure) -> list[dict]:
    from matplotlib.container import BarContainer, ErrorbarContainer
    from matplotlib.patches import Polygon, StepPatch

    axes_out = []
    for ax in figure.get_axes():
        hists = []
        for artist in ax.patches:
            if isinstance(artist, StepPatch):
                values, edges, baseline = artist.get_data()
                found = {"kind": "stairs", "edges": [float(e) for e in edges],
                         "values": [float(v) for v in values], "label": artist.get_label()}
                if baseline is not None and getattr(baseline, "ndim", 0) == 1 and any(float(b) != 0 for b in baseline):
                    found["baseline"] = [float(b) for b in baseline]  # stacked on the ones below it
                hists.append(found)
            elif isinstance(artist, Polygon) and (found := _step_outline(artist)):
                hists.append(found)
        for container in ax.containers:
            if isinstance(container, BarContainer) and (found := _bars(container)):
                hists.append(found)
            elif isinstance(container, ErrorbarContainer) and (found := _errorbar(container)):
                hists.append(found)
        if hists:
            axes_out.append({"xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
                             "histograms": hists})
    return axes_out


def _write_sidecar(fname, describe) -> None:
    if not (isinstance(fname, (str, bytes)) or hasattr(fname, "__fspath__")):
        return  # a file object: nothing to put a sidecar next to
    path = os.path.abspath(os.fsdecode(fname))
    try:
        record = {"image": path, "axes": describe()}
        if not send(record):  # run by hand, outside vibeplot's runner: a file next to the image
            with open(path + ".json", "w", encoding="utf-8") as out:
                json.dump(record, out)
    except Exception as err:  # capture must never break the user's plot
        print(f"vibeplot: could not record histograms of {path}: {err}", file=sys.stderr)


def _patch(module) -> None:
    original = module.Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        result = original(self, fname, *args, **kwargs)
        _write_sidecar(fname, lambda: _describe(self))
        for other in _extra_names(fname):
            try:  # the same figure, the same options, another format
                original(self, other, *args, **{k: v for k, v in kwargs.items() if k != "format"})
            except Exception as err:  # never break the user's plot
                print(f"vibeplot: could not also save {other}: {err}", file=sys.stderr)
        return result

    module.Figure.savefig = savefig


def _root_variances(h, n) -> list[float]:
    """ROOT's variance of bins 0 (underflow) to n + 1 (overflow): the stored sums of squared
    weights (``Sumw2``) when there are some, else the contents (ROOT's default Poisson errors), else
    (profiles, other error options) ``GetBinError(i)**2``; not squared square roots, so no rounding."""
    bins = range(n + 2)
    if not h.InheritsFrom("TProfile"):
        if h.GetSumw2N() == n + 2:
            sumw2 = h.GetSumw2()
            return [float(sumw2.At(i)) for i in bins]
        if h.GetSumw2N() == 0 and h.GetBinErrorOption() == 0:  # TH1::kNormal
            return [abs(float(h.GetBinContent(i))) for i in bins]
    return [float(h.GetBinError(i)) ** 2 for i in bins]


def _root_hist(h) -> dict:
    n = h.GetNbinsX()
    axis = h.GetXaxis()
    values = [float(h.GetBinContent(i)) for i in range(n + 2)]  # first: fills a buffered histogram's bins
    variances = _root_variances(h, n)
    return {
        "kind": "TH1", "name": h.GetName(),
        "edges": [float(axis.GetBinLowEdge(i)) for i in range(1, n + 2)],
        "values": values[1:-1], "variances": variances[1:-1],
        "underflow": values[0], "overflow": values[-1],
        "underflow_variance": variances[0], "overflow_variance": variances[-1],
        "label": h.GetTitle(),
    }


def _describe_pad(pad) -> list[dict]:
    hists, pads = [], []
    for obj in pad.GetListOfPrimitives():
        if obj.InheritsFrom("TPad"):
            pads.extend(_describe_pad(obj))
        elif obj.InheritsFrom("THStack"):
            hists.extend(_root_hist(h) for h in obj.GetHists() if h.GetDimension() == 1)
        elif obj.InheritsFrom("TH1") and obj.GetDimension() == 1:
            hists.append(_root_hist(obj))
    if not hists:
        return pads
    first = next(o for o in pad.GetListOfPrimitives() if o.InheritsFrom("TH1") or o.InheritsFrom("THStack"))
    xaxis, yaxis = first.GetXaxis(), first.GetYaxis()
    return [{"xlabel": xaxis.GetTitle() if xaxis else "", "ylabel": yaxis.GetTitle() if yaxis else "",
             "title": first.GetTitle(), "histograms": hists}, *pads]


def _pythonize_pad(klass, name) -> None:
    for method in ("SaveAs", "Print"):
        original = getattr(klass, method)

        def wrapped(self, *args, _original=original, **kwargs):
            result = _original(self, *args, **kwargs)
            if args and isinstance(args[0], str) and args[0].lower().endswith((".png", ".pdf", ".svg")):
                _write_sidecar(args[0], lambda: _describe_pad(self))
                for other in _extra_names(args[0]):
                    try:
                        _original(self, other)
                    except Exception as err:  # never break the user's plot
                        print(f"vibeplot: could not also save {other}: {err}", file=sys.stderr)
            return result

        setattr(klass, method, wrapped)


def _patch_root(root) -> None:
    try:
        root.pythonization("TPad")(_pythonize_pad)  # runs when TPad/TCanvas is first used
    except Exception as err:
        print(f"vibeplot: cannot watch ROOT canvases: {err}", file=sys.stderr)


after_import(TARGET, _patch)
after_import(ROOT_TARGET, _patch_root)
