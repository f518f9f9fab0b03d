"""How well vibeplot recognises benchmark questions as people word them, measured in one run.

    uv run python benchmarks/bench_questions.py [--verbose]

Reads tests/data/paraphrases.toml (paraphrases per question id, near misses that must match
nothing) and prints, with its target:
1. paraphrases recognised as their own id, per question and in all   target 100 %
2. paraphrases taken for another question                           target 0
3. near misses matched to a question, per kind of change            target 0
4. the time one match takes (median)                                reported
With --verbose, every paraphrase that was not recognised and every near miss that matched,
with the matcher's reasons.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tomllib
from collections import Counter
from pathlib import Path

from vibeplot.core.questions import explain

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "paraphrases.toml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    data = tomllib.loads(DATA.read_text("utf-8"))
    times: list[float] = []

    def timed_explain(text: str):
        start = time.perf_counter()
        found = explain(text)
        times.append(time.perf_counter() - start)
        return found

    explain("warm up the registry")
    total = recognised = other = 0
    print("1. paraphrases recognised (per question id)")
    for qid, texts in data["paraphrases"].items():
        ok = 0
        for text in texts:
            found = timed_explain(text)
            got = found.question.id if found.question else None
            ok += got == qid
            other += got not in (None, qid)
            if got != qid and args.verbose:
                print(f"   miss {qid}: {text!r} -> {got}: {'; '.join(found.reasons)}")
        total, recognised = total + len(texts), recognised + ok
        print(f"   {qid:12} {ok}/{len(texts)}")
    print(f"   all          {recognised}/{total} = {100 * recognised / total:.1f} %   target 100 %")
    print(f"2. paraphrases taken for another question: {other}   target 0")
    kinds, matched = Counter(), Counter()
    for near in data["near_miss"]:
        kinds[near["changed"]] += 1
        found = timed_explain(near["text"])
        if found.question is not None:
            matched[near["changed"]] += 1
            if args.verbose:
                print(f"   false match ({near['changed']}): {near['text']!r} -> {found.question.id}")
    print("3. near misses matched to a question (per kind of change)")
    for kind in sorted(kinds):
        print(f"   {kind:10} {matched[kind]}/{kinds[kind]}")
    print(f"   all        {sum(matched.values())}/{sum(kinds.values())}   target 0")
    print(f"4. one match: median {1000 * statistics.median(times):.2f} ms over {len(times)} texts")
    return 0 if recognised == total and not other and not matched else 1


if __name__ == "__main__":
    raise SystemExit(main())
