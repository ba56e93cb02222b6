"""``from routilux.runtime import Runtime``, as the seed examples write."""

from routilux.core.runtime import Runtime

__all__ = ["Runtime"]
