"""The algorithm page (docs/algorithm.md) and CITATION.cff: the example runs as written, and the citations name the
version that is installed, so neither can rot."""

import re
from pathlib import Path

import pytest
import yaml
from stable_baselines3.common import evaluation

import sb3_reinforce

ROOT = Path(__file__).resolve().parents[1]
ALGORITHM = ROOT / "docs" / "algorithm.md"
CITATION = ROOT / "CITATION.cff"
WILLIAMS_DOI = "10.1007/BF00992696"


def section(heading: str) -> str:
    """:return: The text of docs/algorithm.md's ``## heading`` section, up to the next ``## `` heading"""
    text = ALGORITHM.read_text()
    assert f"\n## {heading}\n" in text, f"docs/algorithm.md has no '## {heading}' section"
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def bibtex_entries() -> dict[str, str]:
    """:return: The BibTeX entries of the "How to cite" section, by key"""
    blocks = re.findall(r"```bibtex\n(.*?)```", section("How to cite"), re.DOTALL)
    entries = {}
    for block in blocks:
        for key, body in re.findall(r"@\w+\{([^,\s]+),\n(.*?)\n\}", block, re.DOTALL):
            entries[key] = body
    return entries


def bibtex_field(entry: str, name: str) -> str:
    match = re.search(rf"^\s*{name} = \{{(.*)\}},?$", entry, re.MULTILINE)
    assert match is not None, f"no {name} in {entry!r}"
    return match.group(1)


# ---------------------------------------------------------------------------------------------------
# How to cite
# ---------------------------------------------------------------------------------------------------


def test_citation_cff_is_complete_and_names_the_installed_version():
    citation = yaml.safe_load(CITATION.read_text())
    # The keys CFF 1.2.0 requires, and those GitHub's "Cite this repository" shows
    for key in ("cff-version", "message", "title", "authors", "version", "date-released", "license", "type"):
        assert citation.get(key), f"CITATION.cff has no {key}"
    assert citation["cff-version"] == "1.2.0"
    assert citation["type"] == "software"
    assert citation["authors"] == [{"name": "sb3-reinforce developers"}]  # an entity, not a person
    assert str(citation["version"]) == sb3_reinforce.__version__
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(citation["date-released"]))
    license_ = re.search(r'^license = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert license_ is not None and citation["license"] == license_.group(1)
    (williams,) = [ref for ref in citation["references"] if ref.get("doi") == WILLIAMS_DOI]
    assert williams["authors"] == [{"family-names": "Williams", "given-names": "Ronald J."}]
    assert (williams["journal"], williams["volume"], williams["year"]) == ("Machine Learning", 8, 1992)
    assert (williams["start"], williams["end"]) == (229, 256)


def test_bibtex_matches_citation_cff():
    citation = yaml.safe_load(CITATION.read_text())
    entries = bibtex_entries()
    software = entries["sb3-reinforce"]
    assert bibtex_field(software, "note") == f"Version {sb3_reinforce.__version__}"
    assert bibtex_field(software, "year") == str(citation["date-released"])[:4]
    assert bibtex_field(software, "author") == "{sb3-reinforce developers}"
    # BibTeX braces keep the capitals; without them, the title is CITATION.cff's
    assert bibtex_field(software, "title").replace("{", "").replace("}", "") == citation["title"]
    (williams,) = [body for body in entries.values() if WILLIAMS_DOI in body]
    assert bibtex_field(williams, "author") == "Williams, Ronald J."
    assert bibtex_field(williams, "pages") == "229--256"
    assert (bibtex_field(williams, "volume"), bibtex_field(williams, "year")) == ("8", "1992")


# ---------------------------------------------------------------------------------------------------
# The example
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow  # trains for 30k steps
def test_example_runs(tmp_path, monkeypatch):
    code = re.search(r"```python\n(.*?)```", section("Example"), re.DOTALL)
    assert code is not None, "docs/algorithm.md's Example section has no python block"
    # Record which env evaluate_policy is given: the example imports it from this module when it runs
    evaluated, evaluate_policy = [], evaluation.evaluate_policy

    def recording_evaluate_policy(model, env, *args, **kwargs):
        evaluated.append(env)
        return evaluate_policy(model, env, *args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_policy", recording_evaluate_policy)
    monkeypatch.chdir(tmp_path)  # it saves reinforce_cartpole.zip in the working directory
    namespace: dict = {}
    exec(compile(code.group(1), str(ALGORITHM), "exec"), namespace)

    assert (tmp_path / "reinforce_cartpole.zip").is_file()
    # Evaluated on its own env, never on the training env (whose unfinished batch a reset would cut)
    assert evaluated == [namespace["eval_env"]]
    assert namespace["eval_env"] is not namespace["env"]
    # The reloaded model is the trained one, and acts on the eval env: one action per env
    model, eval_env = namespace["model"], namespace["eval_env"]
    assert isinstance(model, sb3_reinforce.REINFORCE)
    assert model.num_timesteps >= 30_000
    assert namespace["action"].shape == (eval_env.num_envs,)
    assert eval_env.action_space.contains(namespace["action"][0])
    # It learned something: an untrained policy, acting deterministically, balances for about 10 steps
    assert namespace["mean_reward"] > 100
