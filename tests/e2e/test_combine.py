"""--combine and --align_combine: traces of separate runs (ours and
VizTracer's, plain and gzip'd) merged into one output file."""

import gzip
import json
import os

from conftest import events, load

SCRIPT_A = """
def alpha():
    return 1
alpha()
"""

SCRIPT_B = """
import time
def beta():
    time.sleep(0.01)
beta()
"""

# The shape VizTracer 0.16's Python save writes: spaces after separators,
# B/E and flow events, a sync_marker, file_info.
VIZTRACER_DOC = {
    "traceEvents": [
        {"ph": "M", "pid": 777, "tid": 777, "name": "process_name", "args": {"name": "MainProcess"}},
        {"ph": "M", "pid": 777, "tid": 778, "name": "thread_name", "args": {"name": "MainThread"}},
        {"pid": 777, "tid": 778, "ts": 5000.5, "dur": 3.25, "name": "vt_func (/x/v.py:1)", "ph": "X", "cat": "FEE"},
        {"pid": 777, "tid": 778, "ts": 4990.0, "ph": "B", "name": "span"},
        {"pid": 777, "tid": 778, "ts": 5010.0, "ph": "E", "name": "span"},
        {"pid": 777, "tid": 778, "ts": 5001.0, "ph": "s", "id": 3, "name": "flow", "cat": "f"},
        {"pid": 777, "tid": 778, "ts": 5002.0, "ph": "C", "name": "cnt", "args": {"v": 2}},
    ],
    "viztracer_metadata": {"version": "0.16.3", "overflow": True, "sync_marker": 4995.0},
    "file_info": {"files": {"/x/v.py": ["def vt_func(): pass\n", 1]}, "functions": {"vt_func (/x/v.py:1)": ["/x/v.py", 1]}},
}


def two_runs(run):
    a = run(["-o", "a.json", "cmdline_test.py"], script=SCRIPT_A)
    assert a.returncode == 0, a.stderr
    b = run(["-o", "b.json", "b.py"], script=SCRIPT_B, name="b.py")
    assert b.returncode == 0, b.stderr
    return a.load("a.json"), b.load("b.json")


def pids(data):
    return {e["pid"] for e in data["traceEvents"]}


def test_combine_two_runs(run):
    a, b = two_runs(run)
    r = run(["--combine", "a.json", "b.json", "-o", "out.json"])
    assert r.returncode == 0, r.stderr
    assert "vizviewer" in r.stdout
    out = r.load("out.json")
    assert len(out["traceEvents"]) == len(a["traceEvents"]) + len(b["traceEvents"])
    assert pids(out) == pids(a) | pids(b) and len(pids(out)) == 2
    names = {e["name"] for e in events(out)}
    assert any(n.startswith("alpha (") for n in names)
    assert any(n.startswith("beta (") for n in names)
    # Events are copied, times untouched (both runs share one clock).
    assert sorted(e["ts"] for e in events(out)) == sorted(e["ts"] for e in events(a) + events(b))
    files = out["file_info"]["files"]
    assert any(p.endswith("cmdline_test.py") for p in files)
    assert any(p.endswith("b.py") for p in files)
    assert out["viztracer_metadata"]["overflow"] is False
    assert out["viztracer_metadata"]["baseTimeNanoseconds"] == a["viztracer_metadata"]["baseTimeNanoseconds"]


def test_combine_default_output_and_gz(run):
    two_runs(run)
    r = run(["--combine", "a.json", "b.json"])
    assert r.returncode == 0, r.stderr
    assert len(pids(r.load("result.json"))) == 2
    r = run(["--combine", "a.json", "b.json", "-o", "out.json.gz"])
    assert r.returncode == 0, r.stderr
    assert len(pids(load(os.path.join(r.cwd, "out.json.gz")))) == 2


def test_combine_gz_input(run, tmp_path):
    a, _ = two_runs(run)
    with gzip.open(tmp_path / "b.json.gz", "wt") as f:
        f.write((tmp_path / "b.json").read_text())
    r = run(["--combine", "a.json", "b.json.gz", "-o", "out.json"])
    assert r.returncode == 0, r.stderr
    out = r.load("out.json")
    assert len(pids(out)) == 2
    assert any(e["name"].startswith("beta (") for e in events(out))


def test_align_combine_starts_each_at_zero(run):
    a, b = two_runs(run)
    r = run(["--align_combine", "a.json", "b.json", "-o", "out.json"])
    assert r.returncode == 0, r.stderr
    out = r.load("out.json")
    for pid in pids(out):
        ts = [e["ts"] for e in events(out) if e["pid"] == pid]
        assert min(ts) == 0
    # Shifting keeps the distances inside each file exactly.
    pa = next(iter(pids(a)))
    shifted = sorted(e["ts"] for e in events(out) if e["pid"] == pa)
    first = min(e["ts"] for e in events(a))
    assert shifted == sorted(round(e["ts"] - first, 3) for e in events(a))


def test_combine_viztracer_file(run, tmp_path):
    two_runs(run)
    (tmp_path / "vt.json").write_text(json.dumps(VIZTRACER_DOC))
    r = run(["--combine", "a.json", "vt.json", "-o", "out.json"])
    assert r.returncode == 0, r.stderr
    out = r.load("out.json")
    mine = [e for e in out["traceEvents"] if e["pid"] == 777]
    assert mine == VIZTRACER_DOC["traceEvents"]
    assert out["viztracer_metadata"]["overflow"] is True
    assert "/x/v.py" in out["file_info"]["files"]
    assert "vt_func (/x/v.py:1)" in out["file_info"]["functions"]
    r = run(["--align_combine", "vt.json", "a.json", "-o", "al.json"])
    assert r.returncode == 0, r.stderr
    al = r.load("al.json")
    vt = {e["ph"]: e["ts"] for e in al["traceEvents"] if e["pid"] == 777 and "ts" in e}
    assert vt == {"X": 5.5, "B": -5.0, "E": 15.0, "s": 6.0, "C": 7.0}  # sync_marker is 0
    assert "sync_marker" not in al["viztracer_metadata"]


def test_combine_skips_invalid_input(run, tmp_path):
    a, b = two_runs(run)
    (tmp_path / "bad.json").write_text('{"traceEvents": [{"ph": "X"')
    (tmp_path / "notrace.json").write_text("[1, 2]")
    (tmp_path / "trunc.json.gz").write_bytes(gzip.compress((tmp_path / "b.json").read_bytes())[:-20])
    r = run(["--combine", "a.json", "bad.json", "notrace.json", "trunc.json.gz", "b.json", "-o", "out.json"])
    assert r.returncode == 0, r.stderr
    warnings = r.stderr.strip().splitlines()
    assert len(warnings) == 3
    for name, line in zip(["bad.json", "notrace.json", "trunc.json.gz"], warnings):
        assert line.startswith("viztracer: Found and ignored invalid json file " + name)
    out = r.load("out.json")
    assert len(out["traceEvents"]) == len(a["traceEvents"]) + len(b["traceEvents"])


def test_combine_all_invalid_fails(run, tmp_path):
    (tmp_path / "bad.json").write_text("not json")
    r = run(["--combine", "bad.json", "-o", "out.json"])
    assert r.returncode == 1
    assert "Found and ignored invalid json file bad.json" in r.stderr
    assert not os.path.exists(os.path.join(r.cwd, "out.json"))
    assert [f for f in os.listdir(r.cwd) if "tmp" in f] == []


def test_combine_missing_input(run):
    two_runs(run)
    r = run(["--combine", "a.json", "nope.json", "-o", "out.json"])
    assert r.returncode == 1
    assert r.stderr.strip() == "viztracer: No such file as nope.json"
    assert not os.path.exists(os.path.join(r.cwd, "out.json"))


def test_combine_quiet_and_html(run):
    two_runs(run)
    r = run(["--quiet", "--combine", "a.json", "b.json", "-o", "out.html"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    page = open(os.path.join(r.cwd, "out.html"), encoding="utf-8").read()
    assert "alpha (" in page and "beta (" in page
    assert [f for f in os.listdir(r.cwd) if "tmp" in f] == []
