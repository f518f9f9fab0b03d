import pytest

from vibeplot.core.ask.extract import extract

CODE = "import numpy as np\nprint(np.pi)\n"


@pytest.mark.parametrize("reply", [
    f"- note one\n- note two\n\n```python\n{CODE}```\n",
    f"Here you go:\n```py\n{CODE}```\nHope it helps!",
    f"~~~python\n{CODE}~~~\n",
    f"````python\n{CODE}````",
    f"```Python3 \n{CODE}```",
    f"```\n{CODE}```",                      # untagged but python
    f"- notes\n```python\n{CODE}",           # truncated reply: fence never closed
    CODE,                                    # bare script, no fences
    f"```python\r\n{CODE.replace(chr(10), chr(13) + chr(10))}```",  # CRLF
])
def test_code_found_in_odd_replies(reply):
    got = extract(reply)
    assert got.code == CODE
    assert got.declined is None


def test_notes_are_the_bullets_before_the_code():
    got = extract(f"* read MET\n- used 50 bins\nsome prose\n```python\n{CODE}```\n- not a note")
    assert got.notes == ["read MET", "used 50 bins"]


def test_no_code_is_a_problem_not_a_crash():
    got = extract("I think you should look at the MET distribution.")
    assert got.code is None
    assert got.problems and "no python code block" in got.problems[0]


def test_non_python_block_is_not_code():
    got = extract("```bash\npip install hist\n```")
    assert got.code is None and got.problems


def test_several_blocks_run_longest_and_warn():
    got = extract(f"```python\nx = 1\n```\nand\n```python\n{CODE}```")
    assert got.code == CODE and not got.problems
    assert got.chosen == {"blocks": 2, "used": 2, "why": "the longest complete block that parses as python"}
    assert "2 python blocks" in got.warnings[0] and "exactly one block" in got.warnings[0]


def test_block_with_inner_triple_backticks_in_longer_fence():
    inner = 'doc = """\n```\nnot a fence end\n```\n"""\n'
    got = extract(f"````python\n{inner}````")
    assert got.code == inner


@pytest.mark.parametrize("line", ["DECLINE: not a plot request", "**DECLINE**: this asks for a poem"])
def test_decline(line):
    got = extract(f"{line}\n")
    assert got.declined and got.code is None and not got.problems
