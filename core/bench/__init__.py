"""The benchmark layer: questions × stacks × models × trials, and their report.

* :mod:`.compare` — ``vibeplot compare``: cells, rows, resume, budget, executors;
* :mod:`.report` — ``vibeplot report``: Markdown and self-contained HTML.
"""
