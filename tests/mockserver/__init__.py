"""Local replicas of real government portals, served by hostname through an HTTP proxy, so
that nianbao's crawler can be tested offline against its real site entries (``nianbao demo``
has a small portal of its own, ``commands/demo/``).

``ReplicaServer`` (replicas/proxy.py) is the entry point; the portals are described in
``portals.yaml``; the seed reports are rendered by ``replicas/render.py``, which draws the
report tables openly from the gold values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mockserver.proxy import ReplicaServer

__all__ = ["ReplicaServer"]


def __getattr__(name: str) -> object:
    """Import the server on first use, so that ``python -m tests.mockserver.render`` (which needs
    none of it) runs without importing itself twice."""
    if name == "ReplicaServer":
        from tests.mockserver.proxy import ReplicaServer

        return ReplicaServer
    raise AttributeError(f"module 'replicas' has no attribute {name!r}")
