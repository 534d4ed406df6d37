"""Jupyter / IPython: `%load_ext viztracer`, then a cell that starts with
`%%viztracer` runs traced in the notebook's namespace and its report is saved
(default ./viztracer_report.json); the cell shows how to open it."""

import os
import shlex

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


def load_ipython_extension(ipython):
    ipython.register_magics(VizTracerMagics)
