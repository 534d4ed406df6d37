/* termkick.h: makes sure a Python-level SIGTERM handler gets to run.
 *
 * CPython runs a Python signal handler later, between bytecodes; its C
 * handler only notes the signal. When SIGTERM lands just before the main
 * thread blocks in a call that is not retried on signals (sem_wait in a
 * multiprocessing lock: a Pool worker idle in get() while the pool's
 * terminate() holds that lock), the note is never acted on and the
 * process hangs where python3 itself would simply have died. Our handlers
 * (the launcher's SystemExit, a traced child's save-and-exit) must run, so
 * SIGTERM's C handler is wrapped: after CPython's, it arms a timer that
 * sends SIGTERM to the main thread again every 20 ms, which interrupts
 * such a call, until our Python handler reports that it ran.
 *
 * No Python here; async-signal-safe where it runs in the handler.
 */
#ifndef VT_LAUNCHER_TERMKICK_H
#define VT_LAUNCHER_TERMKICK_H

#include "../tracer/base/err.h"

/* Wraps the current SIGTERM handler (call it after Python installed its
 * own) and creates the timer aimed at the calling thread (the main one).
 * Again after fork: the wrapper is inherited, the timer is not. Returns
 * VT_OK, or VT_ERR_IO with errno set (SIGTERM is then left as it was). */
enum vt_err vt_termkick_install(void);

/* Our Python handler ran: the timer stops, and its own signals are no
 * longer passed on to CPython. A real SIGTERM arriving later is. */
void vt_termkick_handled(void);

#endif
