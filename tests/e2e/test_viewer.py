"""vizviewer end to end: the real executable (VIZTRACER_BIN) serving real
traces over HTTP on 127.0.0.1, called as `vizviewer` and as `viztracer view`.
Servers use port 0 (the URL line gives the port), --once or a SIGINT, and
-s so no browser starts."""

import gzip
import json
import os
import select
import signal
import socket
import subprocess
import textwrap
import urllib.error
import urllib.request

import pytest

BIN = os.environ.get("VIZTRACER_BIN") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "viztracer")
)
VIZVIEWER = os.path.join(os.path.dirname(BIN), "vizviewer")

SCRIPT = textwrap.dedent(
    """
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    fib(8)
    """
)


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    d = tmp_path_factory.mktemp("viewer")
    (d / "prog.py").write_text(SCRIPT)
    for name in ("trace.json", "trace.json.gz"):
        r = subprocess.run([BIN, "-o", name, "prog.py"], cwd=d, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    return d


def start(args, cwd=None):
    """Starts the viewer; returns (proc, base_url) once it printed its URL.
    The process is killed if that line does not come."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    try:
        while b"view your trace on " not in out or not out.endswith(b"\n"):
            ready, _, _ = select.select([proc.stdout], [], [], 20)
            assert ready, "no URL line within 20 s: " + out.decode()
            chunk = os.read(proc.stdout.fileno(), 4096)  # raw: no buffer hides lines from select
            assert chunk, "viewer exited: " + out.decode() + proc.stderr.read().decode()
            out += chunk
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    line = out.decode().split("view your trace on ")[1].splitlines()[0]
    return proc, line.strip().replace("localhost", "127.0.0.1")


def fetch(url):
    with urllib.request.urlopen(url, timeout=20) as resp:
        return resp.status, resp.read()


def test_vizviewer_once_serves_trace_and_exits(traces):
    exe = VIZVIEWER if os.path.exists(VIZVIEWER) else BIN
    args = [exe] if exe == VIZVIEWER else [BIN, "view"]
    proc, url = start(args + ["-s", "--once", "-p", "0", "trace.json"], cwd=traces)
    status, page = fetch(url + "/")
    assert status == 200 and b"vizviewer" in page
    assert json.loads(fetch(url + "/vizviewer_info")[1]) == {"is_flamegraph": False, "mode": "json"}
    info = json.loads(fetch(url + "/file_info")[1])
    assert any(p.endswith("prog.py") for p in info["files"])
    body = fetch(url + "/localtrace")[1]
    assert body == (traces / "trace.json").read_bytes()
    assert proc.wait(timeout=20) == 0


def test_vizviewer_link_exists():
    assert os.path.islink(VIZVIEWER) or os.path.exists(VIZVIEWER)


def test_view_gz_and_flamegraph(traces):
    proc, url = start([BIN, "view", "-s", "--once", "--flamegraph", "-p", "0", "trace.json.gz"], cwd=traces)
    assert json.loads(fetch(url + "/vizviewer_info")[1])["is_flamegraph"] is True
    body = fetch(url + "/localtrace")[1]  # urllib sends no Accept-Encoding: inflated by the server
    assert body == gzip.decompress((traces / "trace.json.gz").read_bytes())
    assert proc.wait(timeout=20) == 0


def test_once_timeout_without_request(traces):
    r = subprocess.run([BIN, "view", "-s", "--once", "--timeout", "1", "-p", "0", "trace.json"],
                       cwd=traces, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    assert "giving up" in r.stdout


def test_directory_mode_and_ctrl_c(traces):
    proc, url = start([BIN, "view", "-s", "-p", "0", str(traces)])
    try:  # SIGINT in finally: the server stops even when an assertion fails
        listing = fetch(url + "/")[1].decode()
        assert "/view/trace.json" in listing and "/view/trace.json.gz" in listing
        assert "prog.py" not in listing
        assert fetch(url + "/localtrace?file=trace.json")[1] == (traces / "trace.json").read_bytes()
        with pytest.raises(urllib.error.HTTPError) as e:
            fetch(url + "/localtrace?file=../../etc/passwd")
        assert e.value.code == 404
    finally:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0


def test_errors_missing_type_port(traces):
    r = subprocess.run([BIN, "view", "-s", "missing.json"], cwd=traces, capture_output=True, text=True)
    assert r.returncode == 1 and "File missing.json does not exist!" in r.stderr
    r = subprocess.run([BIN, "view", "-s", "prog.py"], cwd=traces, capture_output=True, text=True)
    assert r.returncode == 1 and "Do not support file type" in r.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([BIN, "view", "-s", "-p", str(port), "trace.json"], cwd=traces,
                           capture_output=True, text=True, timeout=20)
    assert r.returncode == 1
    assert f"Error! Port {port} is already in use" in r.stderr


def test_export_html_and_serve_it(traces):
    r = subprocess.run([BIN, "view", "--export_html", "report.html", "trace.json.gz"], cwd=traces,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    html = (traces / "report.html").read_text()
    assert '<script id="vt-trace" type="application/json">{' in html
    proc, url = start([BIN, "view", "-s", "--once", "-p", "0", "report.html"], cwd=traces)
    assert fetch(url + "/anything")[1].decode() == html
    assert proc.wait(timeout=20) == 0


def test_viztracer_output_html(traces):
    """`viztracer -o x.html` (the launcher calls vt_viewer_write_html)."""
    r = subprocess.run([BIN, "-o", "direct.html", "prog.py"], cwd=traces, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    html = (traces / "direct.html").read_text()
    assert '<script id="vt-trace" type="application/json">{' in html
