"""Without the ``[fast]`` extra: pycryptodome and the Python CRC carry a whole encrypted session.

CI installs the extra, so this runs a fresh interpreter in which ``cryptography`` and ``crcmod``
cannot be imported, as on a machine without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cashdevice

SCRIPT = """
import sys
import threading

for name in ("cryptography", "crcmod"):
    sys.modules[name] = None  # import fails, as when the package is not installed

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, ssp
from cashdevice.emulator import Emulator

assert ssp.AES_BACKENDS == ("pycryptodome",) and ssp.AES_BACKEND == "pycryptodome", ssp.AES_BACKENDS
assert ssp.CRC_BACKEND == "python" and ssp.crc16 is ssp.crc16_python, ssp.CRC_BACKEND
emu = Emulator("SPECTRAL_PAYOUT")
device = CashDevice()
stored = threading.Event()
device.CashEvent.connect(
    lambda sender, e=None, **_: stored.set() if e is not None and e.eventType.name == "STORED" else None
)
try:
    assert device.Open(emu.url, emu.address, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    assert device._link is not None and device._link.encrypted(emu.address)
    assert emu.insert_note(500, wait=5)
    assert stored.wait(10), "no STORED"
    assert emu.ledger.balanced()
finally:
    device.Close()
    emu.stop()
print("without the extra: OK")
"""


def test_an_encrypted_session_and_a_credit_without_the_fast_extra() -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(cashdevice.__file__).resolve().parents[1]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "without the extra: OK" in proc.stdout
