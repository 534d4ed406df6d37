"""The traced process's side of the children scheme (launcher/children.h).

The launcher calls setup() before the program runs, in every process it
traces. In a child, right after fork: the tracer drops the parent's events,
a marker "<pid>.viztmp" in the folder says the child runs, and os._exit (how
multiprocessing and pool workers end) first saves the child's trace as
"result_<pid>.json". SIGTERM is blocked across fork, and in the child the
launcher's SIGTERM handler (which raises SystemExit, and can be swallowed,
leaving a pool's join hanging) is replaced by one that saves and dies by
SIGTERM at once, as SIG_DFL would; a child's save blocks SIGTERM, so a pool's
terminate() cannot cut it short. A forked child that replaces itself with
os.exec* saves first (an audit hook), so the parent does not wait for the
program it became.

In a child started by subprocess or multiprocessing's spawn (``child``), the
marker is written at once; in multiprocessing's forkserver (``patch_only``)
nothing is traced, but each child it forks starts tracing. _children.py
makes subprocess and spawn run children under ``vt_argv`` (the launcher,
its options, --subprocess_child folder); _exit.py writes the same marker
for processes the launcher did not start.

Only os, _signal and sys are imported: every traced process loads this.
"""

import os
import _signal as signal  # not signal, which imports enum: python3 -c imports neither
import sys


class _Scheme:
    """One process's part: save_child() and save_parent(path) for the
    launcher, the fork and exec hooks for the interpreter."""

    def __init__(self, tracer, folder, child, patch_only, kick, kicked):
        self.tracer = tracer
        self.folder = folder
        self.child = child
        self.patch_only = patch_only
        self.kick = kick  # termkick.h: after installing our SIGTERM handler
        self.kicked = kicked  # ... and first thing in it
        self.marker = None
        self.saved = False
        self.saving = False
        self.forked = False
        self.mask = None
        self.terminating = False
        self.real_exit = os._exit

    def process_name(self):
        mp = sys.modules.get("multiprocessing")
        try:
            name = mp.current_process().name if mp else "MainProcess"
        except AttributeError:  # SIGTERM while multiprocessing is still being imported
            name = "MainProcess"
        if name == "MainProcess" and self.child:
            name = _program_name()
        return name

    def name_process(self):
        if self.tracer.process_name is None:
            self.tracer.process_name = self.process_name()

    def name_shared(self, *unused):
        """The name the trace carries should this process die before
        saving (the supervisor writes it; crash.c): set when a child starts,
        and again when multiprocessing has made the process its own
        (Process._bootstrap runs its after-fork hooks then, in every start
        method), once per process, off the hot path."""
        try:
            self.tracer._name_shared(self.process_name())
        except Exception:
            pass  # a crash trace then says MainProcess

    def save_child(self):
        """Saves a child's trace into the folder, once; never raises."""
        if self.marker is None or self.saved:
            return
        if not os.path.isdir(self.folder):
            return  # the parent has merged and gone: too late to add
        # SIGTERM is blocked first; one that came just before still runs
        # child_term() at some bytecode of the save, which then only asks
        # for the death by SIGTERM that follows the save.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        self.saved = True
        self.saving = True
        try:
            self.tracer.stop()
            self.name_process()
            self.tracer.pid_suffix = False
            self.tracer.save(output_file=os.path.join(self.folder, "result_%d.json" % os.getpid()),
                             verbose=False)
        except BaseException:
            pass
        self.saving = False
        try:
            os.unlink(self.marker)
        except OSError:
            pass
        if self.terminating:
            self.die(signal.SIGTERM)

    def save_parent(self, path):
        """Saves the parent's own trace to path for the merge; the parent's
        pid_suffix applies to the merged output only."""
        suffix = self.tracer.pid_suffix
        self.tracer.pid_suffix = False
        try:
            self.tracer.save(output_file=path, verbose=False)
        finally:
            self.tracer.pid_suffix = suffix

    def child_exit(self, code):
        self.save_child()
        self.real_exit(code)

    def child_term(self, signum, frame):
        self.kicked()
        if self.terminating:
            return  # a repeated SIGTERM while the first one saves
        self.terminating = True
        if self.saving:
            return  # os._exit's save is under way: it dies when done
        self.save_child()
        self.die(signum)

    def die(self, signum):
        """Dies by the signal, as it would have without us (the save blocked it)."""
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
        self.real_exit(128 + signum)

    def unblock(self):
        mask, self.mask = self.mask, None
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def mark_child(self):
        self.saved = False
        self.marker = os.path.join(self.folder, "%d.viztmp" % os.getpid())
        if not _touch(self.marker):
            self.marker = None
        os._exit = self.child_exit
        self.name_shared()
        h = signal.getsignal(signal.SIGTERM)
        if getattr(h, "__name__", "") == "_viztracer_sigterm":
            signal.signal(signal.SIGTERM, self.child_term)
            self.kick()

    def after_fork(self):
        try:
            self.tracer._after_fork()
            self.mark_child()
            if self.patch_only:
                self.tracer.start()
        finally:
            self.unblock()

    def before_fork(self):
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        if not self.forked:
            self.forked = True
            _touch(os.path.join(self.folder, "forked"))

    def on_exec(self, event, args):
        if event == "os.exec" and self.marker is not None:
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
            self.save_child()
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _program_name():
    """A child's process name as VizTracer gives it: "python -c", the
    module of -m (VizTracer's sys.argv[0]: "timeit", not timeit.py's path),
    else the script's file name."""
    if sys.argv[0] == "-c":
        return "python -c"
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if name and name != "__main__":  # -m; a folder or zip's __main__ is "__main__"
        return name[:-len(".__main__")] if name.endswith(".__main__") else name
    return os.path.basename(sys.argv[0])


def _touch(path):
    """Creates an empty file; False when it cannot."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError:
        return False
    return True


def setup(tracer, folder, vt_argv, child, patch_only, kick, kicked):
    """Registers the fork and exec hooks for tracer, whose children save into
    folder, and patches subprocess and multiprocessing's spawn to run
    children under vt_argv (None: they are not). Returns the _Scheme, whose
    save_child() and save_parent(path) the launcher calls at the end."""
    s = _Scheme(tracer, folder, child, patch_only, kick, kicked)
    os.register_at_fork(before=s.before_fork, after_in_parent=s.unblock,
                        after_in_child=s.after_fork)
    sys.addaudithook(s.on_exec)
    if child and not patch_only:
        s.mark_child()
    if patch_only:  # the parent need not wait for the server to start
        _touch(os.path.join(folder, "%d.server" % os.getpid()))
    tracer._child_output = os.path.join(folder, "result.json")
    from viztracer import _children
    _children.install(tracer, folder, vt_argv)
    _children._when_imported("multiprocessing.util", lambda: _name_after_fork(s))
    _children._when_imported("multiprocessing.spawn", lambda: _name_after_prepare(s))
    return s


def _name_after_fork(s):
    """multiprocessing names a forked (fork, forkserver) process in
    Process._bootstrap, then runs its after-fork hooks there."""
    # s is held weakly there, and by the launcher
    sys.modules["multiprocessing.util"].register_after_fork(s, _Scheme.name_shared)


def _name_after_prepare(s):
    """A spawned process's name comes with spawn.prepare(), the first step
    of its spawn_main (SpawnProcess runs no after-fork hooks)."""
    from viztracer._children import _like
    spawn = sys.modules["multiprocessing.spawn"]
    original = spawn.prepare

    def prepare(data, *args, **kwargs):
        r = original(data, *args, **kwargs)
        s.name_shared()
        return r

    _like(prepare, original)
    spawn.prepare = prepare
