"""Start-up module (sandbox): record the unbinned values a script histograms (for validation references).

Active only when ``VIBEPLOT_RECORD_VALUES=path`` is set; then, without editing
the script, it wraps (each right after its module is imported):

* ``hist.basehist.BaseHist.fill`` (``hist.Hist(...).fill``), 1-D histograms only;
  repeated fills of the same histogram object are concatenated into one record;
* ``matplotlib.axes.Axes.hist`` (so also ``plt.hist``); a list of datasets gives
  one record per dataset;
* ``numpy.histogram``, when not called from inside one of the above;
* ROOT ``RDataFrame`` ``Histo1D`` (through a ROOT pythonization): the filled column
  (and weight column) is booked with ``AsNumpy(lazy=True)``, so it is read in the
  same event loop, and recorded at exit; RVec columns are flattened, a scalar
  weight is repeated for every element as RDataFrame does.  The call itself goes through
  ROOT's own pythonization unchanged (a model tuple keeps its axis titles).

At interpreter exit it writes ``path`` as a JSON list of records::

    {"source": "hist.fill" | "Axes.hist" | "numpy.histogram" | "RDataFrame.Histo1D",
     "label": axis label or name ("" if none), "edges": the script's own bin edges or null,
     "values": [float, ...], "weights": [float, ...] or null}

:mod:`vibeplot.core.ask.validate` fills these values into a candidate's bins.

>>> run_script(script, workdir=d, startup=["vibeplot.core.sandbox.child.capture", "vibeplot.core.sandbox.child.values"],
...            extra_env={"VIBEPLOT_RECORD_VALUES": str(d / "values.json")})  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import json
import os
import sys

from vibeplot.core.sandbox.child.channel import send
from vibeplot.core.sandbox.child.patch import after_import

ENV = "VIBEPLOT_RECORD_VALUES"

_records: list[dict] = []
_by_hist: dict[int, dict] = {}  # id(hist object) -> its record
_keep_alive: list = []  # hist objects with a record, so their id() is not reused
_depth = 0  # > 0 while inside a wrapped call: inner numpy.histogram calls are not recorded


def _floats(data) -> list[float] | None:
    """``data`` (numpy, awkward, list, scalar) flattened to a list of floats; None if impossible."""
    if data is None:
        return None
    import numpy as np

    try:
        arr = np.asarray(data, dtype=float)
    except Exception:
        try:
            import awkward as ak

            arr = np.asarray(ak.to_numpy(ak.flatten(data, axis=None)), dtype=float)
        except Exception:
            return None
    return [float(v) for v in arr.ravel()]


def _add(source: str, label: str, values, weights=None, edges=None) -> dict | None:
    vals = _floats(values)
    if vals is None:
        return None
    w = _floats(weights)
    if w is not None and len(w) != len(vals):
        w = [w[0]] * len(vals) if len(w) == 1 else None
    record = {"source": source, "label": label or "", "edges": edges, "values": vals, "weights": w}
    _records.append(record)
    return record


def _patch_hist(module) -> None:
    basehist = sys.modules.get("hist.basehist") or __import__("hist.basehist", fromlist=["BaseHist"])
    original = basehist.BaseHist.fill

    def fill(self, *args, **kwargs):
        global _depth
        _depth += 1
        try:
            result = original(self, *args, **kwargs)
        finally:
            _depth -= 1
        try:
            if self.ndim == 1:
                axis = self.axes[0]
                values = args[0] if args else kwargs.get(axis.name)
                weights = kwargs.get("weight")
                rec = _by_hist.get(id(self))
                if rec is None:
                    edges = [float(e) for e in axis.edges] if hasattr(axis, "edges") else None
                    # the histogram's own label ("Z->mumu MC", one sample of several), else its axis's
                    label = getattr(self, "label", None) or getattr(axis, "label", "") or axis.name
                    rec = _add("hist.fill", label, values, weights, edges)
                    if rec is not None:
                        _by_hist[id(self)] = rec
                        _keep_alive.append(self)
                else:  # another fill of the same histogram: extend its record
                    vals, w = _floats(values) or [], _floats(weights)
                    if (rec["weights"] is None) != (w is None):  # mixed: make both explicit
                        rec["weights"] = rec["weights"] or [1.0] * len(rec["values"])
                        w = w or [1.0] * len(vals)
                    rec["values"].extend(vals)
                    if w is not None:
                        rec["weights"].extend(w if len(w) == len(vals) else [w[0]] * len(vals))
        except Exception as err:  # recording must never break the script
            print(f"vibeplot: could not record a hist fill: {err}", file=sys.stderr)
        return result

    basehist.BaseHist.fill = fill


def _edges_of(bins):
    try:
        import numpy as np

        arr = np.asarray(bins, dtype=float)
        return [float(e) for e in arr] if arr.ndim == 1 and arr.size > 1 else None
    except Exception:
        return None


def _patch_axes(module) -> None:
    original = module.Axes.hist

    def hist(self, x, *args, **kwargs):
        global _depth
        _depth += 1
        try:
            result = original(self, x, *args, **kwargs)
        finally:
            _depth -= 1
        try:
            weights = kwargs.get("weights")
            edges = _edges_of(result[1])
            label = kwargs.get("label") or ""
            is_list = isinstance(x, (list, tuple)) and x and hasattr(x[0], "__len__")
            if is_list:
                ws = weights if isinstance(weights, (list, tuple)) else [weights] * len(x)
                labels = label if isinstance(label, (list, tuple)) else [label] * len(x)
                for xi, wi, li in zip(x, ws, labels):
                    _add("Axes.hist", li, xi, wi, edges)
            else:
                _add("Axes.hist", label, x, weights, edges)
        except Exception as err:
            print(f"vibeplot: could not record a plt.hist call: {err}", file=sys.stderr)
        return result

    module.Axes.hist = hist


def _patch_numpy(module) -> None:
    original = module.histogram

    def histogram(a, *args, **kwargs):
        result = original(a, *args, **kwargs)
        if _depth == 0:
            try:
                _add("numpy.histogram", "", a, kwargs.get("weights"), _edges_of(result[1]))
            except Exception as err:
                print(f"vibeplot: could not record a numpy.histogram call: {err}", file=sys.stderr)
        return result

    histogram.__wrapped__ = original
    module.histogram = histogram


_rdf_pending: list[tuple] = []  # (lazy AsNumpy result, column, weight column, label)


def _model_label(model) -> str:
    """The x-axis title of a Histo1D model: a tuple ("name", "title;x;y", ...) or a TH1DModel."""
    title = model[1] if isinstance(model, tuple) and len(model) > 1 else getattr(model, "fTitle", "")
    parts = str(title).split(";")
    return parts[1] if len(parts) > 1 else ""


def _book(df, args) -> None:
    """Book the column (and weight column) of ``df.Histo1D(*args)`` for recording at exit."""
    try:
        columns = [a for a in args if isinstance(a, str)]
        model = args[0] if args and not isinstance(args[0], str) else None
        if columns:
            column, weight = columns[0], (columns[1] if len(columns) > 1 else None)
            lazy = df.AsNumpy([column] + ([weight] if weight else []), lazy=True)
            _rdf_pending.append((lazy, column, weight, _model_label(model) or column))
    except Exception as err:
        print(f"vibeplot: could not record an RDataFrame Histo1D: {err}", file=sys.stderr)


class _BoundHisto1D:
    """``df.Histo1D`` with recording: callable, and subscriptable like the template it wraps
    (``df.Histo1D["float"](...)``)."""

    def __init__(self, method, df):
        self._method, self._df = method, df

    def __getitem__(self, template_args):
        return _BoundHisto1D(self._method[template_args], self._df)

    def __call__(self, *args):
        result = self._method(*args)
        _book(self._df, args)
        return result


class _RecordingHisto1D:
    """Replaces ``RInterface.Histo1D``.  ROOT's own pythonization (a descriptor) turns a model
    tuple ``("name", "title;x title;y title", n, lo, hi)`` into a ``TH1DModel``; calling the
    method unbound, ``Histo1D(df, model, ...)``, skips it, and cppyy's own conversion of the
    tuple keeps the title but drops the axis titles (as ``TH1DModel(TH1D)`` does).  So this
    wrapper binds ROOT's method to the data frame, as attribute access does, and only watches
    the call."""

    def __init__(self, original):
        self._original = original

    def __get__(self, instance, owner=None):
        if instance is None:  # class access, e.g. by a pythonization that wraps this one
            return self
        return _BoundHisto1D(self._original.__get__(instance, owner), instance)


def _pythonize_rdf(klass, name) -> None:
    klass.Histo1D = _RecordingHisto1D(klass.__dict__.get("Histo1D") or klass.Histo1D)


def _flush_rdf() -> None:
    import numpy as np

    for lazy, column, weight, label in _rdf_pending:
        try:
            data = lazy.GetValue()
            values, weights = data[column], (data[weight] if weight else None)
            if values.dtype == object:  # one RVec per event: flatten, repeat a per-event weight
                counts = [len(v) for v in values]
                values = np.concatenate([np.asarray(v, dtype=float) for v in values]) if counts else np.zeros(0)
                if weights is not None and weights.dtype != object:
                    weights = np.repeat(weights.astype(float), counts)
            if weights is not None and weights.dtype == object:
                weights = np.concatenate([np.asarray(w, dtype=float) for w in weights]) if len(weights) else None
            _add("RDataFrame.Histo1D", label, values, weights)
        except Exception as err:
            print(f"vibeplot: could not record RDataFrame column {column}: {err}", file=sys.stderr)


def _patch_root(root) -> None:
    try:
        root.pythonization("RInterface<", ns="ROOT::RDF", is_prefix=True)(_pythonize_rdf)
        atexit.register(_flush_rdf)  # registered after ROOT's own exit handlers: runs before them
    except Exception as err:
        print(f"vibeplot: cannot record RDataFrame histograms: {err}", file=sys.stderr)


def _write(path: str) -> None:
    try:
        if send({"values": _records}):  # vibeplot writes ``path`` itself (see .channel)
            return
        with open(path, "w", encoding="utf-8") as out:
            json.dump(_records, out)
    except Exception as err:
        print(f"vibeplot: could not write recorded values to {path}: {err}", file=sys.stderr)


def install(path: str) -> None:
    """Start recording into ``path`` (written at exit)."""
    atexit.register(_write, path)
    for name, patcher in (("hist", _patch_hist), ("matplotlib.axes", _patch_axes), ("numpy", _patch_numpy),
                          ("ROOT", _patch_root)):
        after_import(name, patcher)


if os.environ.get(ENV):
    install(os.environ[ENV])
