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

__all__ = [
    "VizTracer",
    "__version__",
    "get_tracer",
    "ignore_function",
    "log_sparse",
    "trace_and_save",
]
