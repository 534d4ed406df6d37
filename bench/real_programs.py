"""Real programs that nobody here wrote, from Debian's packages, for make bench.

Each is run as a whole process (start to exit, with the trace or the profile
written) untraced, under `python3 -m cProfile` and under viztracer, the modes
taking turns, and the median of REPEAT runs is kept. The inputs are copies of
standard-library files made in a private folder, so every run does the same
work: a formatter (black), a linter (pylint), a type checker (mypy, compiled
with mypyc: mostly C calls) and a documentation generator (sphinx, autodoc over
four standard modules). On an interpreter other than Debian's python3 (the
pyenv builds), Debian's pure-Python packages are put on PYTHONPATH
(/usr/lib/python3/dist-packages: compiled modules built for 3.11 are not
loaded there, so mypy runs as plain Python), the same for every mode.
Caches are kept out of the way (black's cache folder
is private, mypy runs without incremental mode, sphinx rebuilds its
environment with -E).
"""

import math
import os
import shutil
import statistics
import subprocess
import sys
import time

STDLIB = "/usr/lib/python3.11"
DEBIAN_PACKAGES = "/usr/lib/python3/dist-packages"


def program_env(python):
    """The environment the programs run in under every mode."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # The interpreter is the environment's python3, so that viztracer runs
    # its build for it (launcher/interp.c).
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    if os.path.realpath(python) != os.path.realpath("/usr/bin/python3"):
        env["PYTHONPATH"] = DEBIAN_PACKAGES
    return env

# name -> (Debian package, module run with -m, its arguments, exit codes that mean success,
# the module whose import says the program can run on this interpreter).
# Paths in the arguments are relative to the private folder.
PROGRAMS = {
    "black": ("black", "black", ["-q", "--diff", "src/_pydecimal.py"], (0,), "black"),
    "pylint": ("pylint", "pylint", ["--exit-zero", "src/decoder.py",
                                    "src/encoder.py", "src/shlex_copy.py", "src/textwrap_copy.py"],
               (0,), "pylint.lint"),
    # mypy exits 1 when it finds type errors in the standard library's code, as it does here.
    "mypy": ("python3-mypy", "mypy", ["--no-incremental", "--cache-dir=/dev/null",
                                      "src/argparse_copy.py", "src/shlex_copy.py",
                                      "src/textwrap_copy.py", "src/decoder.py"], (0, 1),
             "mypy.main"),
    "sphinx": ("python3-sphinx", "sphinx", ["-q", "-E", "-b", "html", "doc", "out"], (0,),
               "sphinx.cmd.build"),
}

SPHINX_INDEX = """Bench
=====

.. automodule:: argparse
   :members:

.. automodule:: json
   :members:

.. automodule:: shlex
   :members:

.. automodule:: textwrap
   :members:
"""


def prepare(folder):
    """Copies the inputs into folder/src and writes the sphinx project."""
    src = os.path.join(folder, "src")
    os.makedirs(src)
    for name, dest in (("_pydecimal.py", "_pydecimal.py"), ("json/decoder.py", "decoder.py"),
                       ("json/encoder.py", "encoder.py"), ("argparse.py", "argparse_copy.py"),
                       ("shlex.py", "shlex_copy.py"), ("textwrap.py", "textwrap_copy.py")):
        shutil.copy(os.path.join(STDLIB, name), os.path.join(src, dest))
    doc = os.path.join(folder, "doc")
    os.makedirs(doc)
    with open(os.path.join(doc, "conf.py"), "w") as f:
        f.write("extensions = ['sphinx.ext.autodoc']\nproject = 'bench'\n")
    with open(os.path.join(doc, "index.rst"), "w") as f:
        f.write(SPHINX_INDEX)


def available(python):
    """The programs whose module the interpreter can import."""
    names = []
    for name, (_, _, _, _, check) in PROGRAMS.items():
        r = subprocess.run([python, "-c", f"import {check}"], capture_output=True,
                           env=program_env(python))
        if r.returncode == 0:
            names.append(name)
    return names


def run_whole(cmd, cwd, env, ok):
    """Wall and CPU seconds (user + system, of the process and the children it
    waited for) of one run."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.monotonic() - start
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"bench: {' '.join(cmd)} exited {code}:\n"
                         f"{err.decode()[-2000:]}")
    return secs, usage.ru_utime + usage.ru_stime


def bench_real(python, viztracer, repeat, tmp):
    """Whole-process times per program and mode: {program: {mode: (wall, cpu)}},
    the median of each over the runs."""
    folder = os.path.join(tmp, "real")
    prepare(folder)
    env = dict(program_env(python), BLACK_CACHE_DIR=os.path.join(folder, "black-cache"))
    out = os.path.join(folder, "t.json")
    modes = {
        "untraced": lambda m, a: [python, "-m", m, *a],
        "cProfile": lambda m, a: [python, "-m", "cProfile", "-o",
                                  os.path.join(folder, "prof.out"), "-m", m, *a],
        "viztracer": lambda m, a: [viztracer, "--quiet", "-o", out, "-m", m, *a],
        "viztracer --ignore_c_function": lambda m, a: [
            viztracer, "--quiet", "--ignore_c_function", "-o", out, "-m", m, *a],
    }
    results = {}
    for name in available(python):
        _, module, argv, ok, _ = PROGRAMS[name]
        runs = {mode: [] for mode in modes}
        for _ in range(repeat):
            for mode, cmd in modes.items():
                shutil.rmtree(os.path.join(folder, "out"), ignore_errors=True)
                runs[mode].append(run_whole(cmd(module, argv), folder, env, ok))
        results[name] = {mode: (statistics.median(w for w, _ in v),
                                statistics.median(c for _, c in v))
                         for mode, v in runs.items()}
        r = results[name]
        print(f"  {name:12s} untraced {r['untraced'][0]:.2f}s cProfile {r['cProfile'][0]:.2f}s "
              f"viztracer {r['viztracer'][0]:.2f}s", file=sys.stderr, flush=True)
    return results


def print_table(results):
    if not results:
        print("\nReal programs: none of black, pylint, mypy, sphinx runs on this interpreter.")
        return
    print("\nReal programs, whole process (start to exit, output written), median of the runs; "
          "wall time, and in brackets CPU time (user + system), which a busy machine "
          "disturbs less:\n")
    print("| program | untraced | cProfile | viztracer | viztracer / cProfile | "
          "--ignore_c_function | --ignore_c_function / cProfile |")
    print("|---|---|---|---|---|---|---|")
    ratios = {k: [] for k in ("a", "b", "ac", "bc")}
    for name, r in results.items():
        prof, vt, vtc = r["cProfile"], r["viztracer"], r["viztracer --ignore_c_function"]
        a, b = vt[0] / prof[0], vtc[0] / prof[0]
        ac, bc = vt[1] / prof[1], vtc[1] / prof[1]
        for k, v in (("a", a), ("b", b), ("ac", ac), ("bc", bc)):
            ratios[k].append(v)

        def t(x):
            return f"{x[0]:.2f} s ({x[1]:.2f} s)"
        print(f"| {name} | {t(r['untraced'])} | {t(prof)} | {t(vt)} | {a:.2f}x ({ac:.2f}x) | "
              f"{t(vtc)} | {b:.2f}x ({bc:.2f}x) |")

    def gmean(xs):
        return math.exp(sum(math.log(x) for x in xs) / len(xs))

    print(f"| geometric mean | | | | {gmean(ratios['a']):.2f}x ({gmean(ratios['ac']):.2f}x) | | "
          f"{gmean(ratios['b']):.2f}x ({gmean(ratios['bc']):.2f}x) |")
