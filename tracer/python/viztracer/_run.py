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


def _main_importer(path):
    """True when python3 runs path as a directory or zip file holding a
    __main__ module (it has an importer: a folder, or a zip such as a .pyz)."""
    if os.path.isdir(path):
        return True
    import zipimport  # loaded at start-up: the zip path hook

    try:
        zipimport.zipimporter(path)
    except (zipimport.ZipImportError, OSError):
        return False
    return True


def prepare_script(g, path, real, path0):
    """__main__'s globals g for the script at path (real: its resolved
    path); with path0, the script's folder is sys.path[0]. Returns None
    (the launcher compiles the script), or for a directory or zip file the
    code of its __main__ module, prepared as python3 does: path first on
    sys.path (even with -P), runpy's metadata, sys.argv[0] as given."""
    if _main_importer(path):
        import runpy

        sys.path.insert(0, os.path.abspath(path))
        try:
            name, spec, code = runpy._get_main_module_details(runpy._Error)
        except runpy._Error as exc:
            raise SystemExit("%s: %s" % (sys.executable, exc)) from None
        g.update(__name__="__main__", __file__=spec.origin, __cached__=spec.cached,
                 __doc__=None, __loader__=spec.loader, __package__=spec.parent, __spec__=spec)
        sys.modules["__mp_main__"] = sys.modules["__main__"]
        return code
    if path0:
        sys.path.insert(0, os.path.dirname(real))
    g["__file__"] = os.path.abspath(path)
    g["__cached__"] = None
    sys.modules["__mp_main__"] = sys.modules["__main__"]
    # As python3's runner: the loader that would load the file, and a
    # compiled script (.pyc, or the magic number first) run from its code.
    machinery = sys.modules["_frozen_importlib_external"]
    with open(path, "rb") as f:
        head = f.read(2)
    if not (path.endswith(".pyc") or head == machinery.MAGIC_NUMBER[:2]):
        g["__loader__"] = machinery.SourceFileLoader("__main__", g["__file__"])
        return None
    g["__loader__"] = machinery.SourcelessFileLoader("__main__", g["__file__"])
    import marshal

    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != machinery.MAGIC_NUMBER:
        raise RuntimeError("Bad magic number in .pyc file")
    code = marshal.loads(data[16:])
    if type(code) is not type(prepare_script.__code__):
        raise RuntimeError("Bad code object in .pyc file")
    return code


def prepare_string(path0):
    """For -c: with path0, "" is sys.path[0]."""
    if path0:
        sys.path.insert(0, "")


def register_string_source(source):
    """For -c, from 3.13 on: python3 keeps the source of "<string>" in
    linecache, so warnings and tracebacks show its lines."""
    if sys.version_info >= (3, 13):
        import linecache  # python3 -c has it loaded on 3.13
        lines = [line + "\n" for line in source.splitlines()]
        linecache.cache["<string>"] = (len(source), None, lines, "<string>")


def prepare_module(g, mod, path0, child):
    """For -m mod: __main__'s globals g get runpy's metadata of mod (with
    path0, the current folder is sys.path[0] first), and sys.argv[0] is
    "-m" while the module is found, then its file, as runpy does. Returns
    the module's code object. No such module: SystemExit with python3's
    message in a child (child), with ours otherwise; an error raised while
    importing its package propagates, with its traceback, as under python3."""
    import runpy

    if path0:
        sys.path.insert(0, os.getcwd())
    sys.argv[0] = "-m"
    try:
        name, spec, code = runpy._get_module_details(mod, runpy._Error)
    except runpy._Error as exc:
        raise SystemExit("%s: %s" % (sys.executable, exc) if child else
                         "viztracer: %s: %s" % (mod, exc)) from None
    g.update(__name__="__main__", __file__=spec.origin, __cached__=spec.cached, __doc__=None,
             __loader__=spec.loader, __package__=spec.parent, __spec__=spec)
    sys.argv[0] = spec.origin
    sys.modules["__mp_main__"] = sys.modules["__main__"]
    return code


def source_error(src, filename):
    """python3 reads a script through its file tokenizer, whose errors for
    a source it cannot decode differ from compile()'s of the bytes ("(unicode
    error) ..."). Returns python3's SyntaxError when src (the script's bytes,
    which compile() refused) is such a source, else None; the launcher
    raises it, without frames of ours."""
    import re

    if src.startswith(b"\xef\xbb\xbf"):
        return None
    lines = src.split(b"\n")
    cookie = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
    for k, line in enumerate(lines[:2]):
        # PEP 263, as tokenize.detect_encoding reads it: line 2 only after
        # a blank or comment line 1
        m = cookie.match(line)
        if m:
            name = m.group(1).decode("ascii", "replace")
            try:
                src.decode(name)
            except (LookupError, UnicodeDecodeError):
                return SyntaxError("encoding problem: %s" % name)
            return None
        if k == 0 and not re.match(rb"^[ \t\f]*(?:[#\r]|$)", line):
            break
    try:
        src.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    for lineno, line in enumerate(lines, 1):
        i = 0
        while i < len(line):
            n = _utf8_length(line, i)
            if n == 0:
                return SyntaxError(
                    "Non-UTF-8 code starting with '\\x%.2x' in file %s on line %d, but no encoding"
                    " declared; see https://peps.python.org/pep-0263/ for details"
                    % (line[i], filename, lineno))
            i += n
    return None


def _utf8_length(s, i):
    """The tokenizer's own check (Parser/tokenizer.c, valid_utf8): the length
    of the sequence at s[i], 0 when it is not UTF-8."""
    c = s[i]
    if c < 0x80:
        return 1
    if c < 0xC0 or c >= 0xF8:
        return 0
    expected = 1 if c < 0xE0 else 2 if c < 0xF0 else 3
    for k in range(1, expected + 1):
        if i + k >= len(s) or not 0x80 <= s[i + k] < 0xC0:
            return 0
    return expected + 1
