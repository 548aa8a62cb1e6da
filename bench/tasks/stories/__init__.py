"""The bundled quality-diversity task: short stories about an object, with a checkable
quality rule and three diversity axes described in words (see `task.py`)."""

from .task import AXES, OBJECTS, WORD_CAP, check, problem, rule_report

__all__ = ["AXES", "OBJECTS", "WORD_CAP", "check", "problem", "rule_report"]
