"""`python3 -m viztracer ...` hands over to the viztracer executable."""

import os
import shutil
import sys


def _find_executable():
    here = os.path.dirname(os.path.abspath(__file__))
    # build/python/viztracer -> build/bin; PREFIX/lib/viztracer/python/viztracer -> PREFIX/bin
    for rel in ("../../bin/viztracer", "../../../../bin/viztracer"):
        path = os.path.normpath(os.path.join(here, rel))
        if os.access(path, os.X_OK):
            return path
    return shutil.which("viztracer")


def main():
    exe = _find_executable()
    if exe is None:
        sys.stderr.write("viztracer: the viztracer executable was not found\n")
        sys.exit(1)
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    main()
