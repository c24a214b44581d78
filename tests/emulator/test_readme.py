"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import cashdevice.emulator

README = Path(cashdevice.emulator.__file__).with_name("README.md")


def test_readme_example_runs():
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), str(README), "exec"), namespace)
    emu = namespace["emu"]
    assert namespace["url"].startswith("cashdevice://")
    assert not emu._thread.is_alive()  # the example ends with emu.stop()
