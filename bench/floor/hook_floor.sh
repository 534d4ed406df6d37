#!/bin/bash
# The floor of each hook mechanism, per interpreter: fib(N) (default 30) in-process, CPU time, medians of
# REPEAT (default 5) runs with the modes taking turns, against that interpreter's cProfile. The
# hooks do nothing (_empty) or only read the TSC (_rec: two reads per call, as tracer/'s hooks).
# Usage: bench/floor/hook_floor.sh [python...]   (default: Debian's python3 and pyenv's 3.12/3.13)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/hook_floor.c" "$here/hook_floor.py" "$work/" && cd "$work" || exit 1
pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
    pythons=(/usr/bin/python3)
    for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[23].*/bin/python3.1[23]; do
        [ -x "$p" ] && pythons+=("$p")
    done
fi
for P in "${pythons[@]}"; do
    rm -f hook_floor*.so
    gcc -O2 -shared -fPIC $("$P-config" --includes) hook_floor.c \
        -o "hook_floor$("$P" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')" ||
        { echo "hook_floor: cannot build for $P" >&2; continue; }
    modes="untraced cProfile pep523_empty pep523_rec profile_empty profile_rec"
    "$P" -c 'import sys; sys.exit(sys.version_info < (3, 12))' && modes="$modes monitoring_empty monitoring_rec"
    echo "== $P ($("$P" -c 'import sys; print(sys.version.split()[0])'))"
    for _ in $(seq "${REPEAT:-5}"); do
        for m in $modes; do "$P" hook_floor.py "$m" "${N:-30}" || exit 1; done
    done | /usr/bin/python3 -c '
import statistics, sys
runs = {}
for line in sys.stdin:
    k, v = line.split()
    runs.setdefault(k, []).append(float(v))
m = {k: statistics.median(v) for k, v in runs.items()}
for k in runs:
    print("  %-17s %7.1f ms  %5.2fx untraced  %5.2fx cProfile" % (k, m[k] * 1e3, m[k] / m["untraced"], m[k] / m["cProfile"]))'
done
