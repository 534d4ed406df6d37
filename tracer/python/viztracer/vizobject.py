"""VizObject: an object track (N at creation, O snapshots on change, D at deletion)."""

from .event_base import _EventBase

_SNAPSHOT_TYPES = (list, dict, int, float, str)


class VizObject(_EventBase):
    def __init__(self, tracer, name, **kwargs):
        super().__init__(tracer, name, **kwargs)
        object.__setattr__(self, "_viztracer_id", str(id(self)))
        if self._viztracer_enable:
            tracer.add_object("N", self._viztracer_id, name)

    def _viztracer_log(self):
        snapshot = {k: v for k, v in self._viztracer_attributes().items()
                    if isinstance(v, _SNAPSHOT_TYPES)}
        self._viztracer_tracer.add_object("O", self._viztracer_id, self._viztracer_name,
                                          {"snapshot": snapshot})

    def __del__(self):
        if self.__dict__.get("_viztracer_enable"):
            self._viztracer_tracer.add_object("D", self._viztracer_id, self._viztracer_name)
