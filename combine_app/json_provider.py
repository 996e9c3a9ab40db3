"""Flask's JSON provider with responses encoded by orjson, which write the same JSON values.

Encoding the JSON of an API answer with the standard library costs more than anything else in
dumping it. orjson writes the same JSON values (UTF-8 rather than \\u escapes, no spaces), and
anything it would write differently is handed back to the standard encoder: dates and
dataclasses go through Flask's own ``default`` (orjson would write dates as ISO 8601, Flask as
HTTP dates), and a value orjson refuses (an integer beyond 64 bits, a lone surrogate, a key
that is not a string, nesting past 254 levels) falls back to the standard encoder whole.
One difference is kept on purpose: a float NaN or infinity (which no body the API reads can
hold) is written as null, where the standard encoder writes a token that is not JSON.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    """Compact responses through orjson; indented ones (debug) and anything else as Flask does."""

    sort_keys = False  # keep definitions in the order their authors wrote them

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """The JSON response of ``args``/``kwargs``, encoded by orjson where it can be."""
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().response(*args, **kwargs)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)
