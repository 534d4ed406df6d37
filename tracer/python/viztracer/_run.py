"""The launcher's Python before a program runs (launcher/embed_main.c,
embed_children.c): __main__ prepared as python3 would for a script, -c or
-m, and the SIGTERM handler installed. Nothing here is traced: it runs
before tracing starts, and our files are filtered out of the trace.

Only os, _signal and sys are imported (runpy only for -m): every traced
process loads this.
"""

import os
import _signal as signal  # not signal, which imports enum: python3 -c imports neither
import sys


def install_sigterm(handler, kick, untraced):
    """Makes handler (the launcher's: SystemExit(143)) SIGTERM's handler
    when SIGTERM has its default action, then calls kick() (termkick.h).
    With untraced (--ignore_multiprocess), forked children get the default
    back, as under python3: a pool's terminate() must kill its workers, not
    raise SystemExit inside them."""
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, handler)
    kick()

    def default_term():
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if untraced:
        os.register_at_fork(after_in_child=default_term)


def prepare_script(g, path, real, path0):
    """__main__'s globals g for the script at path (real: its resolved
    path); with path0, the script's folder is sys.path[0]."""
    if path0:
        sys.path.insert(0, os.path.dirname(real))
    g["__file__"] = os.path.abspath(path)
    g["__cached__"] = None
    sys.modules["__mp_main__"] = sys.modules["__main__"]


def prepare_string(path0):
    """For -c: with path0, "" is sys.path[0]."""
    if path0:
        sys.path.insert(0, "")


def prepare_module(g, mod, path0):
    """For -m mod: __main__'s globals g get runpy's metadata of mod (with
    path0, the current folder is sys.path[0] first). Returns the module's
    code object; raises ImportError when there is no such module."""
    import runpy

    if path0:
        sys.path.insert(0, os.getcwd())
    name, spec, code = runpy._get_module_details(mod)
    g.update(__name__="__main__", __file__=spec.origin, __cached__=spec.cached, __doc__=None,
             __loader__=spec.loader, __package__=spec.parent, __spec__=spec)
    if spec.has_location:
        sys.argv[0] = spec.origin
    sys.modules["__mp_main__"] = sys.modules["__main__"]
    return code
