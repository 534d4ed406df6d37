"""%load_ext viztracer and %%viztracer in a real IPython InteractiveShell."""

from conftest import events, load, needs_module, run_python

pytestmark = needs_module("IPython")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cell_magic(tmp_path):
    out = tmp_path / "nb.json"
    port = free_port()
    r = run_python(f"""
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.core import display_functions
        shown = []
        display_functions.publish_display_data = lambda data, **kw: shown.append(data)
        sh = InteractiveShell.instance()
        sh.run_line_magic("load_ext", "viztracer")
        sh.run_cell("x = 5")
        res = sh.run_cell("%%viztracer --output_file {out} --ignore_c_function -p {port}\\n"
                          "def f(a):\\n    return a * x\\ny = f(2)\\n")
        assert res.success, res.error_in_exec
        print(sh.user_ns["y"])
        print(shown[0]["text/html"])
        import urllib.request
        print(len(urllib.request.urlopen("http://127.0.0.1:{port}/localtrace").read()) > 100)
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"VizTracer report saved to {out}"
    assert lines[1] == f"Open it with: vizviewer --port {port} {out}"
    assert lines[2] == "10"  # the cell ran in the notebook's namespace
    assert lines[3] == (f'<a href="http://localhost:{port}" target="_blank">'
                        "VizTracer Report</a>")
    assert lines[4] == "True"  # the report is served
    names = [e["name"] for e in events(load(str(out)))]
    assert names == ["f (<viztracer cell>:1)", "<module> (<viztracer cell>:1)"]


def test_cell_magic_bad_option(tmp_path):
    r = run_python("""
        from IPython.core.interactiveshell import InteractiveShell
        sh = InteractiveShell.instance()
        sh.run_line_magic("load_ext", "viztracer")
        res = sh.run_cell("%%viztracer --no_such_option\\npass\\n")
        print(res.success, type(res.error_in_exec).__name__)
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False UsageError"
