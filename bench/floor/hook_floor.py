"""One run of fib(N) in-process under one hook mode of hook_floor.c; prints
the mode and the CPU seconds (process_time) of the call."""
import cProfile
import sys
import time

import hook_floor


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def timed(n):
    s = time.process_time()
    fib(n)
    return time.process_time() - s


MODES = {"pep523_empty": 1, "pep523_rec": 2, "profile_empty": 3, "profile_rec": 4}
mode = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
if mode == "untraced":
    d = timed(n)
elif mode == "cProfile":
    p = cProfile.Profile()
    p.enable()
    d = timed(n)
    p.disable()
elif mode in MODES:
    hook_floor.set(MODES[mode])
    d = timed(n)
    hook_floor.set(0)
else:  # monitoring_empty, monitoring_rec: PY_START and PY_RETURN (3.12+)
    mon = sys.monitoring
    mon.use_tool_id(4, "hook_floor")
    cb = hook_floor.rec if mode.endswith("rec") else hook_floor.empty
    mon.register_callback(4, mon.events.PY_START, cb)
    mon.register_callback(4, mon.events.PY_RETURN, cb)
    mon.set_events(4, mon.events.PY_START | mon.events.PY_RETURN)
    d = timed(n)
    mon.set_events(4, 0)
print(mode, d)
