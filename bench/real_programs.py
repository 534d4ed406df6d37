"""Real programs that nobody here wrote, from Debian's packages, for make bench.

Each is run as a whole process (start to exit, with the trace or the profile
written) untraced, under `python3 -m cProfile` and under viztracer, the modes
taking turns, and the median of REPEAT runs is kept. The inputs are copies of
standard-library files made in a private folder, so every run does the same
work: a formatter (black), a linter (pylint), a type checker (mypy, compiled
with mypyc: mostly C calls) and a documentation generator (sphinx, autodoc over
four standard modules). Caches are kept out of the way (black's cache folder
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

# name -> (Debian package, module run with -m, its arguments, exit codes that mean success).
# Paths in the arguments are relative to the private folder.
PROGRAMS = {
    "black": ("black", "black", ["-q", "--diff", "src/_pydecimal.py"], (0,)),
    "pylint": ("pylint", "pylint", ["--exit-zero", "src/decoder.py",
                                    "src/encoder.py", "src/shlex_copy.py", "src/textwrap_copy.py"],
               (0,)),
    # mypy exits 1 when it finds type errors in the standard library's code, as it does here.
    "mypy": ("python3-mypy", "mypy", ["--no-incremental", "--cache-dir=/dev/null",
                                      "src/argparse_copy.py", "src/shlex_copy.py",
                                      "src/textwrap_copy.py", "src/decoder.py"], (0, 1)),
    "sphinx": ("python3-sphinx", "sphinx", ["-q", "-E", "-b", "html", "doc", "out"], (0,)),
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
    for name, (_, module, _, _) in PROGRAMS.items():
        r = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
        if r.returncode == 0:
            names.append(name)
    return names


def run_whole(cmd, cwd, env, ok):
    start = time.monotonic()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    secs = time.monotonic() - start
    if r.returncode not in ok:
        raise SystemExit(f"bench: {' '.join(cmd)} exited {r.returncode}:\n"
                         f"{r.stderr.decode()[-2000:]}")
    return secs


def bench_real(python, viztracer, repeat, tmp):
    """Whole-process times per program and mode: {program: {mode: seconds}}."""
    folder = os.path.join(tmp, "real")
    prepare(folder)
    env = dict(os.environ, BLACK_CACHE_DIR=os.path.join(folder, "black-cache"))
    env.pop("PYTHONPATH", None)
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
        _, module, argv, ok = PROGRAMS[name]
        runs = {mode: [] for mode in modes}
        for _ in range(repeat):
            for mode, cmd in modes.items():
                shutil.rmtree(os.path.join(folder, "out"), ignore_errors=True)
                runs[mode].append(run_whole(cmd(module, argv), folder, env, ok))
        results[name] = {mode: statistics.median(v) for mode, v in runs.items()}
        r = results[name]
        print(f"  {name:12s} untraced {r['untraced']:.2f}s cProfile {r['cProfile']:.2f}s "
              f"viztracer {r['viztracer']:.2f}s", file=sys.stderr, flush=True)
    return results


def print_table(results):
    if not results:
        print("\nReal programs: none of black, pylint, mypy, sphinx is importable here.")
        return
    print("\nReal programs, whole process (start to exit, output written), median of the runs:\n")
    print("| program | untraced | cProfile | viztracer | viztracer / cProfile | "
          "--ignore_c_function | --ignore_c_function / cProfile |")
    print("|---|---|---|---|---|---|---|")
    ratios, ratios_c = [], []
    for name, r in results.items():
        a = r["viztracer"] / r["cProfile"]
        b = r["viztracer --ignore_c_function"] / r["cProfile"]
        ratios.append(a)
        ratios_c.append(b)
        print(f"| {name} | {r['untraced']:.2f} s | {r['cProfile']:.2f} s | "
              f"{r['viztracer']:.2f} s | {a:.2f}x | {r['viztracer --ignore_c_function']:.2f} s "
              f"| {b:.2f}x |")

    def gmean(xs):
        return math.exp(sum(math.log(x) for x in xs) / len(xs))

    print(f"| geometric mean | | | | {gmean(ratios):.2f}x | | {gmean(ratios_c):.2f}x |")
