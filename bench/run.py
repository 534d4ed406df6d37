"""make bench: overhead of viztracer against the untraced run and against
cProfile, measured in the same run, on the workloads of bench/workloads (see
bench/README.md and bench/workloads/README.md). Prints Markdown tables.

For each workload it runs the program REPEAT times in each mode (in rounds: every
mode once, then again) and keeps the median of:
  - traced: the workload's own main() time (it writes it to VIZBENCH_TIMES),
    as a ratio to the untraced main() time;
  - whole: the whole process, start to exit with the trace written;
  - post: from main()'s end to process exit (stop + save + exit): the dump rate
    is the number of events written divided by this time;
  - peak RSS of the process (ru_maxrss; with worker processes, of the largest
    process of the tree, since wait4 includes waited-for descendants).
For mp_pool (4 forked worker processes) it also reports, in a second table, the
workers' exit (from the last result to the pool's join: a traced worker saves
its own trace there), the time from main()'s end to the merged output's
modification time (the parent's save, the wait for children and the merge),
and the events and pids of the merged output: it fails unless all 5 pids
(parent + 4 workers) are in it.
It also runs real programs from Debian's packages (bench/real_programs.py:
black, pylint, mypy, sphinx) as whole processes, with their geometric mean.
Unless --no-callgrind it also counts instructions per traced call (Python calls
on fib, builtin calls on a loop of len()) with valgrind --tool=callgrind, which
is stable on a noisy machine, and ends with a summary table for the interpreter.
Nothing here is asserted: the numbers go into README.md by hand.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import real_programs

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(HERE, "workloads")


def run_once(cmd, cwd, env):
    times = os.path.join(cwd, "times.txt")
    if os.path.exists(times):
        os.remove(times)
    env = dict(env, VIZBENCH_TIMES=times)
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    end = time.monotonic()
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed:\n{err}")
    with open(times) as f:
        t = [float(x) for x in f.read().split()]
    t0, t1 = t[0], t[1]
    r = {"main": t1 - t0, "whole": end - start, "post": end - t1,
         "cpu": usage.ru_utime + usage.ru_stime,
         "rss_mb": usage.ru_maxrss / 1024, "pid": p.pid}
    if len(t) == 4:  # mp_pool: the last result's time, and time.time() at main()'s end
        r["join"] = t1 - t[2]
        r["wall_end"] = t[3]
    return r


# Workloads whose merged trace must hold this many pids (parent + workers).
EXPECTED_PIDS = {"mp_pool": 5}


def count_events(path):
    """The number of non-metadata events and, per pid, its number of events."""
    # In a child process: a large JSON loaded here would raise the peak RSS
    # that the next forked child inherits (and reports) before its exec.
    code = ("import collections, json, sys; d = json.load(open(sys.argv[1]));"
            "c = collections.Counter(e.get('pid') for e in d['traceEvents'] if e.get('ph') != 'M');"
            "print(json.dumps({'events': sum(c.values()), 'pids': c,"
            " 'dropped': d.get('viztracer_metadata', {}).get('dropped_events', 0)}))")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench: could not read {path}:\n{out.stderr}")
    return json.loads(out.stdout)


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def bench(args):
    tmp = tempfile.mkdtemp(prefix="vizbench-")
    try:
        return bench_in(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # its last trace is 100 MB or more


def bench_env(python):
    """The workloads' environment: no PYTHONPATH, and the interpreter first
    on PATH, so that it is the environment's python3 and viztracer runs its
    build for it (launcher/interp.c)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    return env


def bench_in(args, tmp):
    env = bench_env(args.python)
    py = args.python
    out = os.path.join(tmp, "t.json")
    modes = {
        "untraced": lambda w: [py, w],
        "cProfile": lambda w: [py, "-m", "cProfile", "-o", os.path.join(tmp, "prof.out"), w],
        "viztracer": lambda w: [args.viztracer, "--quiet", "-o", out, w],
        "viztracer --ignore_c_function": lambda w: [
            args.viztracer, "--quiet", "--ignore_c_function", "-o", out, w],
    }
    extra_modes = {}
    for extra in args.extra:
        opts = ["--" + o for o in extra.split("+")]
        extra_modes["viztracer " + " ".join(opts)] = (lambda e: lambda w: [
            args.viztracer, "--quiet", *e, "-o", out, "--", w])(opts)
    rows = []
    for name in args.workloads:
        script = os.path.join(WORKLOADS, name + ".py")
        res = {}
        these = dict(modes)
        if name in args.extra_workloads:
            these.update(extra_modes)
        # Rounds of every mode in turn, so that a busy spell of the machine
        # slows one run of each mode rather than all the runs of one.
        runs = {mode: [] for mode in these}
        for i in range(args.repeat):
            for mode, cmd in these.items():
                r = run_once(cmd(script), tmp, env)
                if mode.startswith("viztracer") and "wall_end" in r:
                    # main()'s end to the merged output written, on the wall clock
                    r["written"] = os.stat(out).st_mtime - r["wall_end"]
                if mode.startswith("viztracer") and (name in EXPECTED_PIDS or
                                                     i == args.repeat - 1):
                    r["count"] = c = count_events(out)
                    if name in EXPECTED_PIDS and len(c["pids"]) != EXPECTED_PIDS[name]:
                        raise SystemExit(f"bench: {name} under {mode}: {len(c['pids'])} pids in "
                                         f"the trace, expected {EXPECTED_PIDS[name]}: {c['pids']}")
                runs[mode].append(r)
        for mode in these:
            keys = [k for k in ("main", "whole", "post", "cpu", "rss_mb", "join", "written")
                    if k in runs[mode][0]]
            res[mode] = {k: median_of(runs[mode], k) for k in keys}
            if mode.startswith("viztracer"):
                c = runs[mode][-1]["count"]
                res[mode]["events"] = c["events"]
                res[mode]["pids"] = c["pids"]
                res[mode]["parent"] = runs[mode][-1]["pid"]
                res[mode]["dropped"] = c["dropped"]
            print(f"  {name:12s} {mode:32s} main {res[mode]['main']:.3f}s "
                  f"whole {res[mode]['whole']:.3f}s rss {res[mode]['rss_mb']:.0f} MB",
                  file=sys.stderr, flush=True)
        rows.append((name, res))
    return rows


def callgrind(args):
    if subprocess.run(["which", "valgrind"], capture_output=True).returncode != 0:
        return None
    tmp = tempfile.mkdtemp(prefix="vizbench-cg-")
    try:
        return callgrind_in(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def callgrind_in(args, tmp):
    script = os.path.join(tmp, "cgfib.py")
    with open(script, "w") as f:
        f.write("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
                "import sys\nfib(int(sys.argv[1]))\n")
    # One builtin call per iteration of a loop in one Python function.
    cscript = os.path.join(tmp, "cgcall.py")
    with open(cscript, "w") as f:
        f.write("import sys\ndef f(n):\n    x = []\n    for i in range(n):\n        len(x)\n"
                "f(int(sys.argv[1]))\n")
    # A fixed hash seed: with a random one, the start-up's dict work differs
    # between the two runs of a difference by up to a million instructions.
    env = dict(bench_env(args.python), PYTHONHASHSEED="0")

    def instructions(cmd):
        out = os.path.join(tmp, "cg.out")
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                            "--trace-children=no", "--child-silent-after-fork=yes"] + cmd, cwd=tmp, env=env,
                           capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if not m:
            raise SystemExit("bench: callgrind failed:\n" + r.stderr[-2000:])
        return int(m.group(1))

    calls = {}
    for n in (16, 20):
        calls[n] = 2 * round(((1 + 5 ** 0.5) / 2) ** (n + 1) / 5 ** 0.5) - 1
    result = {}
    cmds = {
        "untraced": lambda: [args.python],
        "cProfile": lambda: [args.python, "-m", "cProfile", "-o", os.path.join(tmp, "p")],
        "viztracer": lambda: [args.viztracer, "--quiet", "-o", os.path.join(tmp, "t.json")],
        "viztracer --ignore_c_function": lambda: [
            args.viztracer, "--quiet", "--ignore_c_function", "-o",
            os.path.join(tmp, "t.json")],
    }
    for mode, cmd in cmds.items():
        a, b = instructions(cmd() + [script, "16"]), instructions(cmd() + [script, "20"])
        py = (b - a) / (calls[20] - calls[16])
        a, b = instructions(cmd() + [cscript, "2000"]), instructions(cmd() + [cscript, "12000"])
        result[mode] = (py, (b - a) / 10000)
    return result


DUMP_SCRIPT = """
import os, sys, time
from viztracer import VizTracer
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
out = sys.argv[1]
t = VizTracer(verbose=0, output_file=out)
t.start(); fib(30); t.stop()
t0 = time.perf_counter(); t.save(); t1 = time.perf_counter()
print(t1 - t0, os.path.getsize(out))
"""


def dump_rate(args):
    """save() of a full 1,000,000-event buffer, timed inside the process."""
    pydir = os.path.join(os.path.dirname(os.path.dirname(args.viztracer)), "python")
    env = dict(os.environ, PYTHONPATH=pydir)
    tmp = tempfile.mkdtemp(prefix="vizbench-dump-")
    try:
        return dump_rate_in(args, env, os.path.join(tmp, "d.json"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


GZIP_SCRIPT = """
import gzip, sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as g:
    g.write(gzip.compress(f.read(), 6))
"""

# Exits 0 when the two traces hold the same events and file_info.
SAME_EVENTS_SCRIPT = """
import json, sys
def events(p):
    with open(p) as f:
        d = json.load(f)
    return sorted(json.dumps(e, sort_keys=True) for e in d["traceEvents"]), d.get("file_info")
sys.exit(0 if events(sys.argv[1]) == events(sys.argv[2]) else 1)
"""


def compressed_sizes(args):
    """The 1,000,000-event fib trace of DUMP_SCRIPT as JSON, gzip (level 6,
    what `-o x.json.gz` writes) and .vzt (--compress), and whether
    --decompress gives the same events back."""
    pydir = os.path.join(os.path.dirname(os.path.dirname(args.viztracer)), "python")
    env = dict(os.environ, PYTHONPATH=pydir)
    tmp = tempfile.mkdtemp(prefix="vizbench-vzt-")
    try:
        js, gz, vzt, back = (os.path.join(tmp, n) for n in ("t.json", "t.json.gz", "t.vzt", "b.json"))
        subprocess.run([args.python, "-c", DUMP_SCRIPT, js], env=env, capture_output=True,
                       check=True)
        # gzip and the comparison in a child, as in count_events: the 106 MB
        # read here would raise the peak RSS that every later child inherits
        # through its vfork and exec (the keep-every-event run reported 907 MB
        # instead of its 57 MB after this check).
        subprocess.run([sys.executable, "-c", GZIP_SCRIPT, js, gz], check=True)
        start = time.monotonic()
        subprocess.run([args.viztracer, "--compress", js, "-o", vzt], capture_output=True,
                       check=True)
        secs = time.monotonic() - start
        subprocess.run([args.viztracer, "--decompress", vzt, "-o", back], capture_output=True,
                       check=True)
        same = subprocess.run([sys.executable, "-c", SAME_EVENTS_SCRIPT, js, back]).returncode == 0
        return os.path.getsize(js), os.path.getsize(gz), os.path.getsize(vzt), secs, same
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dump_rate_in(args, env, out):
    runs = []
    for _ in range(args.repeat):
        r = subprocess.run([args.python, "-c", DUMP_SCRIPT, out], env=env, capture_output=True,
                           text=True, check=True)
        secs, size = r.stdout.split()
        runs.append((float(secs), int(size)))
    secs = statistics.median(x[0] for x in runs)
    return 1e6 / secs / 1e6, secs, runs[0][1] / 1e6


KEEP_ALL_SCRIPT = """
import sys
def f():
    pass
def loop(n):
    for _ in range(n):
        f()
loop(int(sys.argv[1]))
"""


def keep_all(args):
    """--tracer_entries 0 (keep every event): the instructions per Python call
    against the ring's, on fib(25) minus fib(21) (207,364 calls: the
    spooled ring crosses three chunk boundaries, so the hand-over and the
    drainer's writes are counted; the kernel's side of the writes is not),
    then one run of args.keep_all_calls calls: its peak RSS and the trace."""
    tmp = tempfile.mkdtemp(prefix="vizbench-keep-")
    try:
        return keep_all_in(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def keep_all_in(args, tmp):
    res = {}
    if not args.no_callgrind and subprocess.run(["which", "valgrind"],
                                                capture_output=True).returncode == 0:
        script = os.path.join(tmp, "cgfib.py")
        with open(script, "w") as f:
            f.write("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
                    "import sys\nfib(int(sys.argv[1]))\n")
        env = dict(bench_env(args.python), PYTHONHASHSEED="0")
        calls = {n: 2 * round(((1 + 5 ** 0.5) / 2) ** (n + 1) / 5 ** 0.5) - 1 for n in (21, 25)}
        for mode, opts in (("ring (default)", []), ("--tracer_entries 0", ["--tracer_entries", "0"])):
            counts = []
            for n in (21, 25):
                out = os.path.join(tmp, "cg.out")
                r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                    "--trace-children=no", "--child-silent-after-fork=yes",
                                    args.viztracer, "--quiet", "-o", os.path.join(tmp, "t.json")]
                                   + opts + [script, str(n)], cwd=tmp, env=env,
                                   capture_output=True, text=True)
                m = re.search(r"Collected : (\d+)", r.stderr)
                if not m:
                    raise SystemExit("bench: callgrind failed:\n" + r.stderr[-2000:])
                counts.append(int(m.group(1)))
            res[mode] = (counts[1] - counts[0]) / (calls[25] - calls[21])
    script = os.path.join(tmp, "loop.py")
    with open(script, "w") as f:
        f.write(KEEP_ALL_SCRIPT)
    out = os.path.join(tmp, "all.json")
    cmd = [args.viztracer, "--quiet", "--tracer_entries", "0", "--ignore_c_function", "-o", out,
           script, str(args.keep_all_calls)]
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=tmp, env=bench_env(args.python), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.monotonic() - start
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed:\n{err}")
    n = 0
    with open(out, "rb") as f:
        for line in f:
            n += b'"ph":"X"' in line
    res["run"] = (usage.ru_maxrss / 1024, secs, n, os.path.getsize(out) / 1e9)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--viztracer", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workloads", nargs="*",
                    default=["fib", "hanoi", "quicksort", "ccalls", "stdlib_mix", "threads",
                             "slow_fib", "mp_pool"])
    ap.add_argument("--extra", nargs="*", default=[],
                    help="more viztracer option sets to measure, without dashes, '+' between "
                         "the options of one set: log_func_args log_gc+log_print")
    ap.add_argument("--extra-workloads", nargs="*", default=["fib", "stdlib_mix"],
                    help="the workloads on which the --extra option sets are measured")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-real", action="store_true", help="skip the real programs")
    ap.add_argument("--keep-all-calls", type=int, default=30000000,
                    help="calls of the --tracer_entries 0 run whose peak RSS is reported")
    ap.add_argument("--keep-all-only", action="store_true",
                    help="measure --tracer_entries 0 only (instructions and peak RSS)")
    args = ap.parse_args()
    if args.keep_all_only:
        print_keep_all(args)
        return
    rows = bench(args)
    print("\n| workload | mode | traced / untraced | traced / cProfile | whole process / "
          "cProfile's | events | events / s after main() | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, res in rows:
        base, prof = res["untraced"], res["cProfile"]
        for mode, r in res.items():
            if mode == "untraced":
                continue
            ratio = r["main"] / base["main"]
            vs = r["main"] / prof["main"]
            whole = r["whole"] / prof["whole"]
            ev = r.get("events")
            dump = f"{ev / r['post'] / 1e6:.1f}" if ev else "-"
            print(f"| {name} | {mode} | {ratio:.2f}x | {vs:.2f}x | {whole:.2f}x | "
                  f"{ev if ev is not None else '-'} | {dump} | {r['rss_mb']:.0f} |")
    procs = [(name, res) for name, res in rows if name in EXPECTED_PIDS]
    if procs:
        print("\n| workload | mode | main() | traced / untraced | workers' exit | main() end to "
              "output written | main() end to exit | events | pids | events per worker |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    for name, res in procs:
        base = res["untraced"]
        for mode, r in res.items():
            pids = r.get("pids")
            per = sorted(n for p, n in pids.items() if p != str(r["parent"])) if pids else []
            per_s = f"{per[0]}-{per[-1]}" if per else "-"
            written = f"{r['written']:.2f} s" if "written" in r else "-"
            dropped = f" ({r['dropped']} dropped)" if r.get("dropped") else ""
            print(f"| {name} | {mode} | {r['main']:.2f} s | {r['main'] / base['main']:.2f}x | "
                  f"{r['join']:.3f} s | {written} | {r['post']:.2f} s | "
                  f"{r.get('events', '-')}{dropped} | {len(pids) if pids else '-'} | {per_s} |")
    rate, secs, mb = dump_rate(args)
    print(f"\nDump: save() of a 1,000,000-event buffer takes {secs:.3f} s: {rate:.1f} M events/s "
          f"({mb:.0f} MB of JSON).")
    js, gz, vzt, secs, same = compressed_sizes(args)
    print(f"\nCompressed: that trace is {js / 1e6:.1f} MB of JSON, {gz / 1e6:.1f} MB gzipped "
          f"({js / gz:.0f}x smaller), {vzt / 1e6:.2f} MB as .vzt ({js / vzt:.0f}x smaller, "
          f"--compress in {secs:.2f} s); --decompress gives "
          f"{'the same events and file_info back' if same else 'OTHER EVENTS BACK'}.")
    if not args.no_real:
        tmp = tempfile.mkdtemp(prefix="vizbench-real-")
        try:
            real_programs.print_table(real_programs.bench_real(args.python, args.viztracer,
                                                               args.repeat, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    cg = None if args.no_callgrind else callgrind(args)
    if cg:
        print("\nInstructions per traced call (callgrind; Python calls: fib(20) minus fib(16); "
              "builtin calls: a loop calling len() 12,000 minus 2,000 times, per iteration; "
              "both include writing the event to the file):\n")
        print("| mode | per Python call | overhead | per builtin call | overhead |")
        print("|---|---|---|---|---|")
        u = cg["untraced"]
        for mode, (py, c) in cg.items():
            print(f"| {mode} | {py:.0f} | {py - u[0]:.0f} | {c:.0f} | {c - u[1]:.0f} |")
    print_keep_all(args)
    summary(args, rows, cg)


def print_keep_all(args):
    ka = keep_all(args)
    if "ring (default)" in ka:
        print("\nKeep every event (--tracer_entries 0): instructions per Python call (callgrind, "
              "fib(25) minus fib(21), writing included):\n")
        print("| mode | per Python call |")
        print("|---|---|")
        for mode in ("ring (default)", "--tracer_entries 0"):
            print(f"| {mode} | {ka[mode]:.0f} |")
    rss, secs, n, gb = ka["run"]
    print(f"\nKeep every event: {args.keep_all_calls:,} calls with --tracer_entries 0 "
          f"--ignore_c_function: peak RSS {rss:.0f} MB, {secs:.1f} s in all, {n:,} events "
          f"({gb:.2f} GB of JSON) written.")


def summary(args, rows, cg):
    """One table per interpreter: fib's ratios per mode and the instruction counts."""
    res = dict(rows).get("fib")
    if not res:
        return
    ver = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                         capture_output=True, text=True).stdout.strip()
    print(f"\nSummary, CPython {ver} ({args.python}), fib against this interpreter's cProfile "
          "(whole-process CPU time: user + system, less disturbed by a busy machine):\n")
    print("| mode | traced / cProfile | whole process / cProfile's | whole-process CPU / "
          "cProfile's | instructions per Python call | per builtin call |")
    print("|---|---|---|---|---|---|")
    prof = res["cProfile"]
    for mode in ("cProfile", "viztracer", "viztracer --ignore_c_function"):
        r = res[mode]
        ins = f"{cg[mode][0]:.0f} | {cg[mode][1]:.0f}" if cg else "- | -"
        print(f"| {mode} | {r['main'] / prof['main']:.2f}x | {r['whole'] / prof['whole']:.2f}x | "
              f"{r['cpu'] / prof['cpu']:.2f}x | {ins} |")

if __name__ == "__main__":
    main()
