"""The emulated device: one class combining the behaviour mixins, built from a model spec."""

from __future__ import annotations

from .barcode import BarcodeMixin
from .cassette import CassetteMixin
from .coins import CoinMixin
from .notes import NoteMixin
from .nv11 import NV11Mixin

__all__ = ["Device"]


class Device(CassetteMixin, BarcodeMixin, NV11Mixin, NoteMixin, CoinMixin):
    """A model's full behaviour; which commands exist depends on ``spec`` (kind, payout)."""
