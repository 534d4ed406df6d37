"""A traced program cannot tell it is traced: each test runs the same program
under plain python3 (VIZTRACER_PYTHON) and under the launcher and compares
what the program, its parent and its children see."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BIN, PYTHON


def _env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def both(tmp_path, argv, sep=False, **kw):
    """argv (a python3 command line without the interpreter) run by python3
    and by the launcher in tmp_path; returns the two CompletedProcesses. With
    sep, "--" ends the launcher's options first: the script's own arguments
    then hold options of ours (-c), which viztracer reads anywhere before
    "--", as VizTracer does."""
    out = []
    ours = [BIN, "--quiet", "-o", str(tmp_path / "t.json")] + (["--"] if sep else [])
    for pre in ([PYTHON], ours):
        out.append(subprocess.run(pre + list(argv), cwd=tmp_path, capture_output=True, text=True,
                                  timeout=60, env=_env(), **kw))
    return out


def write(tmp_path, name, text):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return str(tmp_path / name)


# ---- signals -----------------------------------------------------------------

LOOP = "import time\nprint('ready', flush=True)\nwhile True:\n    time.sleep(0.01)\n"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_program_dies_by_the_signal(tmp_path, sig):
    # Popen.wait() of a process ended by a signal is -signal under python3;
    # traced, the trace is saved first and the process still dies by it.
    codes = []
    for pre in ([PYTHON], [BIN, "--quiet", "-o", str(tmp_path / "t.json")]):
        p = subprocess.Popen(pre + ["-c", LOOP], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=_env())
        assert p.stdout.readline() == b"ready\n"
        time.sleep(0.2)
        p.send_signal(sig)
        p.communicate(timeout=30)
        codes.append(p.returncode)
    assert codes == [-sig, -sig]
    assert (tmp_path / "t.json").stat().st_size > 0


def test_children_die_by_sigterm(tmp_path):
    # A traced program's children (forked, spawned, subprocess) terminated
    # by their parent report -15 as under python3.
    path = write(tmp_path, "kids.py", """
        import multiprocessing as mp, subprocess, sys, time
        def work():
            time.sleep(30)
        if __name__ == "__main__":
            for method in ("fork", "spawn"):
                p = mp.get_context(method).Process(target=work)
                p.start(); time.sleep(0.5); p.terminate(); p.join()
                print(method, p.exitcode)
            c = subprocess.Popen([sys.executable, "-c",
                                  "import time; print('r', flush=True); time.sleep(30)"],
                                 stdout=subprocess.PIPE)
            c.stdout.readline(); time.sleep(0.2); c.terminate()
            print("subprocess", c.wait())
        """)
    plain, traced = both(tmp_path, [path])
    assert plain.stdout == "fork -15\nspawn -15\nsubprocess -15\n", plain.stderr
    assert traced.stdout == plain.stdout, traced.stderr
    assert traced.returncode == plain.returncode == 0


# ---- start-up --------------------------------------------------------------


def test_startup_imports_nothing_python3_does_not(tmp_path):
    # test_threading's children (python3 -c) check that threading is not
    # imported before they run; only our own package may be added.
    code = "import sys; print('\\n'.join(sorted(sys.modules)))"
    plain, traced = both(tmp_path, ["-c", code])
    extra = set(traced.stdout.split()) - set(plain.stdout.split())
    assert extra and all(m == "viztracer" or m.startswith("viztracer.") for m in extra), extra
    assert set(plain.stdout.split()) <= set(traced.stdout.split())


def test_threads_traced_when_the_program_imports_threading(tmp_path):
    path = write(tmp_path, "thr.py", """
        import threading
        def work():
            return sum(range(10))
        t = threading.Thread(target=work)
        t.start(); t.join()
        print(type(threading.__loader__).__name__, type(threading.__spec__.loader).__name__)
        """)
    plain, traced = both(tmp_path, [path])
    assert traced.stdout == plain.stdout == "SourceFileLoader SourceFileLoader\n", traced.stderr
    from conftest import load, events
    evs = events(load(str(tmp_path / "t.json")))
    work = [e for e in evs if e["name"].startswith("work (")]
    assert len(work) == 1 and work[0]["tid"] != work[0]["pid"]  # in its own thread


# ---- children started with subprocess ----------------------------------------


def test_popen_of_a_missing_python_fails_as_untraced(tmp_path):
    # test_subprocess: a relative python path resolves against the child's
    # cwd, and a missing cwd or interpreter raises FileNotFoundError.
    path = write(tmp_path, "pop.py", """
        import os, subprocess, sys
        here, base = os.path.split(os.path.realpath(sys.executable))
        rel = os.path.join(os.curdir, base)
        for args, kw in (([rel, "-c", "pass"], {}), ([sys.executable, "-c", "pass"],
                         {"cwd": "/no/such/dir"}), (["python3.99", "-c", "pass"], {})):
            try:
                subprocess.Popen(args, **kw).wait()
                print("ran")
            except FileNotFoundError as e:
                print("FileNotFoundError", e.filename)
        r = subprocess.run([rel, "-c", "import os; print(os.getcwd())"], cwd=here,
                           capture_output=True, text=True)
        print(r.returncode, r.stdout.strip())
        """)
    plain, traced = both(tmp_path, [path])
    assert plain.stdout.count("FileNotFoundError") == 3, plain.stderr
    assert traced.stdout == plain.stdout, traced.stderr


def test_orig_argv(tmp_path):
    # test_sys.test_orig_argv: a child's sys.orig_argv is the command the
    # program ran; the traced program's own is python3's for its command.
    path = write(tmp_path, "oa.py", """
        import subprocess, sys
        print(sys.orig_argv[1:])
        code = "import sys; print(sys.argv); print(sys.orig_argv)"
        args = [sys.executable, "-I", "-X", "utf8", "-c", code, "arg"]
        out = subprocess.run(args, capture_output=True, text=True).stdout.splitlines()
        print(out == [repr(["-c", "arg"]), repr(args)], out)
        """)
    plain, traced = both(tmp_path, [path, "x"])
    assert plain.stdout.splitlines()[1].startswith("True"), plain.stdout
    assert traced.stdout.splitlines()[0] == plain.stdout.splitlines()[0] == repr([path, "x"])
    assert traced.stdout.splitlines()[1].startswith("True"), traced.stdout


FLAGS = ("import sys, faulthandler; f = sys.flags; print(f.utf8_mode, f.dev_mode, f.safe_path,"
         " f.isolated, f.ignore_environment, f.no_user_site, f.optimize, f.bytes_warning,"
         " f.warn_default_encoding, faulthandler.is_enabled(), sys.warnoptions, sys.path[0],"
         " sys.argv, 'PYTHONWARNDEFAULTENCODING' in __import__('os').environ)")


@pytest.mark.parametrize("flags", [["-X", "utf8"], ["-X", "utf8=0"], ["-X", "dev"], ["-P"],
                                   ["-I"], ["-E"], ["-s"], ["-Wd"], ["-O"], ["-b"],
                                   ["-X", "faulthandler"], ["-X", "warn_default_encoding"]])
def test_interpreter_flags_of_a_child(tmp_path, flags):
    # A child's python3 flags mean there what they mean to python3.
    path = write(tmp_path, "fl.py", """
        import subprocess, sys
        r = subprocess.run([sys.executable] + sys.argv[1:], capture_output=True, text=True)
        print(r.stdout, r.stderr)
        """)
    plain, traced = both(tmp_path, [path] + flags + ["-c", FLAGS, "a"], sep=True)
    assert plain.returncode == 0 and "-c" in plain.stdout, plain.stderr
    assert traced.stdout == plain.stdout, traced.stderr


# ---- how the program ends ------------------------------------------------------


def test_exit_message_after_unflushed_stderr(tmp_path):
    code = 'import sys; sys.stderr.write("unflushed,"); sys.exit("message")'
    plain, traced = both(tmp_path, ["-c", code])
    assert plain.stderr == "unflushed,message\n"
    assert (traced.returncode, traced.stderr) == (plain.returncode, plain.stderr) == (1, plain.stderr)


@pytest.mark.parametrize("source", [b"\x89", b"x = 1\ny = 2\nz = '\xe9'\n",
                                    b"# coding: ascii\nz = '\xe9'\n", b"# coding: foo\nz = 1\n",
                                    b"#!/usr/bin/python\n# vim: set fileencoding=cp1252 :\nz = '\x81'\n",
                                    b"# coding: latin-1\nz = (\n", b"x = (\nz = '\xe9'\n"])
def test_undecodable_source_gives_python3s_syntax_error(tmp_path, source):
    # test_exceptions.test_non_utf8: python3 reads a script through its
    # file tokenizer, whose messages compile() of the bytes does not give.
    (tmp_path / "bad.py").write_bytes(source)
    plain, traced = both(tmp_path, [str(tmp_path / "bad.py")])
    assert plain.returncode == 1 and "SyntaxError" in plain.stderr
    assert (traced.returncode, traced.stderr) == (plain.returncode, plain.stderr)


# ---- the program's stack ----------------------------------------------------------

STACKS = """
import faulthandler, sys, threading, traceback
def inner():
    traceback.print_stack()
    faulthandler.dump_traceback(all_threads=False)
    print(len(traceback.extract_stack()), sys._getframe(1).f_back is None, flush=True)
    raise ValueError("boom")
def outer():
    inner()
outer()
"""


def test_no_frame_of_ours_in_the_programs_stack(tmp_path):
    # faulthandler, traceback.print_stack() and the frames' own chain end at
    # the program's <module>, as under python3 (test_faulthandler checks it).
    path = write(tmp_path, "stacks.py", STACKS)
    plain, traced = both(tmp_path, [path])
    assert plain.returncode == 1 and "in <module>" in plain.stderr
    assert (traced.returncode, traced.stdout, traced.stderr) == \
        (plain.returncode, plain.stdout, plain.stderr)
    # -m: python3 has runpy's two frames below the module, we have none
    # (docs/COMPAT.md, "Not yet the same")
    plain, traced = both(tmp_path, ["-c", STACKS])
    assert (traced.stdout, traced.stderr) == (plain.stdout, plain.stderr)


POPEN_ERRORS = """
import subprocess, sys, traceback
for kw in ({"args": [sys.executable, "x.py"], "cwd": "/nonexistent"},
           {"args": ["./no-such-program"]},
           {"args": [sys.executable, "-c", "pass"], "executable": "/no/such/python"}):
    try:
        subprocess.run(**kw)
    except OSError:
        traceback.print_exc()
"""


def test_popen_errors_pass_through_no_frame_of_ours(tmp_path):
    # subprocess is patched where Popen hands the command to the OS, so the
    # exception Popen raises afterwards has python3's traceback.
    path = write(tmp_path, "popen_errors.py", POPEN_ERRORS)
    plain, traced = both(tmp_path, [path])
    assert plain.stderr.count("Traceback") == 3
    assert (traced.returncode, traced.stderr) == (plain.returncode, plain.stderr)


def test_builtins_exec_is_still_the_root_event(tmp_path):
    import json
    path = write(tmp_path, "root.py", "def f():\n    return 1\nf()\n")
    subprocess.run([BIN, "--quiet", "-o", str(tmp_path / "r.json"), path], check=True,
                   env=_env(), timeout=60)
    events = [e for e in json.load(open(tmp_path / "r.json"))["traceEvents"] if e["ph"] == "X"]
    root = min(events, key=lambda e: e["ts"])
    assert root["name"] == "builtins.exec"
    assert all(root["ts"] <= e["ts"] and e["ts"] + e["dur"] <= root["ts"] + root["dur"]
               for e in events)
    assert sorted(e["name"].split(" ")[0] for e in events) == ["<module>", "builtins.exec", "f"]
    # it counts as one level of --max_stack_depth, as VizTracer's exec() does
    subprocess.run([BIN, "--quiet", "--max_stack_depth", "2", "-o", str(tmp_path / "d.json"), path],
                   check=True, env=_env(), timeout=60)
    events = [e for e in json.load(open(tmp_path / "d.json"))["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["name"].split(" ")[0] for e in events) == ["<module>", "builtins.exec"]


# ---- every way python3 runs code ------------------------------------------------

SHOW = ("import sys; print(__name__, __file__, sys.path[0], sys.argv, __spec__ and __spec__.name,"
        " type(__loader__).__name__, __package__)\n")


def test_directory_and_zip_with_main(tmp_path):
    import zipfile
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__main__.py").write_text(SHOW)
    with zipfile.ZipFile(tmp_path / "app.pyz", "w") as z:
        z.writestr("__main__.py", SHOW)
    (tmp_path / "empty").mkdir()
    for target in ("app", "app.pyz", "empty"):
        plain, traced = both(tmp_path, [target, "a"])
        assert (traced.returncode, traced.stdout, traced.stderr) == \
            (plain.returncode, plain.stdout, plain.stderr), target
    assert "can't find '__main__' module" in plain.stderr


def test_script_module_and_string_metadata(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(SHOW)
    (tmp_path / "s.py").write_text(SHOW)
    for argv in (["s.py", "a"], [str(tmp_path / "s.py")], ["-m", "pkg.mod", "a"]):
        plain, traced = both(tmp_path, argv)
        assert plain.returncode == 0, plain.stderr
        assert traced.stdout == plain.stdout, argv


def test_compiled_script(tmp_path):
    # test_cmd_line_script.test_script_compiled: python3 runs a .pyc file.
    (tmp_path / "c.py").write_text(SHOW)
    # Compiled by the interpreter under test: a .pyc is that version's own.
    subprocess.run([PYTHON, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], "
                    "cfile=sys.argv[2], doraise=True)", str(tmp_path / "c.py"),
                    str(tmp_path / "c.pyc")], check=True)
    plain, traced = both(tmp_path, ["c.pyc", "a"])
    assert plain.returncode == 0 and "SourcelessFileLoader" in plain.stdout, plain.stderr
    assert traced.stdout == plain.stdout, traced.stderr


def test_start_up_errors_of_a_child_read_as_python3s(tmp_path):
    # test_cmd_line_script: a missing script, a missing module, and an
    # error raised by the package of -m (with its traceback, none of ours).
    (tmp_path / "bad_pkg").mkdir()
    (tmp_path / "bad_pkg" / "__init__.py").write_text("raise ImportError('in __init__')\n")
    (tmp_path / "arg0_pkg").mkdir()
    (tmp_path / "arg0_pkg" / "__init__.py").write_text("import sys; print('init', sys.argv[0])\n")
    (tmp_path / "arg0_pkg" / "m.py").write_text("import sys; print('run', sys.argv[0])\n")
    path = write(tmp_path, "kids.py", """
        import subprocess, sys
        for args in (["nonexisting.py"], ["-m", "no_such_mod"], ["-m", "bad_pkg"],
                     ["-m", "arg0_pkg.m"]):
            r = subprocess.run([sys.executable] + args, capture_output=True, text=True)
            print(r.returncode, r.stdout, r.stderr.splitlines()[-1:],
                  "viztracer" in r.stderr, "Traceback" in r.stderr)
        """)
    plain, traced = both(tmp_path, [path])
    assert "can't open file" in plain.stdout and "init -m" in plain.stdout, plain.stdout
    assert traced.stdout == plain.stdout, traced.stderr


def test_encoding_warning_names_the_programs_line(tmp_path):
    # test_subprocess.test_encoding_warning: Popen's EncodingWarning points
    # at the program's call, not at our patched Popen.
    code = ("from subprocess import *\nimport sys\nrun('echo hello', shell=True, text=True)\n"
            "check_output('echo hello', shell=True, text=True)\n"
            "Popen([sys.executable, '-c', 'pass'], text=True).wait()\n")
    path = write(tmp_path, "ew.py", f"""
        import subprocess, sys
        r = subprocess.run([sys.executable, "-Xwarn_default_encoding", "-c", {code!r}],
                           capture_output=True, text=True, encoding="utf-8")
        print(r.returncode, r.stderr)
        """)
    plain, traced = both(tmp_path, [path])
    assert plain.stdout.count("EncodingWarning") == 3, plain.stdout
    assert traced.stdout == plain.stdout, traced.stderr


# ---- the program's own profiler -----------------------------------------------

PROFILER = """\
import cProfile, profile, pstats, sys, threading
def f(n):
    return sum(range(n))
def calls(stats):
    return sorted((k[2].split(" at ")[0], v[0]) for k, v in pstats.Stats(stats).stats.items())
print("before", sys.getprofile())
p = profile.Profile()
p.runcall(f, 10)
print("profile", calls(p))
c = cProfile.Profile()
c.enable()
f(5)
c.disable()
print("cProfile", calls(c))
events = []
def hook(frame, event, arg):
    events.append((event, arg.__name__ if event.startswith("c_") else frame.f_code.co_name))
sys.setprofile(hook)
during = sys.getprofile() is hook
f(3)
sys.setprofile(None)
print("setprofile", during, events)
threading.setprofile(hook)
events.clear()
t = threading.Thread(target=f, args=(2,))
t.start()
t.join()
threading.setprofile(None)
print("thread", [e for e in events if e[1] in ("f", "sum")])
try:
    sys.setprofile()
except TypeError as e:
    print("error", e)
print("after", sys.getprofile(), sys.setprofile.__name__, sys.setprofile.__self__ is sys)
"""


def test_programs_profiler_sees_what_it_sees_untraced(tmp_path):
    # 3.11: the program's sys.setprofile replaces our profile hook; CPython
    # would send that call's C_RETURN to the program's function, which
    # never saw its C_CALL (profile.py: "Bad return"). 3.12+: both coexist.
    plain, traced = both(tmp_path, [write(tmp_path, "prof.py", PROFILER)])
    assert plain.returncode == 0, plain.stderr
    assert (traced.returncode, traced.stdout, traced.stderr) == (0, plain.stdout, plain.stderr)
    assert "('c_call', 'sum')" in plain.stdout


# ---- a python child run by another path ---------------------------------------

PTH_CHILD = """\
import os, shutil, subprocess, sys
folder = os.path.join(os.getcwd(), "copy")
os.mkdir(folder)
exe = os.path.join(folder, os.path.basename(sys.executable))
shutil.copy(sys.executable, exe)
with open(exe + "._pth", "w") as f:  # getpath: the program name + "._pth"
    f.write("{lib}\\nextra\\n")
code = "import sys; print(sys.executable, sys.flags.no_site, sys.flags.isolated, sys.path)"
r = subprocess.run([exe, "-c", code], capture_output=True, text=True)
print(r.returncode, r.stdout == exe + "".join(r.stdout.partition(" ")[1:]), r.stdout, r.stderr)
shutil.rmtree(folder)
"""


def test_python_copy_beside_a_pth_file(tmp_path):
    # test_site._pthFileTests: a copy of the interpreter run by its path is
    # that program (sys.executable, the ._pth beside it), and our package's
    # folder is not put on a sys.path the ._pth alone decides.
    lib = subprocess.run([PYTHON, "-c", "import os; print(os.path.dirname(os.__file__))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    plain, traced = both(tmp_path, [write(tmp_path, "pth.py", PTH_CHILD.replace("{lib}", lib))])
    assert plain.returncode == 0, plain.stderr
    if not plain.stdout.startswith("0 "):
        pytest.skip("a copy of this interpreter does not start (shared libpython): "
                    + plain.stdout[:200])
    assert plain.stdout.startswith("0 True ") and " 1 1 [" in plain.stdout, plain.stdout
    assert "copy/extra']" in plain.stdout, plain.stdout
    assert (traced.returncode, traced.stdout, traced.stderr) == (0, plain.stdout, plain.stderr)
