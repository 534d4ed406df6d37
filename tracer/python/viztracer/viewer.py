"""VizTracer's ``viztracer.viewer``: ``viewer_main()`` and ``python3 -m
viztracer.viewer`` run vizviewer (the C server of viewer/, our executable)
with sys.argv[1:].

The server never opens the browser itself here: Python's ``webbrowser``
does, once the server prints the address it listens on, as VizTracer's
viewer_main does (programs and tests that replace webbrowser.open_new_tab
see the call). Ctrl+C stops the server and returns 0, as VizTracer's.
"""

import re
import signal
import subprocess
import sys

from viztracer.__main__ import _find_executable

# The line vizviewer prints once it listens (viewer/viewer.c, serve()).
_READY = re.compile(r"view your trace on http://[^:/\s]+:(\d+)")


def _server_only(args):
    """True when the command line asks for no browser: -s, --server_only,
    or an s among grouped short flags before a p, whose argument the rest
    is (-sp 9002)."""
    for a in args:
        if a == "--server_only":
            return True
        if a.startswith("-") and not a.startswith("--") and "s" in a[1:].partition("p")[0]:
            return True
    return False


def viewer_main():
    """vizviewer with sys.argv[1:]; returns its exit status."""
    exe = _find_executable()
    if exe is None:
        print("vizviewer: the viztracer executable was not found", file=sys.stderr)
        return 1
    args = sys.argv[1:]
    browse = not _server_only(args)
    proc = subprocess.Popen([exe, "view", "-s"] + args, stdout=subprocess.PIPE, text=True,
                            errors="replace")
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            ready = _READY.search(line)
            if ready and browse:
                browse = False
                import webbrowser  # only when a browser is wanted, as VizTracer

                webbrowser.open_new_tab("http://127.0.0.1:%s" % ready.group(1))
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        for line in proc.stdout:
            sys.stdout.write(line)
        sys.stdout.flush()
        proc.wait()
        return 0
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(viewer_main())
