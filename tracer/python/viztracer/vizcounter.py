"""VizCounter: a counter track whose values are the object's public attributes."""

from .event_base import _EventBase


class VizCounter(_EventBase):
    def _viztracer_log(self):
        attrs = self._viztracer_attributes()
        for key, value in attrs.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Exception("Counter can only take numeric values")
        self._viztracer_tracer.add_counter(self._viztracer_name, attrs)

    def __setattr__(self, name, value):
        if not name.startswith("_") and (isinstance(value, bool)
                                         or not isinstance(value, (int, float))):
            raise Exception("Counter can only take numeric values")
        super().__setattr__(name, value)
