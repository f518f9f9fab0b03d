"""The run directory: every prompt, reply, script, log and plot, plus ``run.json``.

Layout of ``vibeplot-runs/<time>-<slug>/``::

    question.txt
    run.json              # manifest, rewritten atomically after every step
    met.png               # copies of the plots of the successful attempt
    met.png.json          # the histograms drawn in it, as vibeplot captured them
    met.png.uhi.json      # the same histograms in the UHI serialization (hist can read it)
    attempt-1/
        prompt.md  reply.md  script.py  stdout.txt  stderr.txt  *.png  *.png.json  *.png.uhi.json

``run.json`` keeps the model, stack, dataset, package versions, prompt hash,
tokens, cost, timings per attempt and the outcome; a run interrupted half way
still leaves a valid manifest of what was done.

Text files are UTF-8; a character UTF-8 cannot hold (a lone surrogate such as
``\\ud800`` in a model reply or an undecodable command-line byte) is written as
its backslash escape (``errors="backslashreplace"``), never a crash.  ``run.json``
is ASCII (``json.dumps`` escapes everything else as ``\\uXXXX``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import hashlib
from pathlib import Path

from vibeplot.core.files import atomic_write
from vibeplot.core.sandbox import uhi_json
from vibeplot.core.sandbox.run import EXTRA_FORMATS, check_extra, read_safely


def slugify(text: str, length: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:length].rstrip("-") or "run"


class RunRecord:
    def __init__(self, out: Path, question: str, manifest: dict):
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(out) / f"{stamp}-{slugify(question)}"
        path, n = base, 1
        while True:
            try:
                path.mkdir(parents=True)
                break
            except FileExistsError:
                n += 1
                path = base.with_name(f"{base.name}-{n}")
        self.path = path
        (path / "question.txt").write_text(question.rstrip() + "\n", encoding="utf-8", errors="backslashreplace")
        self.manifest = {
            "question": question,
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **manifest,
            "attempts": [],
            "outcome": "running",
        }
        self.save()

    def attempt_dir(self, n: int) -> Path:
        d = self.path / f"attempt-{n}"
        d.mkdir(exist_ok=True)
        return d

    def write(self, n: int, name: str, text: str) -> Path:
        target = self.attempt_dir(n) / name
        target.write_text(text, encoding="utf-8", errors="backslashreplace")
        return target

    def add_attempt(self, info: dict) -> None:
        self.manifest["attempts"].append(info)
        self.save()

    def finish(self, outcome: str, message: str, plots: list[Path] = ()) -> None:
        copied, recorded, recorded_uhi, formats = [], {}, {}, {}
        extra = [f for f in (self.manifest.get("limits") or {}).get("extra_formats") or () if f in EXTRA_FORMATS]
        for png in plots:
            target = self.path / png.name
            if target.exists():
                target = self.path / f"{png.parent.name}-{png.name}"
            data = read_safely(png, 2**31)  # never through a link the script left
            if data is None:
                continue
            target.write_bytes(data)
            # histograms drawn, written by vibeplot from the capture channel (see sandbox)
            sidecar = read_safely(png.with_name(png.name + ".json"), 2**28)
            if sidecar is not None:
                target.with_name(target.name + ".json").write_bytes(sidecar)
                recorded[target.name] = hashlib.sha256(sidecar).hexdigest()
            # the same histograms in the UHI format, also written by vibeplot (see sandbox.uhi_json)
            exported = read_safely(uhi_json.path_for(png), 2**28)
            if exported is not None:
                uhi_json.path_for(target).write_bytes(exported)
                recorded_uhi[target.name] = hashlib.sha256(exported).hexdigest()
            for fmt in extra:  # the same figure saved as PDF/SVG by the capture module, checked again here
                other = png.with_suffix("." + fmt)
                entry = None  # not written, or refused (RunResult.extra_rejected says why)
                if check_extra(other, fmt, 2**31) is None and (saved := read_safely(other, 2**31)) is not None:
                    target.with_suffix("." + fmt).write_bytes(saved)
                    entry = {"file": target.with_suffix("." + fmt).name, "sha256": hashlib.sha256(saved).hexdigest()}
                formats.setdefault(target.name, {})[fmt] = entry
            copied.append(target.name)
        self.manifest.update(
            outcome=outcome,
            message=message,
            plots=copied,
            # sha256 of each plot's NAME.png.json as vibeplot recorded it: validation checks it
            plot_records=recorded,
            # sha256 of each plot's NAME.png.uhi.json (the UHI serialization of the same histograms)
            plot_uhi_records=recorded_uhi,
            # the plots in the other formats asked for (--format): file and sha256 per format
            **({"plot_formats": formats} if extra else {}),
            finished=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            totals=self.totals(),
        )
        self.save()

    def totals(self) -> dict:
        attempts = self.manifest["attempts"]
        llm = [a["llm"] for a in attempts if a.get("llm")]
        costs = [c["cost_usd"] for c in llm]
        return {
            "attempts": len(attempts),
            "prompt_tokens": sum(c["prompt_tokens"] or 0 for c in llm),
            "completion_tokens": sum(c["completion_tokens"] or 0 for c in llm),
            # unknown if any call had no price: never a made-up number
            "cost_usd": None if any(c is None for c in costs) else sum(costs),
            "llm_seconds": round(sum(c["latency_s"] for c in llm), 3),
            "script_seconds": round(sum(a["run"]["wall_seconds"] for a in attempts if a.get("run")), 3),
        }

    def save(self) -> None:
        save_manifest(self.path, self.manifest)


def save_manifest(run_dir: Path, manifest: dict) -> None:
    """Write ``run.json`` atomically (a crash never leaves half a manifest)."""
    atomic_write(Path(run_dir) / "run.json", json.dumps(manifest, indent=2, default=str) + "\n")
