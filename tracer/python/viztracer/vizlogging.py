"""VizLoggingHandler: log records become instant events "logging - <message>"."""

import logging


class VizLoggingHandler(logging.Handler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tracer = None

    def setTracer(self, tracer):
        self._tracer = tracer

    def emit(self, record):
        if self._tracer is None:
            return
        try:
            self._tracer.add_instant(f"logging - {self.format(record)}", scope="p")
        except Exception:
            self.handleError(record)
