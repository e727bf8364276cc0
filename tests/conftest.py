import importlib.util
from pathlib import Path

import pytest
import torch as th


@pytest.fixture(autouse=True)
def one_torch_thread():
    """
    One torch thread for every test: small MLPs run fastest so, CI has 2 cores, and rl_zoo3's --num-threads
    (called in-process by the zoo tests) sets torch's global pool. Restored afterwards.
    """
    n_threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(n_threads)


@pytest.fixture(scope="session")
def tables():
    """docs/tables.py (a script, not a module of the package), which renders the results tables of the docs"""
    spec = importlib.util.spec_from_file_location("tables", Path(__file__).resolve().parents[1] / "docs" / "tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
