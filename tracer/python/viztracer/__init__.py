"""viztracer in C: the tracer is the C module viztracer._core; this file only
re-exports its API so that `from viztracer import VizTracer` works both inside
a program run by the `viztracer` executable and from a plain python3."""

from viztracer._core import (  # noqa: F401
    VizTracer,
    __version__,
    get_tracer,
    ignore_function,
    log_sparse,
    trace_and_save,
)

from viztracer import _core as _c  # noqa: E402

# Our Python files never show in a trace (unless trace_self).
_c._set_glue_dir(__path__[0])
del _c

__all__ = [
    "VizCounter",
    "VizLoggingHandler",
    "VizObject",
    "VizTracer",
    "__version__",
    "get_tracer",
    "ignore_function",
    "log_sparse",
    "trace_and_save",
]


def load_ipython_extension(ipython):
    """`%load_ext viztracer` in IPython / Jupyter: registers %%viztracer."""
    from viztracer.cellmagic import load_ipython_extension as load
    load(ipython)


_LAZY = {"VizCounter": "vizcounter", "VizObject": "vizobject", "VizLoggingHandler": "vizlogging"}


def __getattr__(name):
    # Imported on first use: logging is not loaded into every traced program.
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"viztracer.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'viztracer' has no attribute {name!r}")
