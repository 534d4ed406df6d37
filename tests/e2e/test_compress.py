"""End-to-end tests of --compress / --decompress (tracer/format/vzt.c): a
real trace to .vzt and back gives the same JSON values, at least 10x
smaller; vdb and vizviewer open a .vzt as they open its JSON; bad input is
refused with one line and leaves no output."""

import json
import os
import subprocess

import pytest

from conftest import BIN, load
from test_vdb import SQUARES, pipe, record
from test_viewer import fetch, start

BIG = """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
fib(24)
"""


def viztracer(args, cwd):
    return subprocess.run([BIN] + args, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("compress")
    (d / "prog.py").write_text(BIG)
    r = viztracer(["--quiet", "--tracer_entries", "1000000", "--log_func_retval", "-o",
                   "big.json", "prog.py"], d)
    assert r.returncode == 0, r.stderr
    r = viztracer(["--compress", "big.json", "-o", "big.vzt"], d)
    assert r.returncode == 0, r.stderr
    assert "big.vzt" in r.stdout
    return d


def same_trace(a, b):
    assert a["traceEvents"] == b["traceEvents"]
    assert a["file_info"] == b["file_info"]
    assert a["viztracer_metadata"] == b["viztracer_metadata"]
    assert set(a) == set(b)


def test_round_trip_and_ratio(big):
    original = load(str(big / "big.json"))
    assert len(original["traceEvents"]) >= 100_000
    assert any("args" in e for e in original["traceEvents"])  # --log_func_retval
    ratio = (big / "big.json").stat().st_size / (big / "big.vzt").stat().st_size
    assert ratio >= 10, ratio
    for out in ("back.json", "back.json.gz"):
        r = viztracer(["--decompress", "big.vzt", "-o", out], big)
        assert r.returncode == 0, r.stderr
        same_trace(original, load(str(big / out)))


def test_default_names_and_viztracer_trace(tmp_path):
    # A trace in VizTracer's own number format (floats with any digits, B/E
    # events, a counter) goes through the JSON-text part unchanged.
    doc = {"traceEvents": [
        {"pid": 1, "tid": 1, "ts": 12.3456789, "ph": "X", "cat": "FEE", "dur": 0.1, "name": "f"},
        {"pid": 1, "tid": 1, "ts": 13, "ph": "B", "name": "g"},
        {"pid": 1, "tid": 1, "ts": 14, "ph": "E", "name": "g"},
        {"pid": 1, "tid": 1, "ts": 15.000, "ph": "C", "name": "c", "args": {"v": 1e300}},
    ], "viztracer_metadata": {"version": "0.15.6"}, "displayTimeUnit": "ns"}
    (tmp_path / "result.json").write_text(json.dumps(doc))
    r = viztracer(["--compress", "result.json"], tmp_path)
    assert r.returncode == 0, r.stderr
    os.rename(tmp_path / "result.json", tmp_path / "orig.json")
    r = viztracer(["--decompress", "result.vzt"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert load(str(tmp_path / "result.json")) == doc


def test_vdb_opens_vzt(tmp_path):
    trace = record(tmp_path, SQUARES)
    r = viztracer(["--quiet", "--compress", trace, "-o", "trace.vzt"], tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    commands = ["w", "s", "s", "w", "counter", "u", "w"]
    a = pipe(trace, commands)
    b = pipe(str(tmp_path / "trace.vzt"), commands)
    assert a.returncode == 0 and b.returncode == 0, b.stderr
    assert "square" in a.stdout
    assert a.stdout == b.stdout


def test_vizviewer_serves_vzt(big):
    proc, url = start([BIN, "view", "-s", "--once", "-p", "0", "big.vzt"], cwd=big)
    assert json.loads(fetch(url + "/vizviewer_info")[1]) == {}
    body = fetch(url + "/localtrace")[1]
    same_trace(load(str(big / "big.json")), json.loads(body))
    info = json.loads(fetch(url + "/file_info")[1])  # the last request: --once ends
    assert any(p.endswith("prog.py") for p in info["files"])
    assert proc.wait(timeout=20) == 0


def test_bad_input_refused(big, tmp_path):
    data = (big / "big.vzt").read_bytes()
    bad = {
        "cut.vzt": data[: len(data) // 2],
        "header.vzt": data[:12],
        "flip.vzt": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        "v9.vzt": data[:8] + b"\x09" + data[9:],
        "plain.vzt": b'{"traceEvents":[]}',
    }
    why = {"cut.vzt": "truncated", "header.vzt": "truncated", "flip.vzt": "corrupt",
           "v9.vzt": "version 9", "plain.vzt": "not a .vzt"}
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        r = viztracer(["--decompress", name, "-o", "out.json"], tmp_path)
        assert r.returncode == 1, name
        assert len(r.stderr.splitlines()) == 1 and why[name] in r.stderr, (name, r.stderr)
        assert sorted(os.listdir(tmp_path)) == sorted(list(bad)[: list(bad).index(name) + 1])
        if name != "plain.vzt":  # the plain JSON one is a trace vdb opens
            v = pipe(str(tmp_path / name), ["w"])
            assert v.returncode != 0 and why[name] in v.stderr, (name, v.stderr)
    (tmp_path / "notjson.json").write_text('{"traceEvents":[')
    r = viztracer(["--compress", "notjson.json", "-o", "x.vzt"], tmp_path)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "not valid JSON" in r.stderr
    r = viztracer(["--compress", "missing.json", "-o", "x.vzt"], tmp_path)
    assert r.returncode == 1 and "No such file" in r.stderr
    assert not (tmp_path / "x.vzt").exists() and not (tmp_path / "out.json").exists()
