import pytest

from vibeplot.core import policies
from vibeplot.core.policies import BASIC, check

GOOD = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('a.png')\n"


def test_good_code_passes():
    assert check(GOOD, BASIC) == []


def test_missing_savefig():
    problems = check("import matplotlib.pyplot as plt\nplt.plot([1])\n", BASIC)
    assert any("savefig" in p for p in problems)


@pytest.mark.parametrize("call", ["plt.show()", "fig.show()", "matplotlib.pyplot.show()", "show()"])
def test_show_is_refused(call):
    assert any("plt.show" in p for p in check(GOOD + call + "\n", BASIC))


def test_hist_show_is_not_a_display_call():
    assert check(GOOD + "h.show()\n", BASIC) == []


@pytest.mark.parametrize("snippet", [
    "import subprocess\nsubprocess.run(['ls'])",
    "from subprocess import run",
    "import os\nos.system('pip install hist')",
    "import os\nos.popen('ls')",
    "x = '!pip install awkward'",
    "import os\nos.execvp('sh', ['sh'])",
])
def test_installs_and_shell_outs_are_refused(snippet):
    assert check(GOOD + snippet + "\n", BASIC)


def test_install_words_in_comments_are_fine():
    assert check(GOOD + "# no need to pip install anything\n", BASIC) == []


def test_syntax_error_is_a_violation_with_line():
    problems = check("def f(:\n  pass\n", BASIC)
    assert len(problems) == 1 and "line 1" in problems[0]


def test_policies_are_plain_callables():
    assert policies.no_show("", __import__("ast").parse("x = 1")) == []
