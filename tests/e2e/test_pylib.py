"""The executable notices at start when the interpreter library it was built
with (and carries) is no longer the installed one, and says how to rebuild.
VIZTRACER_TEST_PYLIB puts another file in the library's place."""

from conftest import FIB

WARNING = "changed since this viztracer was built"

def test_no_warning_while_the_library_is_unchanged(run):
    r = run(["--quiet", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0, r.stderr
    assert WARNING not in r.stderr

def test_replaced_library_warns_once_with_the_fix(run, tmp_path):
    fake = tmp_path / "libpython-upgraded.a"
    fake.write_bytes(b"another build")
    # A traced child (subprocess of the same executable) does not repeat it.
    script = FIB + "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'])\n"
    r = run(["--quiet", "cmdline_test.py"], script=script, env={"VIZTRACER_TEST_PYLIB": str(fake)})
    assert r.returncode == 0, r.stderr
    assert r.stderr.count(WARNING) == 1, r.stderr
    line = next(l for l in r.stderr.splitlines() if WARNING in l)
    assert line.startswith("viztracer: " + str(fake))
    assert "rebuild with: make -C " in line and " PYTHON=" in line
    # The run itself is traced as usual.
    assert any(e.get("name", "").startswith("fib") for e in r.load()["traceEvents"])

def test_missing_library_is_not_reported(run, tmp_path):
    r = run(["--quiet", "-c", "pass"], env={"VIZTRACER_TEST_PYLIB": str(tmp_path / "gone.a")})
    assert r.returncode == 0, r.stderr
    assert WARNING not in r.stderr
