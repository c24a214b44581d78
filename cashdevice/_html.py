"""Rich display for Jupyter: the HTML behind ``_repr_html_`` of :class:`~cashdevice.CashDevice`,
the emulator's :class:`~cashdevice.emulator.ledger.LedgerView` and the list ``GetDeviceStatus()``
returns.  Pure: it reads the objects it is given (duck-typed, no cashdevice imports) and escapes
every value it writes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["DeviceStatusList", "device_html", "events_html", "ledger_html"]

_STYLE = "border-collapse:collapse;text-align:right"


def _text(value: Any) -> str:
    """The display text of ``value``: an enum's name, a bool as yes/no, anything else as str()."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    name = getattr(value, "name", None)
    if isinstance(name, str) and not isinstance(value, str):
        return name
    return str(value)


def _cell(tag: str, value: Any) -> str:
    return f"<{tag}>{html.escape(_text(value))}</{tag}>"


def _table(caption: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(_cell("th", h) for h in header)
    body = "\n".join("<tr>" + "".join(_cell("td", v) for v in row) + "</tr>" for row in rows)
    return (
        f'<table style="{_STYLE}">\n<caption>{html.escape(caption)}</caption>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    )


def _fields(rows: Sequence[tuple[str, Any]]) -> str:
    body = "\n".join(f"<tr>{_cell('th', k)}{_cell('td', v)}</tr>" for k, v in rows)
    return f'<table style="border-collapse:collapse;text-align:left">\n<tbody>\n{body}\n</tbody>\n</table>'


def device_html(device: Any) -> str:
    """A :class:`~cashdevice.CashDevice`: identity and state, then one row per denomination."""
    address = getattr(device, "_address", 0)
    title = f"{type(device).__name__} {_text(device.deviceModel)} on {device.comPort or '(not open)'}"
    summary = _fields(
        [
            ("model", device.deviceModel),
            ("port", f"{device.comPort or '(not open)'} @ 0x{address:02X}"),
            ("state", device.deviceState),
            ("error", device.deviceError),
            ("serial", device.mainSerialNumber),
            ("firmware", device.firmware),
            ("dataset", device.dataset),
        ]
    )
    levels = _table(
        "levels",
        ("value", "currency", "stored", "stored in cashbox", "route", "inhibit"),
        (
            (e.Value, e.CountryCode, e.Stored, e.StoredInCashbox, e.AcceptRoute, e.IsInhibited)
            for e in device.currencyAssignment
        ),
    )
    return f'<div class="cashdevice">\n<strong>{html.escape(title)}</strong>\n{summary}\n{levels}\n</div>'


def ledger_html(view: Any) -> str:
    """The emulator's ledger view: per denomination the main counters and the physical contents,
    then whether the books balance (and every problem if not)."""
    columns = (
        "loaded",
        "inserted",
        "rejected",
        "credited",
        "stacked",
        "stored",
        "dispensed",
        "floated",
        "emptied",
    )
    denominations = sorted(set(view.counts) | set(view.store) | set(view.cashbox))
    rows = []
    for d in denominations:
        counts = view.counts.get(d)
        rows.append(
            (
                d.value,
                d.country,
                *(getattr(counts, c, 0) if counts is not None else 0 for c in columns),
                view.store.get(d, 0),
                view.cashbox.get(d, 0),
            )
        )
    table = _table("emulator ledger", ("value", "currency", *columns, "in store", "in cashbox"), rows)
    problems = view.problems()
    if problems:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        verdict = f"<p>does not balance:</p>\n<ul>{items}</ul>"
    else:
        verdict = "<p>balanced</p>"
    return f'<div class="cashdevice-ledger">\n{table}\n{verdict}\n</div>'


def events_html(events: Iterable[Any]) -> str:
    """Event payloads (``GetDeviceStatus()``): one row each, type and message."""
    rows = []
    for e in events:
        data: Mapping[str, Any] = e.to_json() if hasattr(e, "to_json") else {}
        rows.append((data.get("type", type(e).__name__), data.get("message", str(e))))
    return _table(f"{len(rows)} event(s)", ("type", "message"), rows)


class DeviceStatusList(list[Any]):
    """What ``GetDeviceStatus()`` returns: a plain list (same ``repr``) that renders as a table
    in Jupyter."""

    def _repr_html_(self) -> str:
        return events_html(self)
