"""The emulator's authoritative accounting of every note and coin.

Counters per denomination (value, country), all counts of physical items:

============  =================================================================
inserted      entered the acceptor (note drawn in, coin dropped while accepting)
refused       offered while the unit did not accept (disabled, busy); never entered
rejected      returned to the customer before the credit point
credited      passed the credit point (the host was told: CREDIT / COIN CREDIT)
stacked       landed in the cashbox after a credit
stored        landed in the recycler / hopper after a credit
loaded        put into the store by an operator (initial fill, SET DENOMINATION LEVEL)
unloaded      taken out of the store by an operator (SET DENOMINATION LEVEL 0)
dispensed     paid out of the store and taken by the customer
floated       moved store -> cashbox by FLOAT AMOUNT / FLOAT BY DENOMINATION
emptied       moved store -> cashbox by EMPTY ALL / SMART EMPTY
cashbox_paid  moved store -> cashbox at the end of a payout (cashbox payout limit)
transferred   moved store -> cashbox by the unit (STACK NOTE, a note failing a payout)
cleared       moved into the cashbox at power-up (note left in the bezel by a power cut)
collected     taken out of the cashbox by an operator (cashbox removed and emptied)
============  =================================================================

With the transient counts the device reports (``in_path``: inserted, not yet rejected
nor credited; ``in_transit``: credited, not yet landed; ``in_bezel``: left the store, not
yet taken), :meth:`LedgerView.problems` checks, per denomination::

    inserted == rejected + credited + in_path
    credited == stacked + stored + in_transit
    store    == loaded + stored - unloaded - dispensed - floated - emptied
                - cashbox_paid - transferred - cleared - in_bezel
    cashbox  == stacked + floated + emptied + cashbox_paid + transferred + cleared - collected

where ``store`` and ``cashbox`` are the device's physical contents, tracked separately.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from .datasets import Denomination

__all__ = ["COUNTERS", "Counts", "Ledger", "LedgerEntry", "LedgerView"]

COUNTERS = (
    "inserted",
    "refused",
    "rejected",
    "credited",
    "stacked",
    "stored",
    "loaded",
    "unloaded",
    "dispensed",
    "floated",
    "emptied",
    "cashbox_paid",
    "transferred",
    "cleared",
    "collected",
)


@dataclass(frozen=True)
class Counts:
    """The counters of one denomination (see the module docstring)."""

    inserted: int = 0
    refused: int = 0
    rejected: int = 0
    credited: int = 0
    stacked: int = 0
    stored: int = 0
    loaded: int = 0
    unloaded: int = 0
    dispensed: int = 0
    floated: int = 0
    emptied: int = 0
    cashbox_paid: int = 0
    transferred: int = 0
    cleared: int = 0
    collected: int = 0


@dataclass(frozen=True)
class LedgerEntry:
    """One journal line."""

    time: float
    kind: str
    denomination: Denomination
    count: int = 1
    detail: str = ""


@dataclass(frozen=True)
class LedgerView:
    """Read-only snapshot: counters, journal and the device's physical state at one instant."""

    counts: Mapping[Denomination, Counts]
    journal: tuple[LedgerEntry, ...]
    store: Mapping[Denomination, int]
    cashbox: Mapping[Denomination, int]
    in_path: Mapping[Denomination, int]
    in_transit: Mapping[Denomination, int]
    in_bezel: Mapping[Denomination, int]

    def get(self, value: int, country: str) -> Counts:
        return self.counts.get(Denomination(value, country), Counts())

    def total(self, counter: str, country: str | None = None) -> int:
        """Sum of ``counter`` x value over denominations (optionally one currency)."""
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        return sum(
            getattr(c, counter) * d.value
            for d, c in self.counts.items()
            if country is None or d.country == country
        )

    def credited_total(self, country: str | None = None) -> int:
        """Value credited to the host (minor units; optionally one currency)."""
        return self.total("credited", country)

    def dispensed_total(self, country: str | None = None) -> int:
        """Value paid out to the customer (minor units; optionally one currency)."""
        return self.total("dispensed", country)

    def count(self, counter: str, country: str | None = None) -> int:
        """Number of items in ``counter`` (optionally one currency)."""
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        return sum(
            getattr(c, counter) for d, c in self.counts.items() if country is None or d.country == country
        )

    def problems(self) -> list[str]:
        """Every violated invariant, as text (empty when the books balance)."""
        out: list[str] = []
        denoms = set(self.counts) | set(self.store) | set(self.cashbox)
        for d in sorted(denoms):
            c = self.counts.get(d, Counts())
            path, transit, bezel = self.in_path.get(d, 0), self.in_transit.get(d, 0), self.in_bezel.get(d, 0)
            if c.inserted != c.rejected + c.credited + path:
                out.append(
                    f"{d}: inserted {c.inserted} != rejected {c.rejected} + credited {c.credited} "
                    f"+ in path {path}"
                )
            if c.credited != c.stacked + c.stored + transit:
                out.append(
                    f"{d}: credited {c.credited} != stacked {c.stacked} + stored {c.stored} "
                    f"+ in transit {transit}"
                )
            store = (
                c.loaded
                + c.stored
                - c.unloaded
                - c.dispensed
                - c.floated
                - c.emptied
                - c.cashbox_paid
                - c.transferred
                - c.cleared
                - bezel
            )
            if self.store.get(d, 0) != store:
                out.append(f"{d}: store holds {self.store.get(d, 0)}, books say {store}")
            cashbox = (
                c.stacked + c.floated + c.emptied + c.cashbox_paid + c.transferred + c.cleared - c.collected
            )
            if self.cashbox.get(d, 0) != cashbox:
                out.append(f"{d}: cashbox holds {self.cashbox.get(d, 0)}, books say {cashbox}")
        return out

    def balanced(self) -> bool:
        return not self.problems()

    def _repr_html_(self) -> str:
        from .._html import ledger_html

        return ledger_html(self)

    def check(self) -> None:
        """Raise ``AssertionError`` listing every violated invariant."""
        problems = self.problems()
        if problems:
            raise AssertionError("ledger does not balance:\n  " + "\n  ".join(problems))


class Ledger:
    """Mutable accounting owned by one emulated device (callers hold the device lock)."""

    def __init__(self, journal_limit: int = 100_000) -> None:
        self._counts: dict[Denomination, dict[str, int]] = {}
        self._journal: list[LedgerEntry] = []
        self._limit = journal_limit

    def record(self, kind: str, denomination: Denomination, count: int = 1, detail: str = "") -> None:
        if kind not in COUNTERS:
            raise ValueError(f"unknown ledger counter {kind!r}")
        if count <= 0:
            return
        row = self._counts.setdefault(denomination, dict.fromkeys(COUNTERS, 0))
        row[kind] += count
        self._journal.append(LedgerEntry(time.time(), kind, denomination, count, detail))
        if len(self._journal) > self._limit:
            del self._journal[: len(self._journal) - self._limit]

    def view(
        self,
        store: Mapping[Denomination, int],
        cashbox: Mapping[Denomination, int],
        in_path: Mapping[Denomination, int],
        in_transit: Mapping[Denomination, int],
        in_bezel: Mapping[Denomination, int],
    ) -> LedgerView:
        names = [f.name for f in fields(Counts)]
        counts = {d: Counts(**{n: row[n] for n in names}) for d, row in self._counts.items()}

        def freeze(m: Mapping[Denomination, int]) -> Mapping[Denomination, int]:
            return MappingProxyType({d: n for d, n in m.items() if n})

        return LedgerView(
            MappingProxyType(counts),
            tuple(self._journal),
            freeze(store),
            freeze(cashbox),
            freeze(in_path),
            freeze(in_transit),
            freeze(in_bezel),
        )
