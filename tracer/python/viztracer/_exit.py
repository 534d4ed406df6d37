"""VizTracer.register_exit(): stop and save when the process exits.

Used by processes the launcher did not start itself (loky's workers build
their tracer from the parent's ``init_kwargs``; docs/COMPAT.md, Processes). Exits covered:
the interpreter's normal end (atexit), a multiprocessing worker's end (its
finalizers run before ``os._exit``) and SIGTERM (a clean exit instead of
death, as in VizTracer). When the output goes into the launcher's folder
for child processes, a marker tells the parent to wait for this process.
"""

import atexit
import os
import signal
import sys
import threading


def _launcher_folder(tracer):
    folder = os.path.dirname(os.path.abspath(tracer.output_file))
    if os.path.basename(folder).startswith("viztracer-") and os.path.isdir(folder):
        return folder
    return None


def register_exit(tracer):
    folder = _launcher_folder(tracer)
    marker = None
    if folder is not None:
        marker = os.path.join(folder, "%d.viztmp" % os.getpid())
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError:
            marker = None
    done = []

    def exit_routine():
        if done:
            return
        done.append(True)
        try:
            tracer.stop()
            if folder is None or os.path.isdir(folder):
                tracer.save()
        finally:
            if marker is not None:
                try:
                    os.unlink(marker)
                except OSError:
                    pass

    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    from multiprocessing.util import Finalize
    Finalize(None, exit_routine, exitpriority=-1)
    atexit.register(exit_routine)
