"""The command line: running scripts, modules, strings and console scripts,
exit statuses, option errors and the rcfile."""

import os
import stat

from conftest import BIN, FIB, PYTHON, events, load, names, python_env
import subprocess


def test_no_arguments_prints_help(run):
    r = run([])
    assert r.returncode == 0
    assert "usage: viztracer" in r.stdout


def test_version(run):
    r = run(["--version"])
    assert r.returncode == 0
    assert r.stdout.strip() == "0.1.0"


def test_string_exact_events(run):
    r = run(["-c", "lst=[]; lst.append(1)"])
    assert r.returncode == 0, r.stderr
    assert names(r.load()) == ["list.append", "<module> (<string>:1)", "builtins.exec"]


def test_string_argv(run):
    r = run(["--quiet", "-c", "import sys; print(sys.argv)", "a", "b"])
    assert r.stdout.strip() == "['-c', 'a', 'b']"


def test_script_argv_file_and_path(run, tmp_path):
    r = run(
        ["--quiet", "cmdline_test.py", "x", "--its-own-flag"],
        script="""
        import sys, os
        print(sys.argv)
        print(__name__, __file__)
        print(sys.path[0])
        print(os.path.basename(sys.executable).startswith("python3"))
        """,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "['cmdline_test.py', 'x', '--its-own-flag']"
    assert lines[1] == f"__main__ {tmp_path}/cmdline_test.py"
    assert lines[2] == str(tmp_path)
    assert lines[3] == "True"


def test_double_dash_ends_options(run):
    r = run(["--quiet", "--max_stack_depth", "10", "-o", "out.json.gz", "--", "cmdline_test.py",
             "--quiet"], script="import sys; print(sys.argv)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['cmdline_test.py', '--quiet']"
    assert events(r.load("out.json.gz"))


def test_options_after_the_script(run, tmp_path):
    """As VizTracer: its options anywhere before "--", the rest the script's."""
    r = run(["cmdline_test.py", "x", "-o", "out.json", "--its-own", "--quiet", "--log_exit",
             "--", "-o", "y"],
            script="""
            import atexit, sys
            def bye():
                pass
            atexit.register(bye)
            print(sys.argv)
            """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['cmdline_test.py', 'x', '--its-own', '-o', 'y']"
    assert r.stderr == ""
    assert not os.path.exists(os.path.join(r.cwd, "result.json"))
    assert "bye (" + str(tmp_path / "cmdline_test.py") + ":3)" in names(r.load("out.json"))
    r = run(["-m", "timeit", "-n", "1", "--quiet", "pass"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 loop")
    r = run(["cmdline_test.py", "-o", "result.txt"], script="print('ran')")
    assert r.returncode == 1
    assert "ran" not in r.stdout
    assert "Only html, json and gz are supported" in r.stdout


def test_run_separator(run):
    r = run(["--quiet", "--run", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0
    assert len(events(r.load())) == 17


def test_module(run, tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(
        "import sys\ndef f():\n    return 1\nf()\nprint(__name__, sys.argv)\n"
    )
    r = run(["--quiet", "-m", "pkg.mod", "a"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"__main__ ['{tmp_path}/pkg/mod.py', 'a']"
    assert f"f ({tmp_path}/pkg/mod.py:2)" in names(r.load())


def test_module_missing(run):
    r = run(["-m", "no_such_module_here"])
    assert r.returncode == 1
    assert r.stderr.strip() == "viztracer: no_such_module_here: No module named no_such_module_here"


def test_console_script_on_path(run, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "mytool"
    tool.write_text("#!/usr/bin/python3\nimport sys\ndef main():\n    print(sys.argv)\nmain()\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    r = run(["--quiet", "mytool", "arg1"], env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['mytool', 'arg1']"
    assert f"main ({tool}:3)" in names(r.load())


def test_missing_script(run):
    r = run(["nosuch.py"])
    assert r.returncode == 1
    assert r.stdout == "No such file as nosuch.py\n"  # stdout, as VizTracer
    assert r.stderr == ""
    assert not os.path.exists(os.path.join(r.cwd, "result.json"))


def test_trace_given_as_script(run, tmp_path):
    """VizTracer's words, on stdout; the file is not run."""
    for name in ("trace.json", "t.json.gz", "t.vzt"):
        r = run([name], script="print('ran')", name=name)
        assert r.returncode == 1
        assert r.stdout == f"viztracer can't run json file, did you mean \"vizviewer {name}\"?\n"
        assert r.stderr == ""
    r = run(["missing.json"])
    assert r.returncode == 1
    assert r.stdout == "No such file as missing.json\n"


def test_unknown_option(run):
    r = run(["--no_such_option", "x.py"])
    assert r.returncode == 2
    assert r.stderr.strip() == "viztracer: unrecognized option: --no_such_option"


def test_bad_values(run):
    r = run(["--min_duration", "1x", "cmdline_test.py"], script=FIB)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "viztracer: Can't convert 1x to time. Format should be 0.3ms or 13us"
    )
    r = run(["--tracer_entries", "abc", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr.strip() == "viztracer: argument --tracer_entries: invalid value 'abc'"
    r = run(["--max_stack_depth"])
    assert r.returncode == 2
    assert r.stderr.strip() == "viztracer: option --max_stack_depth needs a value"


def test_bad_output_extension_refused_before_running(run):
    r = run(["-o", "out.txt", "cmdline_test.py"], script="print('ran')")
    assert r.returncode == 1
    assert r.stdout == "Only html, json and gz are supported: out.txt\n"  # as VizTracer


def test_unwritable_output(run, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: use a file as a folder
            (tmp_path / "afile").write_text("")
            target = "afile/out.json"
            expect = "viztracer: cannot write afile/out.json: Not a directory"
        else:
            target = "locked/out.json"
            expect = "viztracer: cannot write locked/out.json: Permission denied"
        r = run(["-o", target, "cmdline_test.py"], script="print('ran')")
        assert r.returncode == 1
        assert r.stdout == ""
        assert r.stderr.strip() == expect
    finally:
        locked.chmod(0o700)


def test_exit_status_is_the_scripts(run):
    r = run(["--quiet", "cmdline_test.py"], script="import sys\nsys.exit(3)\n")
    assert r.returncode == 3
    assert names(r.load())  # still saved


def test_exit_with_message(run):
    r = run(["--quiet", "cmdline_test.py"], script="import sys\nsys.exit('bye')\n")
    assert r.returncode == 1
    assert r.stderr.strip() == "bye"


def test_uncaught_exception(run):
    r = run(["--quiet", "cmdline_test.py"],
            script="def f():\n    raise ValueError('boom')\nf()\n")
    assert r.returncode == 1
    assert r.stderr.startswith("Traceback (most recent call last):\n  File \"")
    assert "<viztracer>" not in r.stderr
    assert r.stderr.strip().endswith("ValueError: boom")
    n = names(r.load())
    assert n[0].startswith("f (") and n[1].startswith("<module> (") and n[2] == "builtins.exec"
    assert len(n) == 3  # printing the traceback is not traced


def test_syntax_error(run):
    r = run(["--quiet", "cmdline_test.py"], script="def f(:\n")
    assert r.returncode == 1
    assert "SyntaxError" in r.stderr
    assert not os.path.exists(os.path.join(r.cwd, "result.json"))


def test_rcfile_default(run, tmp_path):
    (tmp_path / ".viztracerrc").write_text("[default]\nmax_stack_depth = 0\nquiet\n")
    r = run(["cmdline_test.py"], script=FIB)
    assert r.returncode == 0
    assert r.stdout == ""
    assert events(r.load()) == []


def test_rcfile_command_line_wins(run, tmp_path):
    (tmp_path / "my.rc").write_text("[default]\nmax_stack_depth = 0\noutput_file = rc.json\n")
    r = run(["--rcfile", "my.rc", "--max_stack_depth", "2", "--quiet", "cmdline_test.py"],
            script=FIB)
    assert r.returncode == 0, r.stderr
    assert len(events(r.load("rc.json"))) == 2


def test_rcfile_lists_and_errors(run, tmp_path):
    (tmp_path / "a.rc").write_text("[default]\nexclude_files = ./ /nothing\nquiet\n")
    r = run(["--rcfile", "a.rc", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0
    assert names(r.load()) == ["builtins.exec"]
    (tmp_path / "b.rc").write_text("max_stack_depth = 1\n")
    r = run(["--rcfile", "b.rc", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr.strip() == "viztracer: rcfile b.rc has no [default] section"
    r = run(["--rcfile", "missing.rc", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "viztracer: cannot read rcfile missing.rc: No such file or directory"
    )
    (tmp_path / "c.rc").write_text("[default]\nbogus = 1\n")
    r = run(["--rcfile", "c.rc", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr.strip() == "viztracer: rcfile c.rc: unknown option 'bogus'"


def test_python_m_viztracer(tmp_path):
    (tmp_path / "cmdline_test.py").write_text(FIB)
    r = subprocess.run([PYTHON, "-m", "viztracer", "--quiet", "cmdline_test.py"], cwd=tmp_path,
                       env=python_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "result.json").exists()


def test_summary_lines(run, tmp_path):
    r = run(["cmdline_test.py"], script=FIB)
    lines = r.stdout.splitlines()
    assert lines[-2] == "Use the following command to open the report:"
    assert lines[-1] == f"vizviewer {tmp_path}/result.json"


def test_quiet(run):
    r = run(["--quiet", "cmdline_test.py"], script="print('only me')")
    assert r.stdout == "only me\n"


def test_binary_exists():
    assert os.access(BIN, os.X_OK)


def test_output_path_is_absolute_from_the_start(run, tmp_path):
    """A script that changes its folder still writes where the user asked."""
    (tmp_path / "sub").mkdir()
    script = "import os\nos.chdir('sub')\ndef f():\n    pass\nf()\n"
    for args, where in ((["-o", "o.json"], "o.json"), (["--output_dir", "d"], "d/result.json"),
                        ([], "result.json")):
        r = run(args + ["cmdline_test.py"], script=script)
        assert r.returncode == 0, r.stderr
        assert f"vizviewer {tmp_path}/{where}" in r.stdout
        assert "f (" in " ".join(names(r.load(where))), where
    assert os.listdir(tmp_path / "sub") == []


SANITIZE = r"""
import ctypes, sys

class MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_void_p)]

# A copy of len's PyMethodDef under a name with bytes that are not printable.
ml = MethodDef.from_address(ctypes.c_void_p.from_address(id(len) + 2 * ctypes.sizeof(ctypes.c_void_p)).value)
odd = MethodDef(b"l\x01en\xff", ml.ml_meth, ml.ml_flags, None)
new = ctypes.pythonapi.PyCFunction_NewEx
new.restype = ctypes.py_object
new.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
f = new(ctypes.addressof(odd), sys.modules["builtins"], "builtins")
print(f([1, 2, 3]))
"""


def test_sanitize_function_name(run, tmp_path):
    """VizTracer's: a builtin whose name is not printable ASCII keeps only its
    owner ("builtins."); other names are untouched."""
    def builtin_names(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            import json
            return [e["name"] for e in json.load(f)["traceEvents"]
                    if e["name"].startswith("builtins.")]
    r = run(["--quiet", "cmdline_test.py", "--sanitize_function_name", "-o", "a.json"],
            script=SANITIZE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "3\n"
    got = builtin_names(tmp_path / "a.json")
    assert "builtins." in got and "builtins.print" in got
    r = run(["--quiet", "cmdline_test.py", "-o", "b.json"], script=SANITIZE)
    assert "builtins.l\x01en\ufffd" in builtin_names(tmp_path / "b.json")


def test_accepted_viztracer_options(run):
    """--minimize_memory and --dump_raw change nothing here (docs/COMPAT.md);
    the deprecated two print VizTracer's warning on stdout, even with --quiet."""
    r = run(["--quiet", "--minimize_memory", "--dump_raw", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    assert len(events(r.load())) == 17
    for opt in ("--log_multiprocess", "--log_subprocess"):
        r = run(["--quiet", opt, "cmdline_test.py"], script=FIB)
        assert r.returncode == 0, r.stderr
        assert r.stdout == ("--log_multiprocess and --log_subprocess are no longer needed to "
                            "trace multi-process program\n")
        assert len(events(r.load())) == 17
    r = run(["--quiet", "-c",
             "import viztracer; t = viztracer.VizTracer(sanitize_function_name=True, "
             "minimize_memory=True, dump_raw=True); "
             "k = t.init_kwargs; print(k['sanitize_function_name'], k['minimize_memory'], "
             "k['dump_raw'])"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True True True\n"


FORK_OUTLIVES = """
import os, sys, time
def child():
    time.sleep(float(sys.argv[1]))
if os.fork() == 0:
    child()
    os._exit(0)
"""


def test_progress_lines(run, tmp_path):
    """VizTracer's progress lines on stdout (its same_line_print: "\\r", 80
    spaces, "\\r", the line), the summary clearing the last; none with --quiet."""
    (tmp_path / "cmdline_test.py").write_text(FIB)
    raw = subprocess.run([BIN, "cmdline_test.py"], cwd=tmp_path, capture_output=True).stdout
    clear = b"\r" + b" " * 80 + b"\r"
    assert raw.startswith(clear + b"Saving trace data, this could take a while" + clear
                          + b"Total Entries: ")
    clear = "\n" + " " * 80 + "\n"  # run() reads text: its universal newlines make "\r" "\n"
    r = run(["cmdline_test.py", "1"], script=FORK_OUTLIVES)
    assert r.returncode == 0, r.stderr
    assert (clear + "Saving trace data, this could take a while" + clear
            + "Wait for child processes to finish, Ctrl+C to skip" + clear
            + "Total Entries:") in r.stdout
    assert len({e["pid"] for e in events(r.load())}) == 2
    r = run(["--quiet", "cmdline_test.py", "1"], script=FORK_OUTLIVES)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_ctrl_c_skips_the_wait_for_children(tmp_path):
    """"Ctrl+C to skip": SIGINT while waiting saves without the child."""
    import signal
    import time
    (tmp_path / "cmdline_test.py").write_text(FORK_OUTLIVES)
    out = open(tmp_path / "out.txt", "w+")
    p = subprocess.Popen([BIN, "cmdline_test.py", "2.5"], cwd=tmp_path, stdout=out,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while "Wait for child" not in (tmp_path / "out.txt").read_text():
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.02)
    start = time.time()
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=20) == 0, p.stderr.read()
    assert time.time() - start < 1.5
    assert "Total Entries:" in (tmp_path / "out.txt").read_text()
    pids = {e["pid"] for e in events(load(str(tmp_path / "result.json")))}
    assert pids == {p.pid}
    out.close()
