"""Base of the custom-event classes (VizCounter, VizObject): every assignment
to a public attribute logs the object's state through the tracer."""


class _EventBase:
    def __init__(self, tracer, name, trigger_on_change=True, include_attributes=(),
                 exclude_attributes=()):
        object.__setattr__(self, "_viztracer_tracer", tracer)
        object.__setattr__(self, "_viztracer_name", name)
        object.__setattr__(self, "_viztracer_enable", tracer is not None)
        object.__setattr__(self, "_viztracer_trigger_on_change", trigger_on_change)
        object.__setattr__(self, "_viztracer_include_attributes", list(include_attributes))
        object.__setattr__(self, "_viztracer_exclude_attributes", list(exclude_attributes))

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if (self._viztracer_enable and self._viztracer_trigger_on_change
                and not name.startswith("_") and self._viztracer_wanted(name)):
            self._viztracer_log()

    def _viztracer_wanted(self, name):
        if self._viztracer_include_attributes:
            return name in self._viztracer_include_attributes
        return name not in self._viztracer_exclude_attributes

    def _viztracer_attributes(self):
        return {k: v for k, v in self.__dict__.items()
                if not k.startswith("_") and self._viztracer_wanted(k) and not callable(v)}

    def config(self, key, value):
        if key not in ("trigger_on_change", "include_attributes", "exclude_attributes"):
            raise ValueError(f"Unexpected config key: {key}")
        object.__setattr__(self, "_viztracer_" + key, value)

    def log(self):
        if self._viztracer_enable:
            self._viztracer_log()

    def _viztracer_log(self):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    @staticmethod
    def triggerlog(method=None, when="after"):
        if when not in ("after", "before", "both"):
            raise ValueError(f"when has to be one of after, before or both, not {when}")

        def inner(func):
            def wrapper(self, *args, **kwargs):
                if when in ("before", "both"):
                    self.log()
                ret = func(self, *args, **kwargs)
                if when in ("after", "both"):
                    self.log()
                return ret
            wrapper.__name__ = getattr(func, "__name__", "wrapper")
            wrapper.__doc__ = getattr(func, "__doc__", None)
            return wrapper

        return inner(method) if method else inner
