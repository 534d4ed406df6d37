"""The output file: formats, names, file_info, atomic writes."""

import json
import os
import re
import time

from conftest import FIB, events, load, names


def test_gz_round_trip(run):
    r = run(["--quiet", "-o", "out.json.gz", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0
    assert len(events(r.load("out.json.gz"))) == 17


def test_file_info(run, tmp_path):
    r = run(["--quiet", "cmdline_test.py"], script=FIB)
    fi = r.load()["file_info"]
    path = f"{tmp_path}/cmdline_test.py"
    assert fi["files"][path] == [FIB, FIB.count("\n")]
    assert fi["functions"][f"fib ({path}:2)"] == [path, 2]
    assert fi["functions"][f"<module> ({path}:1)"] == [path, 1]
    assert "<module> (<string>:1)" not in fi["functions"]


def test_output_dir_and_pid_suffix(run, tmp_path):
    r = run(["--quiet", "--output_dir", "deep/er", "--pid_suffix", "-o", "t.json",
             "cmdline_test.py"], script=FIB)
    assert r.returncode == 0
    files = os.listdir(tmp_path / "deep" / "er")
    assert len(files) == 1 and re.fullmatch(r"t_\d+\.json", files[0])


def test_unique_output_file(run, tmp_path):
    r = run(["--quiet", "-u", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0
    files = [f for f in os.listdir(tmp_path) if f.endswith(".json")]
    assert len(files) == 1 and re.fullmatch(r"cmdline_test_\d{8}_\d{6}_\d+\.json", files[0])
    r = run(["-u", "-o", "x.json", "cmdline_test.py"])
    assert r.returncode == 2


def test_no_temporary_left(run, tmp_path):
    run(["--quiet", "cmdline_test.py"], script=FIB)
    assert sorted(os.listdir(tmp_path)) == ["cmdline_test.py", "result.json"]


def test_strings_escaped(run, tmp_path):
    r = run(["--quiet", "--log_func_args", "cmdline_test.py"], script="""
        def f(s):
            return s
        f('quote " backslash \\\\ newline \\n tab \\t bell \\x07 é 中')
        """)
    data = r.load()  # parses, so escaping is right
    f = [e for e in events(data) if e["name"].startswith("f (")][0]
    assert "é 中" in f["args"]["func_args"]["s"]


def test_weird_function_names(run, tmp_path):
    r = run(["--quiet", "cmdline_test.py"], script="""
        ns = {}
        exec('def g():\\n    pass\\n', ns)
        code = ns['g'].__code__.replace(co_name='we"ird\\n', co_qualname='we"ird\\n',
                                        co_filename='odd\\\\file"')
        ns['g'].__code__ = code
        ns['g']()
        """)
    assert 'we"ird\n (odd\\file":1)' in names(r.load())


def test_output_is_one_event_per_line(run):
    r = run(["--quiet", "cmdline_test.py"], script=FIB)
    with open(os.path.join(r.cwd, "result.json")) as f:
        lines = f.read().splitlines()
    assert lines[0] == '{"traceEvents":['
    assert json.loads(lines[1].rstrip(","))["ph"] == "M"


def test_standalone_html(run, tmp_path):
    r = run(["-o", "report.html", "cmdline_test.py"], script=FIB)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == f"vizviewer {tmp_path}/report.html"
    text = (tmp_path / "report.html").read_text()
    assert text.lstrip().lower().startswith("<!doctype html")
    assert f"fib ({tmp_path}/cmdline_test.py:2)" in text
    assert sorted(os.listdir(tmp_path)) == ["cmdline_test.py", "report.html"]


def test_html_from_plain_python_is_refused(tmp_path):
    from conftest import run_python
    r = run_python(f"""
        from viztracer import VizTracer
        t = VizTracer(verbose=0)
        t.start(); t.stop()
        try:
            t.save("{tmp_path}/x.html")
        except ValueError as e:
            print(e)
        """, tmp_path)
    assert r.stdout.strip() == (f"{tmp_path}/x.html: HTML reports are written by the viztracer "
                                "executable only")


def test_open_serves_the_report_once(run, tmp_path):
    # The "browser" fetches the trace the way the page would, so the server
    # sees its one request and stops.
    env = {"BROWSER": "curl -s -o fetched.json %s/localtrace"}
    r = run(["--quiet", "--open", "cmdline_test.py"], script=FIB, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    # The server stops once the last byte is sent; curl, which it does not
    # wait for, may still be writing the file.
    fetched = tmp_path / "fetched.json"
    for _ in range(100):
        try:
            data = load(str(fetched))
            break
        except (OSError, ValueError):
            time.sleep(0.1)
    else:
        data = load(str(fetched))
    assert len(events(data)) == 17
