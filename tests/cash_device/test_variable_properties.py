"""The generated read-only properties match the variables table, name for name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cashdevice._variable_properties import VariableProperties
from cashdevice.variables import VARIABLES

ROOT = Path(__file__).resolve().parents[2]


def test_generated_file_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_variable_properties.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (ROOT / "cashdevice" / "_variable_properties.py").read_text() == gen.render()


def test_every_variable_is_a_read_only_property() -> None:
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names)) == 94
    for name in names:
        prop = getattr(VariableProperties, name)
        assert isinstance(prop, property) and prop.fset is None, name
    assert "seondaryHopperBuildRevisionString" in names  # the seed's spelling kept
