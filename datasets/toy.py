"""Generators of the toy samples of the several-samples questions (a data/MC overlay, a stacked plot).

Three small deterministic samples in the schema of :mod:`vibeplot.datasets.sample` (the same
process generators and chunked writer): pseudo-data (no weights) and two simulated samples with a
per-event ``genWeight``.  :mod:`vibeplot.datasets.embedded` caches them (size and sha256 checked).
"""

from __future__ import annotations

import pathlib

import numpy as np

from vibeplot.datasets.sample import (
    _BRANCH_TYPES, WEIGHT_SCALE, WEIGHT_SPREAD, _gen_weights, _generate_chunk, _write_events,
)


def _positive_weights(rng, n, scale):
    """Positive generator weights (a LO-like sample): ``scale`` times a small log-normal spread."""
    return (scale * np.exp(rng.normal(0.0, WEIGHT_SPREAD, n))).astype(np.float32)


def generate_toy_sample(path, n_events, seed, fractions, weights=None) -> pathlib.Path:
    """Write one toy sample: the schema of :func:`~vibeplot.datasets.sample.generate_sample` for the
    process mixture ``fractions`` (keys of its process table), plus ``genWeight`` (float32) unless
    ``weights`` is None (pseudo-data: no weights).  ``weights``: ``("nlo", scale)`` (about 15%
    negative, as the weighted sample) or ``("lo", scale)`` (all positive).  The arrays depend only
    on the arguments.

    Example:
        >>> import uproot
        >>> path = generate_toy_sample("/tmp/toy.root", 500, 1, {"zmumu": 1.0}, ("lo", 2.0))
        >>> bool((uproot.open(path)["Events"]["genWeight"].array(library="np") > 0).all())
        True
    """
    if weights is None:
        return _write_events(path, n_events, seed, _BRANCH_TYPES, lambda rng, n: _generate_chunk(rng, n, fractions))
    kind, scale = weights

    def chunk(rng, n):
        branches = _generate_chunk(rng, n, fractions)  # first: the weights come after, as in the weighted sample
        if kind == "nlo":
            w = _gen_weights(rng, n) * np.float32(scale / WEIGHT_SCALE)
        else:
            w = _positive_weights(rng, n, scale)
        return {"genWeight": w.astype(np.float32), **branches}

    return _write_events(path, n_events, seed, {"genWeight": "float32", **_BRANCH_TYPES}, chunk)
