"""The compare-and-swap protocol every credentials state backend follows.

``read()`` returns ``(data or None, generation)``; ``write(data, generation)`` stores data only if the
object is still at ``generation`` (``ABSENT`` to create it) and returns the new generation, else raises
``StateConflict``: two concurrent writers never lose an update.
"""

from __future__ import annotations

ABSENT = 0


class StateConflict(Exception):
    """The object changed since it was read (GCS 412 or a local compare-and-swap miss)."""
