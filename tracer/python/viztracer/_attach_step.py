"""One step of remote attach, run inside the target (launcher/attach.c).

The launcher copies this file into its session folder, and makes the
target's main thread run one statement:
``__import__("runpy").run_path("<folder>/step.py")["run"]("<folder>", "<step>")``.
It is run by path, not imported, so that a target that cannot import
viztracer still answers why. run() calls the function of viztracer.attach
that ``<folder>/<step>.call`` names, with the arguments that follow it (one
word a line), and writes a one-line answer to ``<folder>/<step>.answer``:
"ok", "refused" when the function returned False, or
"error <Type>: <message>". It never raises: an exception in a pending call
would surface in the target's own code.

Only what the launcher wrote is read; the syntax stays that of old Pythons,
since the target may be any python3.
"""

import os


def run(folder, step):
    try:
        with open(os.path.join(folder, step + ".call")) as f:
            words = f.read().split()
        import viztracer.attach

        r = getattr(viztracer.attach, words[0])(*words[1:])
        answer = "refused" if r is False else "ok"
    except BaseException as e:
        answer = "error " + type(e).__name__ + ": " + str(e).replace("\n", " ")
    try:
        tmp = os.path.join(folder, step + ".answer.tmp")
        with open(tmp, "w") as f:
            f.write(answer + "\n")
        os.replace(tmp, os.path.join(folder, step + ".answer"))
    except BaseException:
        pass  # the launcher reports that no answer came
