"""The Python the launcher runs, tested on its own in a plain python3:
viztracer/_attach_step.py (what an attached process is made to run) and
viztracer/_run.py (__main__ prepared before the program). The children
scheme, viztracer/_fork.py, needs forks and the launcher: test_multiprocess.py
and test_subprocess.py run it."""

import os
import subprocess

from conftest import PYDIR, PYTHON, python_env, run_python

STEP = os.path.join(PYDIR, "viztracer", "_attach_step.py")


def step(tmp_path, call, pythonpath=True):
    """Runs _attach_step.run() by path, as the injected statement does, for a
    <step>.call holding call; returns the answer line."""
    (tmp_path / "start.call").write_text(call)
    env = python_env()
    if not pythonpath:
        del env["PYTHONPATH"]
    code = f"__import__('runpy').run_path({STEP!r})['run']({str(tmp_path)!r}, 'start')"
    subprocess.run([PYTHON, "-c", code], env=env, check=True, cwd=tmp_path, timeout=60)
    assert not (tmp_path / "start.answer.tmp").exists()
    return (tmp_path / "start.answer").read_text()


def test_attach_step_answers_ok(tmp_path):
    # No global tracer: uninstall_attach() has nothing to do and returns None.
    assert step(tmp_path, "uninstall_attach\n") == "ok\n"


def test_attach_step_answers_refused(tmp_path):
    assert step(tmp_path, "stop_attach\n") == "refused\n"


def test_attach_step_answers_the_error(tmp_path):
    assert step(tmp_path, "no_such_step\n") == (
        "error AttributeError: module 'viztracer.attach' has no attribute 'no_such_step'\n")


def test_attach_step_answers_when_viztracer_cannot_be_imported(tmp_path):
    assert step(tmp_path, "stop_attach\n", pythonpath=False) == (
        "error ModuleNotFoundError: No module named 'viztracer'\n")


def test_run_prepares_main_as_python3_does(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("")
    code = f"""
import sys
from viztracer import _run
g = {{}}
_run.prepare_script(g, 's.py', {str(script)!r}, True)
print(sys.path[0], g['__file__'], g['__cached__'], sys.modules['__mp_main__'] is sys.modules['__main__'])
n = len(sys.path)
_run.prepare_string(False)
print(len(sys.path) == n)
g = {{}}
code = _run.prepare_module(g, 'json.tool', False, False)
print(g['__name__'], g['__package__'], sys.argv[0] == g['__file__'], code.co_filename == g['__file__'])
"""
    r = run_python(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"{tmp_path} {script} None True", "True",
                                     "__main__ json True True"]
