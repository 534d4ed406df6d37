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
    assert json.loads(fetch(url + "/vizviewer_info")[1]) == {}  # VizTracer 1.1's
    body = fetch(url + "/localtrace")[1]
    assert body == (traces / "trace.json").read_bytes()
    assert proc.poll() is None  # --once waits for the page's last request, as VizTracer 1.1
    info = json.loads(fetch(url + "/file_info")[1])
    assert any(p.endswith("prog.py") for p in info["files"])
    assert proc.wait(timeout=20) == 0


def test_vizviewer_link_exists():
    assert os.path.islink(VIZVIEWER) or os.path.exists(VIZVIEWER)


def test_view_gz_and_flamegraph(traces):
    proc, url = start([BIN, "view", "-s", "--once", "--flamegraph", "-p", "0", "trace.json.gz"], cwd=traces)
    assert json.loads(fetch(url + "/vizviewer_info")[1]) == {"is_flamegraph": True}  # 0.15.6's
    body = fetch(url + "/localtrace")[1]  # urllib sends no Accept-Encoding: the file as it is
    assert body == (traces / "trace.json.gz").read_bytes()
    fetch(url + "/file_info")
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
        assert 'href="/trace.json"' in listing and 'href="/trace.json.gz"' in listing
        assert "prog.py" not in listing
        with urllib.request.urlopen(url + "/trace.json", timeout=20) as resp:  # its own server
            assert resp.url != url + "/" and resp.url.startswith("http://127.0.0.1:")
            own = resp.url.rstrip("/")
        assert fetch(own + "/localtrace")[1] == (traces / "trace.json").read_bytes()
        with pytest.raises(urllib.error.HTTPError) as e:
            fetch(url + "/../../etc/passwd")
        assert e.value.code == 404
    finally:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0


def test_errors_missing_type_port(traces):
    r = subprocess.run([BIN, "view", "-s", "missing.json"], cwd=traces, capture_output=True, text=True)
    # on stdout, where VizTracer prints them
    assert r.returncode == 1 and "File missing.json does not exist!" in r.stdout
    r = subprocess.run([BIN, "view", "-s", "prog.py"], cwd=traces, capture_output=True, text=True)
    assert r.returncode == 1 and "Do not support file type" in r.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([BIN, "view", "-s", "-p", str(port), "trace.json"], cwd=traces,
                           capture_output=True, text=True, timeout=20)
    assert r.returncode == 1
    assert f"Error! Port {port} is already in use" in r.stdout


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


def free_port_block(n):
    """A port p with p .. p+n free now (the folder's and its trace servers')."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n > 65535:
            continue
        try:
            socks = []
            for p in range(base, base + n + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.fail("no block of free ports")


def test_folder_mode_serves_each_trace_on_the_next_ports(tmp_path):
    # VizTracer's DirectoryViewer: /<trace> redirects to a server of its own
    # on port+1..port+10; one idle longer than --timeout gives its port up.
    for i in range(3):
        (tmp_path / ("%d.json" % i)).write_text('{"traceEvents": []}')
    base = free_port_block(10)
    proc, url = start([BIN, "view", "-s", "--timeout", "1", "-p", str(base), str(tmp_path)])
    try:
        def opened(name):
            with urllib.request.urlopen(url + "/" + name, timeout=20) as resp:
                return resp.url
        first = opened("0.json")
        assert first == "http://127.0.0.1:%d/" % (base + 1)
        assert json.loads(fetch(first + "localtrace")[1]) == {"traceEvents": []}
        assert opened("0.json") == first  # the same server
        assert opened("1.json") == "http://127.0.0.1:%d/" % (base + 2)
        import time
        time.sleep(1.5)  # both idle for longer than --timeout
        assert opened("2.json") == first
    finally:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0


def test_gz_to_a_client_without_gzip_is_the_file(traces):
    proc, url = start([BIN, "view", "-s", "-p", "0", "trace.json.gz"], cwd=traces)
    try:
        with urllib.request.urlopen(url + "/localtrace", timeout=20) as resp:
            assert resp.headers["Content-Type"] == "application/gzip"
            assert resp.headers.get("Content-Encoding") is None
            assert resp.read() == (traces / "trace.json.gz").read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0


VIEWER_MAIN = """
import sys, threading, urllib.request, webbrowser
from viztracer.viewer import viewer_main
opened = []
def open_new_tab(url):  # as VizTracer's tests replace it
    opened.append(url)
    def get():
        print(urllib.request.urlopen(url + "/vizviewer_info").read().decode(), flush=True)
        urllib.request.urlopen(url + "/localtrace").read()
        urllib.request.urlopen(url + "/file_info").read()
    threading.Thread(target=get).start()
webbrowser.open_new_tab = open_new_tab
sys.argv = ["vizviewer", "--once", "-p", "0", sys.argv[1]]
status = viewer_main()
print(status, opened[0].startswith("http://127.0.0.1:"))
"""


def test_viewer_main_from_python(traces):
    # viztracer.viewer.viewer_main(): our server, the browser opened through
    # Python's webbrowser; python3 -m viztracer.viewer the same.
    from conftest import PYTHON as python, python_env

    env = python_env()
    r = subprocess.run([python, "-c", VIEWER_MAIN, "trace.json"], cwd=traces, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "view your trace on http://localhost:" in r.stdout
    assert r.stdout.splitlines()[-2:] == ["{}", "0 True"]
    r = subprocess.run([python, "-m", "viztracer.viewer", "missing.json"], cwd=traces, env=env,
                       capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (1, "File missing.json does not exist!\n")
