"""A small program to trace: recursion, a builtin-heavy loop, a thread and
a generator, so the demo trace shows each kind of event."""
import json
import threading


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def squares(n):
    for i in range(n):
        yield i * i


def worker(results):
    results.append(sum(squares(1000)))


def main():
    results = []
    t = threading.Thread(target=worker, args=(results,), name="worker")
    t.start()
    print("fib(15) =", fib(15))
    t.join()
    print("sum of squares =", results[0])
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
