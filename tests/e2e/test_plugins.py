"""Plugins: --plugins "module args" and VizPluginBase, with the message protocol."""

from conftest import events, load, run_python

PLUGIN = """
from viztracer.vizplugin import VizPluginBase

LOG = []


class Marker(VizPluginBase):
    def __init__(self, args):
        super().__init__()
        self.args = args

    def support_version(self):
        return "0.1.0"

    def message(self, m_type, payload):
        LOG.append((m_type, payload.get("when", payload.get("cmd_type"))))
        if m_type == "event" and payload["when"] == "pre-save":
            return {"action": "handle_data", "handler": self.handle}
        if m_type == "command":
            return {"success": True}
        return {}

    def handle(self, data):
        data["traceEvents"].append({"ph": "i", "name": "from plugin " + self.args, "s": "g",
                                    "pid": 1, "tid": 1, "ts": 0})
        data["traceEvents"].append({"ph": "i", "name": "log " + repr(LOG), "s": "g",
                                    "pid": 1, "tid": 1, "ts": 0})


def get_vizplugin(arg):
    return Marker(arg)
"""


def test_plugin_string_from_cli(run, tmp_path):
    (tmp_path / "myplugin.py").write_text(PLUGIN)
    r = run(["--quiet", "--plugins", "myplugin extra", "--", "cmdline_test.py"],
            script="def f(): pass\nf()\n")
    assert r.returncode == 0, r.stderr
    data = r.load()
    names = [e["name"] for e in events(data)]
    assert "from plugin myplugin extra" in names
    log = [n for n in names if n.startswith("log ")][0]
    assert log == ("log [('event', 'initialize'), ('event', 'pre-start'), "
                   "('event', 'post-stop'), ('event', 'pre-save')]")
    assert any(n.startswith("f (") for n in names)


def test_plugin_object_and_terminate(tmp_path):
    (tmp_path / "myplugin.py").write_text(PLUGIN)
    out = tmp_path / "p.json"
    r = run_python(f"""
        import sys
        sys.path.insert(0, ".")
        import myplugin
        from viztracer import VizTracer
        with VizTracer(output_file="{out}", verbose=0, plugins=[myplugin.Marker("obj")]):
            pass
        print(myplugin.LOG[-1])
        """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "('command', 'terminate')"
    assert "from plugin obj" in [e["name"] for e in events(load(str(out)))]


def test_plugin_errors(run, tmp_path):
    r = run(["--plugins", "no_such_plugin_mod", "--", "cmdline_test.py"], script="pass\n")
    assert r.returncode == 1
    assert r.stderr == ("viztracer: plugin 'no_such_plugin_mod': cannot import no_such_plugin_mod:"
                        " No module named 'no_such_plugin_mod'\n")
    (tmp_path / "empty_plugin.py").write_text("x = 1\n")
    r = run(["--plugins", "empty_plugin", "--", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr == "viztracer: plugin 'empty_plugin': module empty_plugin has no get_vizplugin()\n"
    (tmp_path / "bad_term.py").write_text(PLUGIN.replace('{"success": True}', '{}').replace(
        "Marker(arg)", "Marker(arg)"))
    r = run(["--quiet", "--plugins", "bad_term", "--", "cmdline_test.py"])
    assert r.returncode == 1
    assert r.stderr.startswith("viztracer: a plugin failed: <bad_term.Marker object at")
    assert load(r.cwd + "/result.json")  # the trace was saved first
