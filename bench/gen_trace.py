"""gen_trace.py: writes a synthetic trace of N function events in our
writer's shape (one event per line, children before parents, as a real run
writes them), for the viewer's large-trace tests and `make bench`.

    /usr/bin/python3 bench/gen_trace.py -n 10000000 -o /tmp/big.json [--threads 4] [--gz]

Each thread runs `main` calling `step` calling a fib-like recursion of
`work` (ten levels) whose leaves are 1 µs long, so most slices are far
narrower than a pixel at any zoom but the deepest; every 1000th `work`
carries args, and there are instants and a counter. file_info holds the
source of the one Python file the names point to. Kept out of git: write
the output under /tmp or build/.
"""

import argparse
import gzip
import json
import sys

SOURCE = "".join("def f%d():\n    return %d\n" % (i, i) for i in range(40))
FILE = "/synthetic/prog.py"
NAMES = {
    "main": "main (%s:1)" % FILE,
    "step": "step (%s:3)" % FILE,
    "work": "work (%s:5)" % FILE,
    "leaf": "leaf (%s:7)" % FILE,
}


def fmt(ns):
    return "%d.%03d" % (ns // 1000, ns % 1000)


def thread_events(out, pid, tid, n, t0):
    """Writes about n events of one thread starting at t0 ns; returns (count, end)."""
    count = 0
    t = t0 + 1000
    step_no = 0
    main_start = t0
    lines = []
    wname = json.dumps(NAMES["work"])
    lname = json.dumps(NAMES["leaf"])
    sname = json.dumps(NAMES["step"])
    head = '{"pid":%d,"tid":%d,"ts":' % (pid, tid)

    def work(depth, start):
        # returns the end; appends children before the parent
        nonlocal count
        if depth == 0:
            end = start + 1000
            lines.append(head + fmt(start) + ',"ph":"X","cat":"fee","dur":1.000,"name":' + lname + "}")
            count += 1
            return end
        cur = start + 200
        for _ in range(2):
            cur = work(depth - 1, cur) + 100
        end = cur + 300
        args = ""
        if count % 1000 == 0:
            args = ',"args":{"func_args":{"n":"%d"},"return_value":"%d"}' % (depth, count)
        lines.append(
            head + fmt(start) + ',"ph":"X","cat":"fee","dur":' + fmt(end - start) + ',"name":' + wname + args + "}"
        )
        count += 1
        return end

    while count < n:
        s = t
        e = work(9, s + 500) + 500
        lines.append(head + fmt(s) + ',"ph":"X","cat":"fee","dur":' + fmt(e - s) + ',"name":' + sname + "}")
        count += 1
        if step_no % 50 == 0:
            lines.append(
                '{"ph":"i","cat":"INSTANT","name":"checkpoint %d","s":"t","pid":%d,"tid":%d,"ts":%s}'
                % (step_no, pid, tid, fmt(s))
            )
            lines.append(
                '{"ph":"C","name":"memory","args":{"rss":%d},"pid":%d,"tid":%d,"ts":%s}'
                % (1000 + (step_no * 37) % 500, pid, tid, fmt(s))
            )
            count += 2
        step_no += 1
        t = e + 2000
        if len(lines) > 20000:
            out.write(",\n".join(lines) + ",\n")
            lines.clear()
    lines.append(
        head + fmt(main_start) + ',"ph":"X","cat":"fee","dur":' + fmt(t - main_start) + ',"name":'
        + json.dumps(NAMES["main"]) + "}"
    )
    count += 1
    out.write(",\n".join(lines))
    return count, t


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", "--events", type=int, default=1000000)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gz", action="store_true", help="gzip the output (level 1)")
    a = ap.parse_args(argv)
    out = gzip.open(a.output, "wt", compresslevel=1) if a.gz else open(a.output, "w")
    pid = 4242
    out.write('{"traceEvents":[\n')
    meta = ['{"ph":"M","pid":%d,"tid":%d,"name":"process_name","args":{"name":"MainProcess"}}' % (pid, pid)]
    for k in range(a.threads):
        tid = pid + k
        meta.append(
            '{"ph":"M","pid":%d,"tid":%d,"name":"thread_name","args":{"name":"%s"}}'
            % (pid, tid, "MainThread" if k == 0 else "Thread-%d" % k)
        )
    out.write(",\n".join(meta) + ",\n")
    total = 0
    per = a.events // a.threads
    for k in range(a.threads):
        c, _ = thread_events(out, pid, pid + k, per, 1000000000)
        total += c
        out.write(",\n" if k + 1 < a.threads else "\n")
    info = {"files": {FILE: [SOURCE, SOURCE.count("\n")]},
            "functions": {v: [FILE, int(v.rsplit(":", 1)[1][:-1])] for v in NAMES.values()}}
    out.write('],"viztracer_metadata":{"version":"0.15.6","overflow":false},"file_info":')
    out.write(json.dumps(info))
    out.write("}\n")
    out.close()
    print("%s: %d events" % (a.output, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
