"""objprint's text of an object, for --log_func_with_objprint and log_var.

VizTracer takes objprint.objstr(obj, color=False) from the objprint package
(0.3); this gives the same text with objprint's default settings, so the
package need not be installed: str as 'text', numbers and None as str(),
a function as <function name>, lists, tuples, sets and dicts packed on one
line when short (their items' texts under 80 characters and none with a
newline) and one item per line, indented by 2, when not; dict items sorted
when they can be; an object that overrides __str__ or __repr__ as str(obj);
any other object as <Type 0xID> with one ".attr = value" line per public
attribute that is not a method, sorted. An object met again inside itself
is <Type 0xID ... > (or [ ... ], ( ... ), { ... }); 100 levels at most.

It runs inside the tracer's hook (the tracer does not record its calls) and
never raises: what fails gives "Not Displayable" (capture.c).
"""

import re
from types import FunctionType

_INDENT = 2
_WIDTH = 80
_DEPTH = 100
_PUBLIC = re.compile(r"(?!_).*")
_PACK = {list: ("[", "]"), tuple: ("(", ")"), dict: ("{", "}"), set: ("{", "}")}


def objstr(obj):
    return _text(obj, set(), 0)


def _ends(obj):
    ends = _PACK.get(type(obj))
    if ends is not None:
        return ends
    return f"<{type(obj).__name__} {hex(id(obj))}", ">"


def _text(obj, memo, level):
    if isinstance(obj, str):
        return f"'{obj}'"
    if isinstance(obj, (int, float)) or obj is None:
        return str(obj)
    if isinstance(obj, FunctionType):
        return f"<function {obj.__name__}>"
    if memo is not None and id(obj) in memo or level >= _DEPTH:
        head, foot = _ends(obj)
        return f"{head} ... {foot}"
    if memo is not None:
        memo = memo | {id(obj)}
    if isinstance(obj, (list, tuple, set)):
        elems = [_text(v, memo, level + 1) for v in obj]
    elif isinstance(obj, dict):
        items = list(obj.items())
        try:
            items = sorted(items)
        except TypeError:
            pass
        elems = [f"{_text(k, None, level + 1)}: {_text(v, memo, level + 1)}" for k, v in items]
    else:
        cls = obj.__class__
        if cls.__str__ is not object.__str__ or cls.__repr__ is not object.__repr__:
            lines = str(obj).split("\n")
            lines[1:] = [" " * (level * _INDENT) + line for line in lines[1:]]
            return "\n".join(lines)
        elems = _attr_lines(obj, memo, level)
    return _pack(elems, obj, level)


def _attr_lines(obj, memo, level):
    import inspect
    attrs = []
    for attr in dir(obj):
        if not _PUBLIC.fullmatch(attr):
            continue
        try:
            val = getattr(obj, attr)
        except AttributeError:
            continue
        if not (inspect.ismethod(val) or inspect.isbuiltin(val)):
            attrs.append(attr)
    return [f".{a} = {_text(getattr(obj, a), memo, level + 1)}" for a in sorted(attrs)]


def _pack(elems, obj, level):
    head, foot = _ends(obj)
    multiline = (len(head) > 1 and elems) or any("\n" in e for e in elems) \
        or sum(len(e) for e in elems) > _WIDTH
    if multiline:
        pad = " " * ((level + 1) * _INDENT)
        body = ",\n".join(pad + e for e in elems)
        return f"{head}\n{body}\n{' ' * (level * _INDENT)}{foot}"
    return f"{head}{', '.join(elems)}{foot}"
