"""The README's Python quick start runs as written, so it cannot rot."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

# The quick start trains for 100k env steps
pytestmark = pytest.mark.slow


def test_readme_usage_example_runs(tmp_path, monkeypatch):
    usage = README.read_text().split("## Usage", 1)[1]
    code = re.search(r"```python\n(.*?)```", usage, re.DOTALL)
    assert code is not None, "README's Usage section has no python block"
    monkeypatch.chdir(tmp_path)  # it saves reinforce_cartpole.zip in the working directory
    namespace: dict = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    assert (tmp_path / "reinforce_cartpole.zip").is_file()
    assert namespace["model"].num_timesteps >= 100_000
