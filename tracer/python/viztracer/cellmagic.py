"""Jupyter / IPython: `%load_ext viztracer`, then a cell that starts with
`%%viztracer` runs traced in the notebook's namespace and its report is saved
(default ./viztracer_report.json); the cell then serves it once with
vizviewer (port -p, 9001) and shows a "VizTracer Report" link to it."""

import os
import shlex
import subprocess

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring


@magics_class
class VizTracerMagics(Magics):
    @magic_arguments()
    @argument("--port", "-p", default=9001, type=int, help="port of the viewer")
    @argument("--output_file", default="./viztracer_report.json")
    @argument("--max_stack_depth", default=-1, type=int)
    @argument("--ignore_c_function", action="store_true")
    @argument("--ignore_frozen", action="store_true")
    @argument("--log_func_args", action="store_true")
    @argument("--log_print", action="store_true")
    @argument("--log_sparse", action="store_true")
    @cell_magic
    def viztracer(self, line, cell, local_ns=None):
        from viztracer import VizTracer

        args = parse_argstring(self.viztracer, line)
        code = self.shell.transform_cell(cell)
        ns = local_ns if local_ns is not None else self.shell.user_ns
        tracer = VizTracer(verbose=0, output_file=args.output_file,
                           max_stack_depth=args.max_stack_depth,
                           ignore_c_function=args.ignore_c_function,
                           ignore_frozen=args.ignore_frozen,
                           log_func_args=args.log_func_args, log_print=args.log_print,
                           log_sparse=args.log_sparse, register_global=False)
        compiled = compile(code, "<viztracer cell>", "exec")
        with tracer:
            exec(compiled, ns)
        path = os.path.abspath(args.output_file)
        print(f"VizTracer report saved to {path}")
        print(f"Open it with: vizviewer --port {args.port} {shlex.quote(path)}")
        url = _serve(path, args.port)
        if url:
            _show_link(url)


def _viewer_executable():
    from viztracer.__main__ import _find_executable
    return _find_executable()


def _serve(path, port, wait=600):
    """Serves the report once in the background (for `wait` seconds at most)
    and returns its URL, or None when no viewer could start."""
    exe = _viewer_executable()
    if exe is None:
        return None
    proc = subprocess.Popen([exe, "view", "--once", "-s", "--timeout", str(wait), "-p", str(port),
                             path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # the server says where it listens, or exits
    while line and "http://" not in line:
        line = proc.stdout.readline()
    if "http://" not in line:
        err = proc.stderr.read().strip()
        print(f"vizviewer did not start: {err}" if err else "vizviewer did not start")
        return None
    return line[line.index("http://"):].strip()


def _show_link(url):
    try:
        from IPython.display import HTML, display
        display(HTML(f'<a href="{url}" target="_blank">VizTracer Report</a>'))
    except ImportError:  # pragma: no cover - IPython is what runs this file
        print(url)


def load_ipython_extension(ipython):
    ipython.register_magics(VizTracerMagics)
