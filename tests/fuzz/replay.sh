#!/bin/sh
# replay.sh BIN NAME LOGDIR: run every kept input of fuzz target NAME
# (tests/fuzz/corpus/NAME/ and tests/fuzz/regressions/NAME/) once through
# BIN, mutating nothing; print one line per target, and one per failing input.
# Exit status 1 when any input fails or the target has no corpus.
# (make fuzz-replay, part of make test)
set -u
bin=$1 name=$2 logdir=$3
log=$logdir/replay-$name.log
files=$(find "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name" -type f 2>/dev/null | LC_ALL=C sort)
if [ -z "$files" ]; then
    echo "fuzz-replay: $name: no inputs in tests/fuzz/corpus/$name/"
    exit 1
fi
total=$(printf '%s\n' "$files" | wc -l)
: > "$log"
failed=0
# libFuzzer stops at the first input that fails (its last "Running:" line
# names it): go on with the inputs after it, so every failure is reported.
while [ -n "$files" ]; do
    # shellcheck disable=SC2086 # the names are ours: no blanks in them
    if "$bin" -runs=0 -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$logdir/$name-" $files \
        > "$log.run" 2>&1; then
        cat "$log.run" >> "$log" && rm -f "$log.run"
        break
    fi
    bad=$(sed -n 's/^Running: //p' "$log.run" | tail -n 1)
    cat "$log.run" >> "$log" && rm -f "$log.run"
    if [ -z "$bad" ]; then
        echo "fuzz-replay: $name: $bin did not run (see $log)"
        exit 1
    fi
    echo "fuzz-replay: $name FAILS on $bad (see $log)"
    failed=$((failed + 1))
    files=$(printf '%s\n' "$files" | sed "1,\\|^$bad\$|d")
done
if [ "$failed" -gt 0 ]; then
    echo "fuzz-replay: $name: $failed of $total inputs fail"
    exit 1
fi
echo "fuzz-replay: $name: $total inputs"
