"""What differs between interpreters underneath and must not show: 3.12 and
later trace through sys.monitoring (tracer/hook_monitor.c), 3.11 through the
profile hook. The whole suite runs on each (make test-versions); these tests
check the mechanism itself."""

import subprocess

import pytest

from conftest import PYTHON, names

VERSION = tuple(
    int(x)
    for x in subprocess.run(
        [PYTHON, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
)
monitoring = pytest.mark.skipif(VERSION < (3, 12), reason="sys.monitoring is 3.12+")

TOOLS = """
import sys
def tools():
    return {i: (sys.monitoring.get_tool(i), sys.monitoring.get_events(i)) for i in range(6)
            if sys.monitoring.get_tool(i)}
t = tools()
ours = [v for v in t.values() if v[0] == "viztracer"]
E = sys.monitoring.events
print(len(ours), bool(ours and ours[0][1] & E.CALL), bool(ours and ours[0][1] & E.PY_START))
"""


@monitoring
def test_registered_as_a_tool_with_c_call_events(run):
    r = run(["--quiet", "cmdline_test.py"], script=TOOLS)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "True", "True"]


@monitoring
def test_ignore_c_function_subscribes_to_nothing(run):
    """--ignore_c_function uses the frame-evaluation hook: no sys.monitoring
    tool, so no CALL, C_RETURN or C_RAISE event is ever delivered."""
    r = run(["--quiet", "--ignore_c_function", "cmdline_test.py"], script=TOOLS)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "False", "False"]
    assert "<module>" in " ".join(names(r.load()))


CPROFILE = """
import cProfile, io, pstats
def work():
    return sum(i * i for i in range(100))
pr = cProfile.Profile()
pr.enable()
work()
pr.disable()
s = io.StringIO()
pstats.Stats(pr, stream=s).print_stats()
print("work" in s.getvalue())
work()
"""


def test_program_running_cprofile(run):
    """cProfile inside a traced program keeps working (on 3.12+ it takes
    sys.monitoring's PROFILER_ID, which we leave to it)."""
    r = run(["--quiet", "cmdline_test.py"], script=CPROFILE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"
    if VERSION >= (3, 12):
        # Both tools see the calls: work() is in our trace twice.
        assert sum(n.startswith("work (") for n in names(r.load())) == 2
