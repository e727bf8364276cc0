"""
The training-time profile of benchmarks/profile_run.py: each timer counts its own time once, the parts add up to the
wall time of learn(), and profiling leaves training unchanged.
"""

import sys
from pathlib import Path

import pytest
import torch as th

pytest.importorskip("rl_zoo3")
pytest.importorskip("mujoco")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import profile_run

ENV, STEPS = "InvertedPendulum-v5", 2000  # the MuJoCo template entry (VecNormalize, value baseline); short episodes


class FakeClock:
    """perf_counter for profile_run: time moves only when a test says so"""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(profile_run.time, "perf_counter", fake.perf_counter)
    return fake


def test_nested_timers_count_exclusive_time(clock):
    """A timed call inside another is counted once, in its own part; a forward inside the update is the update's"""
    profile = profile_run.Profile()
    env = profile.timed("env", lambda: clock.advance(2.0))
    forward = profile.timed("forward", lambda: clock.advance(0.5), outermost_only=True)

    def step():
        clock.advance(1.0)
        env()
        clock.advance(3.0)

    def train():
        forward()
        clock.advance(1.0)

    profile.timed("wrappers", step)()
    profile.timed("wrappers", step)()
    profile.timed("update", train)()
    forward()
    expected = dict.fromkeys(profile_run.PARTS, 0.0) | {"env": 4.0, "wrappers": 8.0, "forward": 0.5, "update": 1.5}
    assert profile.seconds == pytest.approx(expected)
    assert profile.calls["env"] == 2 and profile.calls["forward"] == 1 and profile.calls["update"] == 1


def test_a_timed_call_returns_and_raises_as_the_function():
    profile = profile_run.Profile()
    assert profile.timed("env", lambda x, y=1: (x, y))(2, y=3) == (2, 3)

    def fails():
        raise KeyError("x")

    with pytest.raises(KeyError):
        profile.timed("critic", fails)()
    assert profile.calls["critic"] == 1 and not profile._inner  # the failed call is closed


def test_table_parts_and_shares():
    profile = profile_run.Profile()
    profile.seconds.update(env=3.0, wrappers=1.0, update=2.0)
    profile.calls.update(env=100, wrappers=100, update=2)
    result = profile_run.table(profile, 10.0, 100, ["Monitor", "TimeLimit"])
    rows = {row[0]: row[1:] for row in result["rows"]}
    assert rows["env step (MuJoCo physics and reward)"] == ["3.0", "30.0", "30000.0", 100]
    assert rows["gymnasium wrappers (Monitor, TimeLimit)"] == ["1.0", "10.0", "10000.0", 100]
    assert rows["rest of learn() (buffers, callbacks, bookkeeping)"] == ["4.0", "40.0", "40000.0", ""]
    assert rows["total (learn)"] == ["10.0", "100.0", "100000.0", ""]
    assert result["shares"]["rest"] == pytest.approx(40.0)


@pytest.fixture(scope="module")
def profiled():
    return profile_run.train(ENV, STEPS, seed=0)


def test_shares_of_a_short_run(profiled):
    model, profile = profiled["model"], profiled["profile"]
    result = profile_run.table(profile, profiled["seconds"], model.num_timesteps, profiled["wrappers"])
    shares = result["shares"]
    assert list(shares) == list(profile_run.PARTS)
    assert all(share >= 0 for share in shares.values()), shares  # no time counted twice
    assert sum(float(row[2]) for row in result["rows"][:-1]) == pytest.approx(100.0, abs=0.05 * len(shares))
    for part in ("env", "wrappers", "resets", "vec_env", "forward", "update", "critic", "rest"):
        assert shares[part] > 0, part
    # Every env's every step went through the timers, and every update
    assert profile.calls["env"] == profile.calls["wrappers"] == model.num_timesteps >= STEPS
    assert profile.calls["update"] == profile.calls["critic"] == model._n_updates > 0
    assert profiled["wrappers"][0] == "Monitor" and "PassiveEnvChecker" in profiled["wrappers"]


def test_profiling_does_not_change_training(profiled):
    plain = profile_run.train(ENV, STEPS, seed=0, profiled=False)
    assert plain["profile"] is None
    model, reference = profiled["model"], plain["model"]
    assert model.num_timesteps == reference.num_timesteps and model._n_updates == reference._n_updates
    params, reference_params = model.policy.state_dict(), reference.policy.state_dict()
    assert params.keys() == reference_params.keys()
    for name, tensor in params.items():
        assert th.equal(tensor, reference_params[name]), name
    assert (model.env.obs_rms.mean == reference.env.obs_rms.mean).all()  # VecNormalize saw the same observations
