"""4 worker processes: multiprocessing Pool(4), fork start method, CPU-bound Python tasks.

16 tasks of 49,000 recursive calls, a loop with 8,000 builtin calls and a loop without
calls: about 57,000 events a task, 230,000 a worker when each runs 4 (the pool hands out
tasks as workers ask, so one may run more). The pool is closed and joined (not terminated),
so every worker exits through os._exit after its last task, as multiprocessing workers do.

VIZBENCH_TIMES gets "t0 t1 t_work t_end_wall": main()'s start and end (time.monotonic()),
the moment the last result came back (before close/join: from there to t1 is the workers'
exit, including a traced worker's own save), and time.time() at main()'s end, to compare
with the output's modification time.
"""
import multiprocessing
import os
import sys
import time

NTASKS = 16


def walk(d):
    if d == 0:
        return 1
    return walk(d - 1) + walk(d - 1)


def task(k):
    s = 0
    for _ in range(3):
        s += walk(k)
    acc = []
    for i in range(4000):
        acc.append(i * i % 7)
        s += len(acc)
    for i in range(400000):
        s += (i * i) % 7
    return s + max(acc)


def main(k):
    # The task as mp_pool.task, not __main__.task: under `python -m cProfile` the script's
    # functions are not attributes of sys.modules["__main__"], so they would not pickle.
    import mp_pool
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(4)
    try:
        total = sum(pool.map(mp_pool.task, [k] * NTASKS, chunksize=1))
        t_work = time.monotonic()
    finally:
        pool.close()
        pool.join()
    return total, t_work


if __name__ == "__main__":
    K = int(sys.argv[1]) if len(sys.argv) > 1 else 13
    _t0 = time.monotonic()
    _, _tw = main(K)
    _t1 = time.monotonic()
    _wall = time.time()
    if os.environ.get("VIZBENCH_TIMES"):
        with open(os.environ["VIZBENCH_TIMES"], "w") as _f:
            _f.write(f"{_t0!r} {_t1!r} {_tw!r} {_wall!r}\n")
