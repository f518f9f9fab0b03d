"""The histograms a PNG shows, in the UHI serialization (``NAME.png.uhi.json``), from the capture record.

vibeplot writes this file itself, next to ``NAME.png.json``, from the same capture record
(:func:`vibeplot.core.sandbox.run.run_script`); a file of that name the script wrote is removed.
The format is the JSON file of scikit-hep's UHI serialization (``uhi_schema`` 1, the schemas
``histograms.schema.json`` / ``histogram.schema.json`` shipped with the ``uhi`` package): one object
of named histograms, here named by their index in the capture record (``"0"``, ``"1"``, ... in the
order of axes, then histograms: the ``NAME.png[i]`` of a verdict).  Each is dense and 1-D:

* the axis is ``regular`` when the edges are evenly spaced (every edge within 1e-9 of the span of
  where an even spacing puts it), else ``variable`` with the edges as drawn; its label is the
  axes' x label;
* a ROOT ``TH1`` has its underflow and overflow bins (``underflow``/``overflow`` true, the flow
  contents first and last in ``values``) and ``weighted`` storage, with ROOT's variances of every
  bin, flow included (the sums of squared weights, else ``GetBinError(i)**2``: see
  :mod:`vibeplot.core.sandbox.child.capture`); flow contents without variances keep ``double``;
* a matplotlib drawing (``plt.hist``, ``ax.stairs``, hist + mplhep) has no flow bins (what lies
  outside the drawn range is not in the figure) and ``double`` storage: the figure holds no variances
  (error bars drawn are intervals, not variances), so none are written;
* metadata: ``label`` (the artist's label or the TH1's title), ``name`` (the TH1's name), ``kind``
  (``stairs``, ``bars``, ``steps``, ``TH1``), ``image``, ``axes_index`` (which axes of the figure),
  ``title`` and ``ylabel`` of the axes; empty strings are left out.

Written dense (not ``uhi.io.to_sparse``: bins are few and a dense file is read by anything) with the
standard library, so writing needs no ``uhi``; ``tests/test_uhi.py`` checks the files against the
schemas of the installed ``uhi`` and reads them back with ``hist``.

A histogram that cannot be one (edges not strictly monotonic or not finite, contents not finite
or not one fewer than the edges) is left out; its index is then missing.  Edges drawn right to
left are turned around with their contents.  ``hist`` reads the file back::

    data = json.load(open("met.png.uhi.json"), object_hook=uhi.io.json.object_hook)
    h = hist.Hist(data["0"])

>>> record = {"image": "/x/met.png", "axes": [{"xlabel": "MET [GeV]", "ylabel": "", "title": "", "histograms": [
...     {"kind": "bars", "edges": [0, 50, 100], "values": [3.0, 1.0], "label": ""}]}]}
>>> h = histograms(record)["0"]
>>> h["axes"][0]["type"], h["axes"][0]["bins"], h["axes"][0]["underflow"], h["axes"][0]["metadata"]
('regular', 2, False, {'label': 'MET [GeV]'})
>>> h["storage"], h["metadata"]
({'type': 'double', 'values': [3.0, 1.0]}, {'kind': 'bars', 'image': 'met.png', 'axes_index': 0})
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

#: what follows ``NAME.png`` in the file's name
SUFFIX = ".uhi.json"
#: how far (as a fraction of the axis span) an edge may lie from even spacing on a ``regular`` axis
REGULAR_TOLERANCE = 1e-9


def path_for(png: Path) -> Path:
    """``NAME.png.uhi.json`` next to ``png``."""
    return png.with_name(png.name + SUFFIX)


def _numbers(seq) -> list[float]:
    out = [float(x) for x in seq]
    if not all(math.isfinite(x) for x in out):
        raise ValueError("not finite")
    return out


def _axis(edges: list[float], underflow: bool, overflow: bool, label: str) -> dict:
    n, lower, upper = len(edges) - 1, edges[0], edges[-1]
    span = upper - lower
    flags = {"underflow": underflow, "overflow": overflow, "circular": False}
    if all(abs(e - (lower + span * i / n)) <= REGULAR_TOLERANCE * span for i, e in enumerate(edges)):
        axis = {"type": "regular", "lower": lower, "upper": upper, "bins": n, **flags}
    else:
        axis = {"type": "variable", "edges": edges, **flags}
    if label:
        axis["metadata"] = {"label": label}
    return axis


def histogram(h: dict, axes: dict, axes_index: int = 0, image: str = "") -> dict | None:
    """One captured histogram (``h``, drawn in ``axes``) as a UHI histogram; None if it cannot be one."""
    try:
        edges, values = _numbers(h["edges"]), _numbers(h["values"])
        variances = _numbers(h["variances"]) if h.get("variances") is not None else None
        flow = "underflow" in h and "overflow" in h
        if flow:
            values = [*_numbers([h["underflow"]]), *values, *_numbers([h["overflow"]])]
            flow_variances = [h.get("underflow_variance"), h.get("overflow_variance")]
            variances = (None if variances is None or None in flow_variances
                         else [*_numbers(flow_variances[:1]), *variances, *_numbers(flow_variances[1:])])
    except (KeyError, TypeError, ValueError):
        return None
    if len(edges) < 2 or len(values) != len(edges) - 1 + 2 * flow or (variances is not None
                                                                      and len(variances) != len(values)):
        return None
    steps = [b - a for a, b in zip(edges, edges[1:])]
    if all(s < 0 for s in steps):  # drawn right to left
        edges, values = edges[::-1], values[::-1]
        variances = None if variances is None else variances[::-1]
    elif not all(s > 0 for s in steps):
        return None
    storage = ({"type": "weighted", "values": values, "variances": variances} if variances is not None
               else {"type": "double", "values": values})
    texts = {"label": h.get("label"), "name": h.get("name"), "kind": h.get("kind"), "image": image,
             "title": axes.get("title"), "ylabel": axes.get("ylabel")}
    metadata = {k: v for k, v in texts.items() if isinstance(v, str) and v}
    metadata["axes_index"] = axes_index
    xlabel = axes.get("xlabel")
    return {"uhi_schema": 1, "axes": [_axis(edges, flow, flow, xlabel if isinstance(xlabel, str) else "")],
            "storage": storage, "metadata": metadata}


def histograms(record: dict) -> dict[str, dict]:
    """Every histogram of a capture record, by its index in the record (see the module docstring)."""
    out, i = {}, 0
    image = os.path.basename(str(record.get("image", "")))
    drawn = record.get("axes")
    for axes_index, axes in enumerate(drawn if isinstance(drawn, list) else []):
        hists = axes.get("histograms") if isinstance(axes, dict) else None
        for h in hists if isinstance(hists, list) else []:
            if isinstance(h, dict) and (found := histogram(h, axes, axes_index, image)) is not None:
                out[str(i)] = found
            i += 1
    return out


def dumps(record: dict) -> bytes:
    """The ``NAME.png.uhi.json`` file of a capture record."""
    return json.dumps(histograms(record), allow_nan=False).encode()
