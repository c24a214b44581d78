"""Probe review3: an adversarial review of the changes merged after ca514a8 (payouts cut by a reset,
NOTE INTO STORE AT RESET, port claims that follow their holder's name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cashdevice._port_claims import PortClaims

Make = Callable[..., Any]


class Holder:  # (a stand-in for a CashDevice: claims hold their devices weakly)
    pass


def test_a_claim_on_a_link_to_a_link_follows_the_inner_link(tmp_path: Path) -> None:
    """A opens ``/opt/kiosk/cash`` (the application's stable name), a link to udev's by-id link,
    which names ttyACM0.  A's unit is unplugged and comes back as ttyACM1: udev re-creates the by-id
    link; the application's own link is untouched.  A claim is where its holder's name resolves
    *now* (f73ae8a), but e54dc14 resolves a name again only when the name's own ``lstat`` changed,
    and the outer link's never does: A's claim stayed on ttyACM0, so a second instance opened
    ttyACM1 (A's unit, which A reconnects to) and a third was refused the unit now on ttyACM0."""
    acm0, acm1 = tmp_path / "ttyACM0", tmp_path / "ttyACM1"
    acm0.touch()
    acm1.touch()
    by_id = tmp_path / "by-id-a"
    by_id.symlink_to(acm0)
    mine = tmp_path / "cash"
    mine.symlink_to(by_id)
    claims, a, b = PortClaims(), Holder(), Holder()
    assert claims.claim(str(mine), a) is None  # type: ignore[arg-type]
    by_id.unlink()  # A unplugged ...
    by_id.symlink_to(acm1)  # ... and back as ttyACM1
    assert claims.claim(str(acm1), b) is a  # type: ignore[arg-type]
    assert claims.claim(str(acm0), b) is None  # type: ignore[arg-type]  # (ttyACM0 is free)
