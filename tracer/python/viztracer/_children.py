"""Child processes that start a new Python run traced too (docs/COMPAT.md, Processes).

The launcher calls install() in every process it traces. From then on:

* subprocess.Popen (through the fork_exec() it hands commands to) runs a
  command that starts python (``python3 x.py``,
  ``sys.executable -c ...``, ``-m mod``, a script whose ``#!`` line names
  python, the first command of a ``shell=True`` string) as
  ``viztracer <options> --subprocess_child DIR --python <its arguments>``;
  the executable parses the python3 command line itself, and runs what it
  cannot trace (stdin, ``-i``) with python3 unchanged;
* multiprocessing's spawn start method starts its children the same way,
  and its forkserver with ``--patch_only``: the server traces nothing, each
  process it forks starts tracing; the resource tracker is left alone;
* PYTHONPATH and sys.path name this package's folder, so that processes
  started in other ways (loky's workers) can follow VizTracer's
  init_kwargs recipe.

Each child saves DIR/result_<pid>.json; the parent merges them. Nothing
here runs on the program's hot path, only when a process is started.
"""

import os
import sys

# Only what every traced process needs is imported here: subprocess,
# shlex and multiprocessing are patched when the program imports them.


def _python_name(name):
    """python, python3, python3.11: a name that VizTracer rewrites too."""
    if not name.startswith("python"):
        return False
    rest = name[6:]
    if rest in ("", "3"):
        return True
    return rest.startswith("3.") and rest[2:].isdigit()


def _env_assignment(word):
    name, eq, _ = word.partition("=")
    return bool(eq) and name.replace("_", "a").isalnum() and not name[0].isdigit()


def _which(prog, env, cwd=None):
    """The file prog names, as the child's exec would find it (a path
    relative to the child's cwd, a name on PATH), or None."""
    if os.sep in prog:
        if cwd is not None:
            prog = os.path.join(os.fsdecode(cwd), prog)
        return prog if os.path.isfile(prog) and os.access(prog, os.X_OK) else None
    path = (env or os.environ).get("PATH", os.defpath)
    for folder in path.split(os.pathsep):
        cand = os.path.join(folder or ".", prog)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _venv_of(path):
    """The virtualenv folder a python executable belongs to, or None."""
    folder = os.path.dirname(os.path.abspath(path))
    for root in (folder, os.path.dirname(folder)):
        if os.path.isfile(os.path.join(root, "pyvenv.cfg")):
            return os.path.realpath(root)
    return None


def _is_python(prog, env, cwd=None):
    """True when prog (a command word) starts a python we can stand in for:
    python/python3/python3.X by name (as VizTracer rewrites them), or this
    interpreter under another name; not the python of another virtualenv,
    whose packages this process cannot give it, nor one that does not
    exist (Popen then fails as it would without us)."""
    found = _which(prog, env, cwd)
    if found is None:
        return False
    if not _python_name(os.path.basename(prog)):
        return _same_file(found, sys.executable)
    venv = _venv_of(found)
    mine = os.path.realpath(sys.prefix) if sys.prefix != sys.base_prefix else None
    return venv is None or venv == mine


def _shebang_args(prog, env, cwd=None):
    """[flags..., path] when prog is a script whose #! line names python
    (console scripts), else None."""
    found = _which(prog, env, cwd)
    if found is None or not os.path.isfile(found):
        return None
    try:
        with open(found, "rb") as f:
            line = f.readline(512)
    except OSError:
        return None
    if not line.startswith(b"#!"):
        return None
    try:
        words = line[2:].decode("utf-8").split()
    except UnicodeDecodeError:
        return None
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
    if not words or not _python_name(os.path.basename(words[0])):
        return None
    flags = words[1:]
    if any(not w.startswith("-") for w in flags):
        return None
    return flags + [found]


def _runs_viztracer(args):
    """python -m viztracer ...: already traced by its own viztracer."""
    for i, a in enumerate(args[:-1]):
        if a == "-m" and args[i + 1].split(".")[0] == "viztracer":
            return True
    return False


class _Rewriter:
    def __init__(self, vt_argv):
        self.vt_argv = list(vt_argv)

    def argv(self, args, env, patch_only=False, cwd=None):
        """The traced command line for args (a list) run in cwd, or None to
        leave it."""
        if not args or not isinstance(args[0], str):
            return None
        head = self.vt_argv + (["--patch_only"] if patch_only else []) + ["--python"]
        if _is_python(args[0], env, cwd):
            if _runs_viztracer(args[1:]):
                return None
            return (self.vt_argv + self._as(args[0], env, cwd) + head[len(self.vt_argv):] +
                    list(args[1:]))
        script = _shebang_args(args[0], env, cwd)
        if script is not None:
            return head + script + list(args[1:])
        return None

    @staticmethod
    def _as(prog, env, cwd):
        """--python_executable for a copy or link of this interpreter run
        by its path: the child gets that program path (sys.executable, the
        ._pth and pyvenv.cfg beside it) as under python3; [] else."""
        if os.sep not in prog:
            return []
        found = os.path.abspath(_which(prog, env, cwd))
        if found == sys.executable:
            return []
        import filecmp

        try:
            if not _same_file(found, sys.executable) and not filecmp.cmp(
                    found, sys.executable, shallow=False):
                return []
        except OSError:
            return []
        return ["--python_executable", found]

    def shell(self, cmd, env):
        """A shell command whose first command starts python, rewritten;
        the rest of the string is kept as written."""
        import shlex

        lexer = shlex.shlex(cmd, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            while True:
                start = lexer.instream.tell()
                word = lexer.get_token()
                if word is None or word == lexer.eof:
                    return None
                if not _env_assignment(word):
                    break
            end = lexer.instream.tell()
            rest = shlex.split(cmd[end:])
        except ValueError:
            return None
        if any(c in word for c in ";&|<>()`$"):
            return None
        if _is_python(word, env):
            if _runs_viztracer(rest):
                return None
            new = self.vt_argv + ["--python"]
        else:
            script = _shebang_args(word, env)
            if script is None:
                return None
            new = self.vt_argv + ["--python"] + script
        return cmd[:start] + " " + shlex.join(new) + " " + cmd[end:]


def _env_dict(env_list):
    """The environment fork_exec() gets (b"K=V" items, or None) as a dict."""
    if env_list is None:
        return None
    out = {}
    for item in env_list:
        k, _, v = os.fsdecode(item).partition("=")
        out[k] = v
    return out


def _own_lookup(a0, executable_list):
    """True when executable_list is what Popen derives from argv[0] a0 (no
    executable= given): a0 itself when it holds a folder, else a0 in each
    folder of PATH."""
    a0 = os.fsencode(a0)
    if os.path.dirname(a0):
        return tuple(executable_list) == (a0,)
    return len(executable_list) > 0 and all(os.path.basename(e) == a0 for e in executable_list)


def _rewrite(rw, args, cwd, env):
    """The argv that runs args traced (its [0] the program then run: ours,
    or the same shell), or None to run args as they are."""
    words = [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else a for a in args]
    if not words or not all(isinstance(w, str) for w in words):
        return None
    if len(words) >= 3 and words[1] == "-c" and os.path.basename(words[0]) == "sh":
        cmd = rw.shell(words[2], env)  # shell=True: the first command of the string
        return None if cmd is None else list(args[:2]) + [cmd] + list(args[3:])
    return rw.argv(words, env, cwd=cwd)


def _patch_popen(rw):
    """Rewrites a python child's command where Popen hands it to the OS,
    fork_exec(), not in Popen.__init__: Popen keeps its own functions,
    names, warnings and audit event, and an exception it raises (a missing
    program or cwd, found by the child and raised after fork_exec()
    returned) passes through no frame of ours. Popen's other way,
    os.posix_spawn() (3.13 takes it for most commands), is turned off by
    an audit hook for the commands that are rewritten only, so that the
    others keep it, with no wrapper of ours in their tracebacks either."""
    import subprocess

    fork_exec = subprocess._fork_exec
    if fork_exec is None:
        return
    use_spawn = subprocess._USE_POSIX_SPAWN

    def _fork_exec(args, executable_list, close_fds, pass_fds, cwd, env, *rest):
        try:
            new = None
            if _own_lookup(args[0], executable_list):
                new = _rewrite(rw, args, cwd, _env_dict(env))
            if new is not None:
                if os.fsencode(new[0]) != os.fsencode(args[0]):
                    executable_list = (os.fsencode(new[0]),)
                args = new
        except Exception:
            pass  # an unusual call is run as given, untraced
        return fork_exec(args, executable_list, close_fds, pass_fds, cwd, env, *rest)

    def choose_way(event, a):
        # Runs just before _execute_child reads _USE_POSIX_SPAWN, in the
        # thread that starts the command; must never raise.
        if event != "subprocess.Popen" or not use_spawn:
            return
        try:
            executable, args, cwd, env = a
            traced = (os.fsencode(executable) == os.fsencode(args[0])
                      and _rewrite(rw, args, cwd, env) is not None)
        except Exception:
            traced = False
        subprocess._USE_POSIX_SPAWN = not traced

    _like(_fork_exec, fork_exec)
    subprocess._fork_exec = _fork_exec
    sys.addaudithook(choose_way)


def _like(wrapper, original):
    """The names a program (or VizTracer's tests) looks at, as the original
    function's."""
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        try:
            setattr(wrapper, name, getattr(original, name))
        except (AttributeError, TypeError):
            pass  # a builtin without a __module__
    wrapper.__wrapped__ = original


def _patch_spawn(rw):
    from multiprocessing import util

    original = util.spawnv_passfds

    def spawnv_passfds(path, args, passfds):
        words = [os.fsdecode(a) for a in args]
        code = words[words.index("-c") + 1] if "-c" in words[:-1] else ""
        if "resource_tracker" not in code:
            new = rw.argv([os.fsdecode(path)] + words[1:], None,
                          patch_only="forkserver" in code)
            if new is not None:
                return original(os.fsencode(new[0]), new, passfds)
        return original(path, args, passfds)

    _like(spawnv_passfds, original)
    util.spawnv_passfds = spawnv_passfds


def install(tracer, folder, vt_argv):
    """Patches subprocess now and multiprocessing when it is imported."""
    if not vt_argv:
        return
    rw = _Rewriter(vt_argv)
    _when_imported("subprocess", lambda: _patch_popen(rw))
    # Processes started some other way (loky's workers) can import this
    # package, to follow the init_kwargs recipe (viztracer/_exit.py): they
    # get PYTHONPATH, or (workers that copy their parent's sys.path) the
    # end of sys.path, where only this package is found.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # Last, never first: a child of ours finds it on PYTHONPATH, which
    # would put it where python3 puts the program's own folders.
    # Not with -E, -I or a ._pth file, where python3 reads no PYTHONPATH:
    # sys.path is then the program's alone (a ._pth may name this folder).
    if not sys.flags.ignore_environment:
        while here in sys.path:
            sys.path.remove(here)
        sys.path.append(here)
    old = os.environ.get("PYTHONPATH")
    if here not in (old or "").split(os.pathsep):
        os.environ["PYTHONPATH"] = here + (os.pathsep + old if old else "")
    _when_imported("multiprocessing.util", lambda: _patch_spawn(rw))


def on_import(name, attr, arg):
    """Calls module name's attr(arg) now if it is loaded, else right after
    the program imports it (the tracer's threading.setprofile: importing
    threading ourselves would put it in sys.modules before the program)."""
    _when_imported(name, lambda: getattr(sys.modules[name], attr)(arg))


# name -> the patches waiting for its import, in the order given
_waiting = {}


def _when_imported(name, patch):
    """Runs patch() now if module name is loaded, else right after the
    program imports it: a meta path finder wraps the module's loader. No
    importlib.abc: it would import typing, pathlib and tempfile into every
    traced process."""
    if name in sys.modules:
        patch()
        return
    if name in _waiting:
        _waiting[name].append(patch)  # one finder per name runs them all
        return
    _waiting[name] = [patch]
    # The import system's own frozen module, loaded in every interpreter:
    # importlib.machinery is not imported by python3 -c on 3.12+.
    PathFinder = sys.modules["_frozen_importlib_external"].PathFinder

    class Loader:
        def __init__(self, loader, patches):
            self.loader = loader
            self.patches = patches

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            # The module keeps its own loader, as without us.
            spec = module.__spec__
            spec.loader = module.__loader__ = self.loader
            self.loader.exec_module(module)
            for patch in self.patches:
                try:
                    patch()
                except Exception:
                    pass  # children of this run are then not traced, or not named

    class Finder:
        @staticmethod
        def find_spec(fullname, path=None, target=None):
            if fullname != name:
                return None
            sys.meta_path.remove(Finder)
            patches = _waiting.pop(name, [])
            spec = PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = Loader(spec.loader, patches)
            return spec

    sys.meta_path.insert(0, Finder)
