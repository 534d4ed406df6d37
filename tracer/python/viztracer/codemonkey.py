"""Source instrumentation of the main script (--log_var, --log_number,
--log_attr, --log_func_exec, --log_func_entry, --magic_comment, and the
raise statements for --log_exception).

The launcher compiles the script through compile_source() instead of the
builtin compile(); the inserted statements call the global tracer
(builtins.__viz_tracer__). Regular expressions match whole names
(re.fullmatch). This runs once, before tracing starts; the inserted calls run
in the program and are C methods of the tracer, so nothing of this file shows
in a trace.
"""

import ast
import re

_MAGIC_CALL = re.compile(r"^(\s*)#\s*!viztracer:\s*(log_\w+\s*\(.*\))\s*$")
_MAGIC_TAIL = re.compile(r"^(\s*)(\S.*?)\s*#\s*!viztracer:\s*log(?:\s+if\s+(.+?))?\s*$")


def _tracer_call(method, *args):
    return ast.Expr(value=ast.Call(
        func=ast.Attribute(value=ast.Name(id="__viz_tracer__", ctx=ast.Load()), attr=method,
                           ctx=ast.Load()),
        args=list(args), keywords=[]))


def _names_of(target):
    """Plain names bound by an assignment target (through tuples, lists,
    starred items, and the bases of attributes and subscripts)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names_of(elt)]
    if isinstance(target, ast.Starred):
        return _names_of(target.value)
    if isinstance(target, (ast.Attribute, ast.Subscript)):
        return _names_of(target.value)
    return []


def _attr_targets(target):
    """The attributes an assignment target assigns to, as VizTracer's
    --log_attr sees them: an attribute itself, or one in a tuple or list;
    not one inside a subscript (s.lst[0] = v) or a starred item (*s.a)."""
    if isinstance(target, ast.Attribute):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [a for elt in target.elts for a in _attr_targets(elt)]
    return []


def _targets(node):
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target] if getattr(node, "value", True) is not None else []
    return []


def _patterns(opts, key):
    out = []
    for p in opts.get(key) or []:
        try:
            out.append(re.compile(p))
        except re.error as e:
            raise ValueError(f"invalid regular expression {p!r} for --{key}: {e}") from None
    return out


def check(opts):
    """Raises ValueError, with a one-line message, for an invalid pattern."""
    for key in ("log_var", "log_number", "log_attr", "log_func_exec", "log_func_entry"):
        _patterns(opts, key)


class _Monkey(ast.NodeTransformer):
    def __init__(self, opts):
        self.exception = bool(opts.get("log_exception"))
        self.var = _patterns(opts, "log_var")
        self.number = _patterns(opts, "log_number")
        self.attr = _patterns(opts, "log_attr")
        self.func_exec = _patterns(opts, "log_func_exec")
        self.func_entry = _patterns(opts, "log_func_entry")
        self.in_exec = []

    @staticmethod
    def _match(patterns, name):
        return any(p.fullmatch(name) for p in patterns)

    def _after(self, node, names, lineno):
        out = []
        for name in dict.fromkeys(names):
            load = ast.Name(id=name, ctx=ast.Load())
            if self._match(self.number, name):
                out.append(_tracer_call("add_variable", ast.Constant(f"Variable Assign - {name}"),
                                        load, ast.Constant("counter")))
            elif self._match(self.var, name):
                out.append(_tracer_call("add_variable", ast.Constant(f"Variable Assign - {name}"),
                                        load, ast.Constant("instant")))
            if self.in_exec and self.in_exec[-1]:
                out.append(_tracer_call("add_func_exec", ast.Constant(name),
                                        ast.Name(id=name, ctx=ast.Load()), ast.Constant(lineno)))
        return out

    def _attrs(self, targets):
        out = []
        for node in (a for t in targets for a in _attr_targets(t)):
            if self._match(self.attr, node.attr):
                text = ast.unparse(node)
                out.append(_tracer_call("add_variable",
                                        ast.Constant(f"Attribute Assign - {text}"),
                                        ast.parse(text, mode="eval").body,
                                        ast.Constant("instant")))
        return out

    def visit_Raise(self, node):
        """--log_exception: raise X becomes raise __viz_tracer__._log_raise(X),
        which records X where it is raised (also when the same function
        catches it) and gives it back, so X is evaluated once. A bare raise
        is left alone: what it re-raises was recorded where it was raised,
        or is when it leaves the function."""
        if not self.exception or node.exc is None:
            return node
        node.exc = ast.Call(
            func=ast.Attribute(value=ast.Name(id="__viz_tracer__", ctx=ast.Load()),
                               attr="_log_raise", ctx=ast.Load()),
            args=[self.visit(node.exc)], keywords=[])
        return node

    def _assign(self, node):
        targets = _targets(node)
        names = [n for t in targets for n in _names_of(t)]
        return [node] + self._after(node, names, node.lineno) + self._attrs(targets)

    visit_Assign = visit_AugAssign = visit_AnnAssign = _assign

    def visit_For(self, node):
        self.generic_visit(node)
        extra = self._after(node, _names_of(node.target), node.lineno)
        node.body = extra + node.body
        return node

    visit_AsyncFor = visit_For

    def _function(self, node):
        self.in_exec.append(self._match(self.func_exec, node.name))
        self.generic_visit(node)
        self.in_exec.pop()
        head = []
        if self._match(self.func_entry, node.name):
            head.append(_tracer_call("add_variable",
                                     ast.Constant(f"Function Entry - {node.name}"),
                                     ast.Constant(f"{node.name} is called"),
                                     ast.Constant("instant")))
        a = node.args
        params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
        params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
        head += [c for c in self._after(node, params, node.lineno)
                 if c.value.func.attr == "add_variable"]
        node.body = head + node.body
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function


def _magic(source):
    lines = source.split("\n")
    for i, line in enumerate(lines):
        m = _MAGIC_CALL.match(line)
        if m:
            lines[i] = f"{m.group(1)}__viz_tracer__.{m.group(2)}"
            continue
        m = _MAGIC_TAIL.match(line)
        if not m:
            continue
        indent, stmt, cond = m.groups()
        cond_arg = f", cond=({cond})" if cond else ""
        try:
            tree = ast.parse(stmt.strip())
            node = tree.body[0] if len(tree.body) == 1 else None
        except SyntaxError:
            node = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            lhs = ast.unparse(node.targets[0])
            call = f"__viz_tracer__.log_var({lhs!r}, ({lhs}){cond_arg})"
        else:
            call = f"__viz_tracer__.log_instant({stmt.strip()!r}{cond_arg})"
        # Same line, so line numbers do not move.
        lines[i] = f"{indent}{stmt}; {call}"
    return "\n".join(lines)


def compile_source(source, filename, opts):
    """Compiles source (bytes or str) with the instrumentation opts asks for:
    a dict of lists of regular expressions (log_var, log_number, log_attr,
    log_func_exec, log_func_entry) and magic_comment (bool)."""
    if isinstance(source, bytes):
        import io
        import tokenize
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        source = source.decode(encoding)
    if opts.get("magic_comment"):
        source = _magic(source)
    tree = ast.parse(source, filename)
    tree = ast.fix_missing_locations(_Monkey(opts).visit(tree))
    return compile(tree, filename, "exec", dont_inherit=True)
