"""The REST server's rig (:mod:`rig`), when the [rest] extra is installed; without it nothing here is
collected (tests/conftest.py says so in the report header), so ``pytest tests/rest`` reports no tests
instead of failing on the missing web stack."""

from __future__ import annotations

import importlib.util

if any(importlib.util.find_spec(name) is None for name in ("fastapi", "httpx")):
    collect_ignore_glob = ["*.py"]
else:
    # the fixtures (found by pytest in this module's namespace) and what the tests import
    from .rig import MODELS, Rig, _module_threads, _no_stray_threads, rig, seed_examples

    __all__ = ["MODELS", "Rig", "_module_threads", "_no_stray_threads", "rig", "seed_examples"]
