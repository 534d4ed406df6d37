"""vizviewer's server-side index (viewer/index.c, query.c, api.c) end to end:
the real executable over real HTTP on 127.0.0.1, on traces generated here
(bench/gen_trace.py and small hand-written ones). VIZVIEWER_WHOLE_MAX_MB=0
makes every trace take the large-trace path, so the traces stay small. The
answers are checked against the same trace read with json here; nothing
asserts on time."""

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from conftest import ASAN  # noqa: E402
from test_viewer import BIN, VIZVIEWER, start  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GEN = os.path.join(ROOT, "bench", "gen_trace.py")
ENV = dict(os.environ, VIZVIEWER_WHOLE_MAX_MB="0")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def serve(path, env=ENV, extra=()):
    exe = VIZVIEWER if os.path.exists(VIZVIEWER) else BIN
    args = ([exe] if exe == VIZVIEWER else [BIN, "view"]) + ["-s", "-p", "0", *extra, str(path)]
    proc, url = start_env(args, env)
    return proc, url


def start_env(args, env):
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return start(args)
    finally:
        os.environ.clear()
        os.environ.update(old)


def ready(url, query=""):
    """Waits for the index and its cache file; returns the final status."""
    for _ in range(600):
        status, st = get(url + "/api/status" + query)
        assert status == 200
        if st["state"] != "indexing" and st.get("cache") != "saving":
            return st
        time.sleep(0.05)
    raise AssertionError("index not ready: %r" % st)


def stop(proc):
    proc.terminate()
    assert proc.wait(timeout=20) == 0


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("index")
    path = d / "big.json"
    subprocess.run([sys.executable, GEN, "-n", "60000", "--threads", "2", "-o", str(path)], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, GEN, "-n", "60000", "--threads", "2", "--gz", "-o", str(d / "big.json.gz")],
                   check=True, capture_output=True)
    return path


def levels_of(sl, i=0):
    """The levels of track i of a /api/slices answer as lists of items: a
    level comes as one flat array, `stride` numbers per item."""
    k = sl["stride"]
    return [[lv[j:j + k] for j in range(0, len(lv), k)] for lv in sl["tracks"][i]["levels"]]


def slices_of(path):
    """Per (pid, tid): sorted (start_ns, dur_ns, name) of the X events, and the base."""
    doc = json.load(open(path))
    out = {}
    base = min(e["ts"] for e in doc["traceEvents"] if e.get("ph") != "M")
    for e in doc["traceEvents"]:
        if e.get("ph") == "X":
            out.setdefault((e["pid"], e["tid"]), []).append(
                (round(e["ts"] * 1000), round(e["dur"] * 1000), e["name"]))
    for v in out.values():
        v.sort(key=lambda s: (s[0], -s[1]))
    return out, base, doc


def test_tracks_level_of_detail_and_merging(big):
    proc, url = serve(big)
    try:
        st = ready(url)
        assert st["state"] == "ready" and st["events"] > 60000
        want, base, doc = slices_of(big)
        _, tr = get(url + "/api/tracks")
        assert [(t["pid"], t["tid"]) for t in tr["tracks"]] == sorted(want)
        assert [t["count"] for t in tr["tracks"]] == [len(want[k]) for k in sorted(want)]
        assert tr["tracks"][0]["thread"] == "MainThread" and tr["tracks"][0]["proc"] == "MainProcess"
        assert tr["slices"] == sum(len(v) for v in want.values())
        assert tr["counters"][0]["name"] == "memory" and tr["counters"][0]["key"] == "rss"
        dur = tr["duration"]
        # whole trace on 200 pixels: every level is at most ~one item per pixel,
        # narrow slices are merged, and the merged counts add up to the level
        _, sl = get(url + "/api/slices?t0=0&t1=%f&px=200&tracks=0" % dur)
        levels = levels_of(sl)
        assert len(levels) == tr["tracks"][0]["depth"]
        merged = 0
        for lv in levels:
            assert len(lv) <= 2 * 200 + 2
            merged += sum(1 for it in lv if it[4] > 1)
        assert merged > 0
        assert sum(it[4] for lv in levels for it in lv) == tr["tracks"][0]["count"]
        deepest = levels[-1]
        assert all(it[4] > 1 for it in deepest)  # 1 µs leaves are far below a pixel
        # zoomed in on 40 µs at 1000 px: no merging, exact slices
        key = sorted(want)[0]
        first_leaf = next(s for s in want[key] if s[2].startswith("leaf"))
        t0 = (first_leaf[0] / 1000 - base) - 5
        _, sl = get(url + "/api/slices?t0=%f&t1=%f&px=1000&tracks=0" % (t0, t0 + 40))
        items = [it for lv in levels_of(sl) for it in lv]
        assert items and all(it[4] == 1 for it in items)
        names = sl["names"]
        got = sorted((round((it[0] + base) * 1000), round(it[1] * 1000), names[str(it[2])]) for it in items)
        lo, hi = (t0 + base) * 1000, (t0 + 40 + base) * 1000
        exp = sorted(s for s in want[key] if s[0] < hi and s[0] + s[1] > lo)
        assert got == exp
        # with a search: 6 numbers an item, the last one set where it holds a match
        _, sq = get(url + "/api/slices?t0=%f&t1=%f&px=1000&tracks=0&q=LEAF" % (t0, t0 + 40))
        assert sq["stride"] == 6 and sl["stride"] == 5
        found = [it for lv in levels_of(sq) for it in lv]
        assert [it[:5] for it in found] == items
        assert any(it[5] for it in found) and not all(it[5] for it in found)
        assert all(it[5] == ("leaf" in sq["names"][str(it[2])].lower()) for it in found)
    finally:
        stop(proc)


def test_details_search_flame_area(big):
    proc, url = serve(big)
    try:
        ready(url)
        want, base, doc = slices_of(big)
        key = sorted(want)[0]
        # search answered by the server: counts per track
        _, se = get(url + "/api/search?q=LEAF&limit=5")
        exp = [sum(1 for s in want[k] if "leaf" in s[2]) for k in sorted(want)]
        assert se["tracks"] == exp and se["total"] == sum(exp) and len(se["hits"]) == 5
        # details of a slice with args: its event and source from file_info
        with_args = [e for e in doc["traceEvents"] if e.get("ph") == "X" and "args" in e and e["tid"] == key[1]]
        ev = with_args[0]
        _, sl = get(url + "/api/slices?t0=%f&t1=%f&px=100000&tracks=0" % (ev["ts"] - base - 0.0005,
                                                                         ev["ts"] - base + ev["dur"]))
        hit = [it for lv in levels_of(sl) for it in lv
               if abs(it[0] - (ev["ts"] - base)) < 0.0006 and abs(it[1] - ev["dur"]) < 0.0006
               and sl["names"][str(it[2])] == ev["name"]]
        assert len(hit) == 1
        _, de = get(url + "/api/detail?track=0&slice=%d" % hit[0][3])
        assert de["event"]["args"] == ev["args"] and de["name"] == ev["name"]
        assert de["source"]["path"] == "/synthetic/prog.py" and de["source"]["line"] == 5
        assert "def f0" in de["source"]["text"]
        assert 0 <= de["self"] <= de["dur"]
        # the flame graph: the root holds every root slice's time
        _, fl = get(url + "/api/flame")
        roots = sum(s[1] for k in want for s in want[k] if s[2].startswith("main"))
        assert abs(fl["tree"]["value"] * 1000 - roots) < 2
        assert fl["tree"]["children"][0]["name"].startswith("main")
        # area selection on track 0 over 3 ms: totals, self times and counts
        t0, t1 = 100.0, 3100.0
        _, ar = get(url + "/api/area?t0=%f&t1=%f&tracks=0&sort=count" % (t0, t1))
        lo, hi = round((t0 + base) * 1000), round((t1 + base) * 1000)
        tot, cnt = {}, {}
        for s, d, n in want[key]:
            c = min(s + d, hi) - max(s, lo)
            if s < hi and s + d > lo:
                tot[n] = tot.get(n, 0) + max(c, 0)
                cnt[n] = cnt.get(n, 0) + 1
        rows = {r[0]: r for r in ar["rows"]}
        assert set(rows) == set(cnt)
        for n in cnt:
            assert rows[n][3] == cnt[n] and abs(rows[n][1] * 1000 - tot[n]) < 2
        assert rows["leaf (/synthetic/prog.py:7)"][2] == rows["leaf (/synthetic/prog.py:7)"][1]
        assert [r[3] for r in ar["rows"]] == sorted((r[3] for r in ar["rows"]), reverse=True)
        assert sum(r[2] for r in ar["rows"]) <= (t1 - t0) + 0.01
        _, ar2 = get(url + "/api/area?t0=%f&t1=%f&tracks=0&sort=name" % (t0, t1))
        assert [r[0] for r in ar2["rows"]] == sorted(rows)
    finally:
        stop(proc)


def test_gz_answers_like_json(big):
    p1, u1 = serve(big)
    p2, u2 = serve(str(big) + ".gz")
    try:
        ready(u1)
        ready(u2)
        for q in ("/api/tracks", "/api/slices?px=300", "/api/detail?track=1&slice=777", "/api/search?q=work",
                  "/api/marks?px=50"):
            a, b = get(u1 + q), get(u2 + q)
            if q == "/api/tracks":
                a[1].pop("bytes"), b[1].pop("bytes")
            assert a == b, q
    finally:
        stop(p1)
        stop(p2)


def test_handwritten_b_e_instants_counters_and_errors(tmp_path):
    events = [
        {"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "T"}},
        {"ph": "B", "pid": 1, "tid": 1, "ts": 10, "name": "outer", "args": {"x": 1}},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 12, "dur": 3, "name": "inner"},
        {"ph": "E", "pid": 1, "tid": 1, "ts": 30},
        {"ph": "i", "pid": 1, "tid": 1, "ts": 20, "name": "mark", "s": "g", "args": {"k": "v"}},
        {"ph": "C", "pid": 1, "tid": 1, "ts": 10, "name": "c", "args": {"a": 1, "b": 2}},
        {"ph": "C", "pid": 1, "tid": 1, "ts": 20, "name": "c", "args": {"a": 5, "b": "x"}},
        {"ph": "B", "pid": 1, "tid": 2, "ts": 25, "name": "unfinished"},
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"traceEvents": events}))
    proc, url = serve(path)
    try:
        ready(url)
        _, tr = get(url + "/api/tracks")
        assert [t["count"] for t in tr["tracks"]] == [2, 1] and tr["duration"] == 20
        assert sorted((c["key"], c["n"]) for c in tr["counters"]) == [("a", 2), ("b", 1)]
        _, sl = get(url + "/api/slices?px=1000")
        lv = levels_of(sl)
        assert [[sl["names"][str(i[2])], i[0], i[1]] for i in lv[0]] == [["outer", 0, 20]]
        assert [[sl["names"][str(i[2])], i[0], i[1]] for i in lv[1]] == [["inner", 2, 3]]
        _, de = get(url + "/api/detail?track=0&slice=0")
        assert de["event"]["args"] == {"x": 1} and de["self"] == 17 and de["source"] is None
        _, un = get(url + "/api/slices?px=1000&track=1")
        assert levels_of(un)[0][0][1] == 5  # to the end of the trace
        _, mk = get(url + "/api/marks?px=1000")
        assert mk["instants"] == [[10, int(list(mk["names"])[0]), 0, 1]]
        assert sorted(len(p) for p in mk["counters"]) == [1, 2]
        _, dm = get(url + "/api/detail?instant=0")
        assert dm["event"]["args"] == {"k": "v"}
        for q, code in (("/api/slices?t0=5&t1=1", 400), ("/api/slices?px=0", 400), ("/api/slices?zz=1", 400),
                        ("/api/detail?track=9&slice=0", 400), ("/api/detail?track=0&slice=99", 400),
                        ("/api/area?tracks=0,x", 400), ("/api/nothing", 404)):
            status, body = get(url + q)
            assert status == code and "error" in body, q
    finally:
        stop(proc)


def test_malformed_trace_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"traceEvents":[{"ph":"X","ts":1,"dur":1,"name":"a","pid":1,"tid":1},{"ph":')
    proc, url = serve(path)
    try:
        st = ready(url)
        assert st["state"] == "error" and "malformed" in st["error"]
        status, body = get(url + "/api/tracks")
        assert status == 422 and body["state"] == "error"
    finally:
        stop(proc)


def vm_hwm_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_memory_is_bounded_and_capped(tmp_path):
    path = tmp_path / "mem.json"
    subprocess.run([sys.executable, GEN, "-n", "300000", "--threads", "1", "-o", str(path)], check=True,
                   capture_output=True)
    size_kb = os.path.getsize(path) // 1024
    # a cap below what the tables need: refused with one clear message
    proc, url = serve(path, dict(ENV, VIZVIEWER_INDEX_LIMIT_MB="2"))
    try:
        st = ready(url)
        assert st["state"] == "error" and "VIZVIEWER_INDEX_LIMIT_MB" in st["error"]
    finally:
        stop(proc)
    # a cap of 24 MB for a trace of ~33 MB: indexed, and the server's peak
    # RSS stays below the file's size (the text is streamed, never held)
    proc, url = serve(path, dict(ENV, VIZVIEWER_INDEX_LIMIT_MB="24"))
    try:
        st = ready(url)
        assert st["state"] == "ready", st
        assert st["index_bytes"] <= 24 << 20
        get(url + "/api/slices?px=2000")
        get(url + "/api/area")
        get(url + "/api/flame")
        hwm = vm_hwm_kb(proc.pid)
        if not ASAN:  # ASan's shadow memory and quarantine are not the program's
            assert hwm < size_kb, (hwm, size_kb)
    finally:
        stop(proc)


def test_once_with_an_index_waits_for_idle(big):
    proc, url = serve(big, extra=("--once", "--timeout", "1"))
    ready(url)
    status, _ = get(url + "/api/tracks")
    assert status == 200
    get(url + "/api/slices?px=100")  # the page keeps asking after the tracks
    assert proc.wait(timeout=30) == 0


def test_folder_mode_api(big, tmp_path):
    proc, url = serve(big.parent)
    try:
        st = ready(url, "?file=big.json")
        assert st["state"] == "ready"
        _, tr = get(url + "/api/tracks?file=big.json")
        assert len(tr["tracks"]) == 2
        try:
            urllib.request.urlopen(url + "/api/tracks?file=..%2Fx.json", timeout=10)
            raise AssertionError("a path outside the folder was answered")
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        stop(proc)


def test_small_trace_stays_whole(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"traceEvents": [{"ph": "X", "pid": 1, "tid": 1, "ts": 1, "dur": 1, "name": "a"}]}))
    proc, url = serve(path, dict(os.environ))
    try:
        _, st = get(url + "/api/status")
        assert st == {"state": "whole"}
        st = ready(url, "?index=1")  # asked for: indexed all the same
        assert st["state"] == "ready"
    finally:
        stop(proc)


def test_standalone_html_above_its_limit_keeps_the_json(tmp_path, big):
    out = tmp_path / "report.html"
    env = dict(os.environ, VIZVIEWER_HTML_MAX_MB="1")
    r = subprocess.run([BIN, "view", "--export_html", str(out), str(big)], env=env, capture_output=True, text=True)
    assert r.returncode == 1
    assert not out.exists()
    side = tmp_path / "report.json"
    assert side.read_bytes() == big.read_bytes()
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "above the 1 MB a standalone .html holds" in line
    assert str(side) in line and "vizviewer" in line


def test_index_cache_beside_a_writable_trace_and_elsewhere_for_a_readonly_one(tmp_path, big):
    env = dict(ENV, VIZVIEWER_CACHE_MIN_MB="0", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    path = tmp_path / "t.json"
    path.write_bytes(big.read_bytes())
    side = tmp_path / ".t.json.vzi"

    def once():
        proc, url = serve(path, env)
        try:
            st = ready(url)
            return st, get(url + "/api/slices?px=500")[1], get(url + "/api/detail?track=0&slice=123")[1]
        finally:
            stop(proc)

    st1, sl1, de1 = once()
    assert st1["cache"] == "saved" and side.exists()
    st2, sl2, de2 = once()
    assert st2["cache"] == "loaded" and (sl2, de2) == (sl1, de1)
    # a changed trace: the cache is stale, built again and rewritten
    doc = json.loads(path.read_text())
    doc["traceEvents"].append({"ph": "X", "pid": 1, "tid": 1, "ts": 5, "dur": 1, "name": "new"})
    path.write_text(json.dumps(doc))
    st3, _, _ = once()
    assert st3["cache"] == "saved"
    # a corrupt cache is ignored
    side.write_bytes(side.read_bytes()[:1000])
    st4, _, _ = once()
    assert st4["cache"] == "saved"
    # a trace the user cannot write: nothing beside it, the cache goes to XDG_CACHE_HOME
    if os.geteuid() == 0:
        return  # root may write anything: access(W_OK) is always true
    side.unlink()
    path.chmod(0o444)
    st5, _, _ = once()
    assert st5["cache"] == "saved" and not side.exists()
    assert any(p.name.endswith("-t.json.vzi") for p in (tmp_path / "xdg" / "vizviewer").iterdir())


def test_file_info_of_a_large_trace_comes_from_the_index(big):
    proc, url = serve(big)
    try:
        ready(url)
        status, info = get(url + "/file_info")
        assert status == 200
        assert info == json.load(open(big))["file_info"]
    finally:
        stop(proc)


def test_progress_line_on_a_terminal(big):
    """On a terminal the build prints one updating line and its summary."""
    import pty
    import select as sel

    exe = VIZVIEWER if os.path.exists(VIZVIEWER) else BIN
    args = ([exe] if exe == VIZVIEWER else [BIN, "view"]) + ["-s", "-p", "0", str(big)]
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=ENV)
    os.close(slave)
    out = b""
    try:
        while b"indexed " not in out or not out.endswith(b"\n"):
            ready_fds, _, _ = sel.select([master], [], [], 30)
            assert ready_fds, "no summary line: %r" % out
            out += os.read(master, 4096)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        os.close(master)
    text = out.decode()
    assert "You can also view your trace on" in text
    summary = [ln for ln in text.replace("\r", "\n").splitlines() if "vizviewer: indexed " in ln]
    assert len(summary) == 1 and " events in " in summary[0]


def split_trace(path, middle):
    """A trace whose halves share work: "B" events of the first half closed
    by "E" events of the second, a thread renamed late, string pids and
    tids, counters and instants on both sides; middle: None, "string" (the
    middle of the file inside a string holding "},{") or "file_info" (the
    middle past traceEvents)."""
    ev = [{"ph": "M", "pid": 1, "tid": 1, "name": "process_name", "args": {"name": "first"}},
          {"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "early"}}]
    n = 3000
    for i in range(n):
        if i % 15 == 0:
            ev.append({"ph": "B", "pid": 1, "tid": 1, "ts": i * 10, "name": "open%d" % (i % 7)})
        ev.append({"ph": "X", "pid": "p2", "tid": "t2", "ts": i * 10, "dur": 5, "name": "x%d" % (i % 5)})
        ev.append({"ph": "C", "pid": 1, "tid": 1, "ts": i * 10, "name": "mem", "args": {"rss": i}})
        if i % 100 == 0:
            ev.append({"ph": "i", "pid": 1, "tid": 1, "ts": i * 10 + 1, "name": "mark", "s": "t"})
    if middle == "string":
        ev.append({"ph": "X", "pid": 1, "tid": 9, "ts": 1, "dur": 1, "name": "big",
                   "args": {"s": "},{" * 200000}})
    for i in range(n):
        if i % 15 == 0:
            ev.append({"ph": "E", "pid": 1, "tid": 1, "ts": n * 10 + i * 10})
        ev.append({"ph": "X", "pid": "p2", "tid": "t2", "ts": n * 10 + i * 10, "dur": 5, "name": "y"})
        ev.append({"ph": "C", "pid": 1, "tid": 1, "ts": n * 10 + i * 10, "name": "mem", "args": {"rss": -i}})
        if i % 100 == 0:
            ev.append({"ph": "i", "pid": "p2", "tid": "t2", "ts": n * 10 + i * 10, "name": "late"})
    ev.append({"ph": "B", "pid": 1, "tid": 1, "ts": 2 * n * 10, "name": "never closed"})
    ev.append({"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "late"}})
    ev.append({"ph": "M", "pid": "p2", "tid": 0, "name": "process_name", "args": {"name": "second"}})
    doc = {"traceEvents": ev}
    if middle == "file_info":
        doc["file_info"] = {"files": {"a.py": ["},{" * 600000, 1]}, "functions": {}}
    path.write_text(",\n".join(json.dumps(doc).split(", ")))


@pytest.mark.parametrize("middle", [None, "string", "file_info"])
def test_index_read_in_two_halves_answers_as_one_pass(tmp_path, middle):
    path = tmp_path / "split.json"
    split_trace(path, middle)
    queries = ["tracks", "slices?px=1000", "slices?t0=25000&t1=35000&px=300", "marks?px=200",
               "search?q=open", "flame", "area?t0=0&t1=60000", "detail?track=0&slice=10", "file_info"]

    def answers(split_mb):
        proc, url = serve(path, dict(ENV, VIZVIEWER_INDEX_SPLIT_MB=split_mb, VIZVIEWER_NO_CACHE="1"))
        try:
            st = ready(url)
            assert st["state"] == "ready", st
            return st["events"], [get(url + "/api/" + q) for q in queries]
        finally:
            stop(proc)

    one, two = answers("100000"), answers("0")
    assert two == one
    tracks = one[1][0][1]
    t1 = [t for t in tracks["tracks"] if t["tid"] == 1][0]
    # every "B" closed by its "E" across the halves, innermost first, plus the unclosed one
    assert t1["count"] == 201 and t1["depth"] == 200 and t1["thread"] == "late"
