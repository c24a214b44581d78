"""seed_examples.json is what extract_seed_examples.py produces from the seed (when the seed is at hand)."""

from __future__ import annotations

import json
import sys

import pytest

from . import extract_seed_examples as ex


@pytest.mark.skipif(
    not ex.DEFAULT_SEED.exists(), reason="../shared (the seed text) is not beside the repository"
)
def test_fixture_matches_a_fresh_extraction() -> None:
    fresh = ex.extract(ex.DEFAULT_SEED)
    assert json.loads(ex.FIXTURE.read_text(encoding="utf-8")) == json.loads(json.dumps(fresh))
    assert len(fresh["sections"]) == 80 and fresh["sections"][0]["line"] == 703
    assert sys.version_info >= (3, 9)
