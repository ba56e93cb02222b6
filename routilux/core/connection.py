"""Connection: one wire from a routine's event to another routine's slot."""

from __future__ import annotations

from typing import NamedTuple


class Connection(NamedTuple):
    """``source_id.event`` delivers to ``target_id.slot``."""

    source_id: str
    event: str
    target_id: str
    slot: str

    def __str__(self) -> str:
        return f"{self.source_id}.{self.event} -> {self.target_id}.{self.slot}"
