"""Plugins: objects that hear about the tracer's life cycle and may rewrite the
trace data before it is written (VizTracer's protocol; docs/COMPAT.md, Python API).

A plugin is a VizPluginBase instance, or a string "module args": the module
is imported and module.get_vizplugin("module args") must return the instance.
"""

import importlib

from viztracer import __version__


class VizPluginError(Exception):
    pass


class VizPluginBase:
    def __init__(self):
        pass

    def support_version(self):
        raise NotImplementedError("Plugin of viztracer has to implement support_version method")

    def message(self, m_type, payload):
        """Returns a dict: {} for nothing to do, {"action": "handle_data",
        "handler": f} to get f(data) called on the trace data before saving,
        {"success": True} in answer to a terminate command."""
        return {}


def _version_tuple(v):
    return tuple(int(x) for x in v.split(".")[:3] if x.isdigit())


def _load(spec):
    if isinstance(spec, VizPluginBase):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"a plugin must be a VizPluginBase or a 'module args' string, not {spec!r}")
    module = spec.split()[0] if spec.split() else spec
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise ValueError(f"plugin {spec!r}: cannot import {module}: {e}") from None
    factory = getattr(mod, "get_vizplugin", None)
    if factory is None:
        raise ValueError(f"plugin {spec!r}: module {module} has no get_vizplugin()")
    plugin = factory(spec)
    if not isinstance(plugin, VizPluginBase):
        raise ValueError(f"plugin {spec!r}: get_vizplugin() did not return a VizPluginBase")
    return plugin


class PluginManager:
    def __init__(self, tracer, plugins):
        self._tracer = tracer
        self._plugins = [_load(p) for p in plugins]
        self._handlers = []
        for p in self._plugins:
            wanted = p.support_version()
            if _version_tuple(wanted) > _version_tuple(__version__):
                print(f"Plugin {p.__class__.__name__} wants viztracer {wanted}, "
                      f"this is {__version__}; it may not work")
        self.event("initialize")

    @property
    def has_handlers(self):
        return bool(self._handlers)

    def event(self, when):
        for p in self._plugins:
            self._answer(p.message("event", {"when": when}))

    def _answer(self, reply):
        if isinstance(reply, dict) and reply.get("action") == "handle_data":
            self._handlers.append(reply["handler"])

    def handle_data(self, data):
        handlers, self._handlers = self._handlers, []
        for h in handlers:
            h(data)

    def terminate(self):
        for p in self._plugins:
            reply = p.message("command", {"cmd_type": "terminate"})
            if not (isinstance(reply, dict) and reply.get("success")):
                raise VizPluginError(f"{p} failed to terminate")
        self._plugins = []
