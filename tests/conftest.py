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
