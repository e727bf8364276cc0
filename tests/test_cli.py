import pytest

from sb3_reinforce import REINFORCE
from sb3_reinforce.cli import main


def test_train_command_trains_evaluates_and_saves(tmp_path, capsys):
    save_path = tmp_path / "model.zip"
    main(
        [
            "train", "--env", "CartPole-v1", "--total-timesteps", "2000", "--n-envs", "2", "--eval-episodes", "3",
            "--save-path", str(save_path), "--no-progress-bar", "--n-episodes", "4", "--baseline", "mean",
            "--net-arch", "16", "16",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "deterministic eval over 3 episodes" in out
    model = REINFORCE.load(save_path)
    assert model.n_episodes == 4 and model.baseline == "mean"
    assert model.policy_kwargs["net_arch"] == [16, 16]


def test_train_command_rejects_unknown_baseline(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--baseline", "median"])
    assert "median" in capsys.readouterr().err
