"""Prometheus text exposition format (version 0.0.4), for the monitoring
endpoint. Nothing here imports Odoo.

A :class:`Family` is one metric name with its ``# HELP`` and ``# TYPE``
lines and its samples; :func:`render` writes the families in order. Two
samples of one family with the same labels (a duplicate series, which
Prometheus rejects) raise ``ValueError`` instead of being written.
"""

import math
import re

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TYPES = ("gauge", "counter", "untyped")
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _escape_label_value(value):
    return str(value).replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(text):
    return str(text).replace("\\", r"\\").replace("\n", r"\n")


def format_value(value):
    """A sample value: integers without a decimal point, floats as Go
    formats them (``NaN``, ``+Inf``, ``-Inf``), booleans as 1 / 0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Family:
    """One metric family: a name, its help text, its type, its samples."""

    def __init__(self, name, help_text, metric_type="gauge"):
        if not _NAME.match(name):
            raise ValueError(f"invalid metric name {name!r}")
        if metric_type not in TYPES:
            raise ValueError(f"invalid metric type {metric_type!r}")
        self.name = name
        self.help_text = help_text
        self.metric_type = metric_type
        self.samples = []
        self._seen = set()

    def add(self, value, **labels):
        """Add a sample; returns the family (chainable)."""
        for label in labels:
            if not _LABEL.match(label) or label.startswith("__"):
                raise ValueError(f"invalid label name {label!r}")
        key = tuple(sorted((k, str(v)) for k, v in labels.items()))
        if key in self._seen:
            raise ValueError(f"duplicate series {self.name}{dict(key)}")
        self._seen.add(key)
        self.samples.append((labels, value))
        return self

    def lines(self):
        yield f"# HELP {self.name} {_escape_help(self.help_text)}"
        yield f"# TYPE {self.name} {self.metric_type}"
        for labels, value in self.samples:
            if labels:
                body = ",".join(
                    f'{key}="{_escape_label_value(val)}"' for key, val in labels.items()
                )
                yield f"{self.name}{{{body}}} {format_value(value)}"
            else:
                yield f"{self.name} {format_value(value)}"


def render(families):
    """The exposition text of ``families`` (each name once), ending with a
    newline as the format requires."""
    names = set()
    out = []
    for family in families:
        if family.name in names:
            raise ValueError(f"metric family {family.name} written twice")
        names.add(family.name)
        out.extend(family.lines())
    return "\n".join(out) + "\n"
