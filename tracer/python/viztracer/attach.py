"""Remote attach, the traced process's side (docs/COMPAT.md, Remote attach).

`viztracer --attach PID` makes the process run start_attach(b64) and, after
-t seconds or Ctrl+C, stop_attach(); `viztracer --uninstall PID` runs
uninstall_attach(). The launcher (launcher/attach.c) runs these through ptrace
(launcher/inject.c) in the main thread. Names and arguments are VizTracer's, so a process that
imports VizTracer's own package can be attached by our launcher too.
"""

import base64
import builtins
import gc
import json
import sys

from viztracer import VizTracer, get_tracer

# Whether start_attach() created the global tracer (and stop_attach() must drop it).
_created = False


def start_attach(init_kwargs_b64):
    """Starts the global tracer with the launcher's VizTracer(**kwargs), given
    as URL-safe base64 of a JSON object; creates it when there is none.
    Returns False, printing why, when a tracer is already running."""
    global _created
    kwargs = json.loads(base64.urlsafe_b64decode(init_kwargs_b64).decode())
    tracer = get_tracer()
    if tracer is None:
        tracer = VizTracer(**kwargs)
        _created = True
    elif tracer.enable:
        print("Can't attach when VizTracer is already running.", file=sys.stderr, flush=True)
        return False
    else:
        tracer.__init__(**kwargs)
    print("Detected attaching viztracer, start tracing.", flush=True)
    tracer.start()
    return True


def stop_attach():
    """Stops the global tracer and saves its report; drops the tracer if
    start_attach() created it. Returns False when there is no tracer."""
    global _created
    tracer = get_tracer()
    if tracer is None:
        return False
    tracer.stop()
    tracer.save(verbose=False)
    if tracer.verbose:
        print(f"Saved report to {tracer.output_file}", flush=True)
    if _created:
        _drop(tracer)
    return True


def uninstall_attach():
    """Stops, empties and removes the global tracer, if any."""
    tracer = get_tracer()
    if tracer is not None:
        tracer.stop()
        _drop(tracer)


def _drop(tracer):
    global _created
    tracer.clear()
    builtins.__dict__.pop("__viz_tracer__", None)
    _created = False
    gc.collect()
