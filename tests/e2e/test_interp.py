"""The viztracer a user types runs the program on the environment's
interpreter: an activated virtualenv's python, else python3 on PATH (a pyenv
shim followed to the version it selects). Another version's build beside
this one is run instead; without one, one line says which versions there
are and how to build the missing one."""

import os
import shutil
import subprocess

import pytest

from conftest import BIN, FIB, PYTHON

MINE = subprocess.run([PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                      capture_output=True, text=True, check=True).stdout.strip()


def fake_venv(tmp_path, version, home=None):
    """A virtualenv made from the interpreter under test, or from home's."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(os.path.realpath(PYTHON), venv / "bin" / "python3")
    home = home or os.path.dirname(os.path.realpath(PYTHON))
    (venv / "pyvenv.cfg").write_text(f"home = {home}\nversion = {version}\n")
    return str(venv)


def test_another_version_without_a_build_is_one_line_and_exit_1(run, tmp_path):
    venv = fake_venv(tmp_path, "3.99.1")
    r = run(["--quiet", "cmdline_test.py"], script=FIB, env={"VIRTUAL_ENV": venv})
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"viztracer: the environment's python ({venv}/bin/python3) is "
                               "Python 3.99")
    assert f"has builds for Python {MINE}" in lines[0]
    assert "make -C " in lines[0] and f"PYTHON={venv}/bin/python3 install" in lines[0]
    assert not os.path.exists(tmp_path / "result.json")


def test_the_same_version_runs_here(run, tmp_path):
    venv = fake_venv(tmp_path, MINE + ".0")
    r = run(["--quiet", "cmdline_test.py"], script=FIB, env={"VIRTUAL_ENV": venv})
    assert r.returncode == 0, r.stderr
    assert any(e.get("name", "").startswith("fib") for e in r.load()["traceEvents"])


@pytest.mark.parametrize("chosen", ["", "1"])
def test_a_virtualenv_of_another_installation_of_this_version_is_one_line_and_exit_1(
        run, tmp_path, chosen):
    """getpath takes its standard library and extension modules from its
    home, another installation of this version (a pyenv 3.11.7 beside
    Debian's 3.11.2), which the interpreter this build carries cannot load:
    refused before anything runs, with the make command for a build of it;
    also in a build another launcher chose (VIZTRACER_INTERP_CHOSEN)."""
    other = tmp_path / "other" / "bin"
    other.mkdir(parents=True)
    base = other / f"python{MINE}"
    base.write_text("#!/bin/sh\nexit 0\n")
    base.chmod(0o755)
    venv = fake_venv(tmp_path, MINE + ".99", home=str(other))
    r = run(["--quiet", "cmdline_test.py"], script=FIB,
            env={"VIRTUAL_ENV": venv, "VIZTRACER_INTERP_CHOSEN": chosen})
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"viztracer: the virtualenv {venv} is made from {base}, another "
                               f"Python {MINE} than the one this viztracer carries"), lines[0]
    assert f"PYTHON={base}, and run the viztracer that builds" in lines[0]
    assert not os.path.exists(tmp_path / "result.json")


def test_the_build_for_that_version_is_run_with_the_same_arguments(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(BIN, bindir / "viztracer")
    other = bindir / "viztracer3.99"
    other.write_text('#!/bin/sh\necho "chosen=$VIZTRACER_INTERP_CHOSEN $*"\n')
    other.chmod(0o755)
    env = dict(os.environ, VIRTUAL_ENV=fake_venv(tmp_path, "3.99.2"))
    r = subprocess.run([str(bindir / "viztracer"), "--quiet", "x.py", "a"], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "chosen=1 --quiet x.py a"


def fake_pyenv(tmp_path, versions):
    root = tmp_path / "pyenv"
    (root / "shims").mkdir(parents=True)
    shim = root / "shims" / "python3"
    shim.write_text("#!/bin/sh\nexit 3\n")  # a script: its name tells no version
    shim.chmod(0o755)
    for v in versions:
        (root / "versions" / v / "bin").mkdir(parents=True)
        os.symlink(os.path.realpath(PYTHON), root / "versions" / v / "bin" / "python3")
    return root


def test_a_pyenv_shim_is_followed_to_the_version_pyenv_selects(run, tmp_path):
    root = fake_pyenv(tmp_path, ["3.98.0", "3.99.0"])
    (root / "version").write_text("3.98.0\n")
    env = {"VIRTUAL_ENV": "", "PYENV_ROOT": str(root), "PYENV_VERSION": "",
           "PATH": f"{root}/shims:" + os.environ["PATH"]}
    r = run(["--quiet", "cmdline_test.py"], script=FIB, env=env)
    assert r.returncode == 1
    assert f"({root}/versions/3.98.0/bin/python3) is Python 3.98" in r.stderr, r.stderr
    # pyenv's order: PYENV_VERSION, then .python-version, then the global file.
    (tmp_path / ".python-version").write_text("3.99.0\n")
    r = run(["--quiet", "cmdline_test.py"], env=env)
    assert "is Python 3.99" in r.stderr, r.stderr
    r = run(["--quiet", "cmdline_test.py"], env=dict(env, PYENV_VERSION="3.98.0"))
    assert "is Python 3.98" in r.stderr, r.stderr
