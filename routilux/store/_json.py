"""Old private name of :mod:`routilux.store.codec`, kept for modules not yet moved to it."""

from routilux.store.codec import decode, encode, encode_or_none

__all__ = ["decode", "encode", "encode_or_none"]
