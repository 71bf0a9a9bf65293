"""Node and Rhino, certified against the expectation files the project ships."""

import subprocess
import sys

import pytest
import yaml

from conformance.registry import LoaderError, resolve

LOADERS = ["node", "rhino", "rhino-sandbox"]


def require_installed(name):
    """Skip, saying so, where the loader's command is not on this machine."""
    try:
        resolve(name)
    except LoaderError as exc:
        pytest.skip(str(exc))


def run(repo, *args):
    return subprocess.run([sys.executable, "runner.py", *args], cwd=repo, capture_output=True,
                          text=True, timeout=1200)


@pytest.mark.parametrize("name", LOADERS)
def test_loader_matches_its_expectations(repo, name):
    require_installed(name)
    proc = run(repo, "--loader", name, "--expectations", f"expectations/{name}.yaml")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 new, 0 changed, 0 unexpected passes, 0 unknown entries" in proc.stdout


@pytest.mark.parametrize("name", LOADERS)
def test_removing_an_entry_makes_the_run_fail(repo, tmp_path, name):
    require_installed(name)
    recorded = yaml.safe_load((repo / "expectations" / f"{name}.yaml").read_text())
    case = sorted(recorded["failures"])[0]
    del recorded["failures"][case]
    fewer = tmp_path / f"{name}.yaml"
    fewer.write_text(yaml.safe_dump(recorded))
    proc = run(repo, "--loader", name, "-k", case, "--expectations", str(fewer))
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "NEW " in proc.stdout and case in proc.stdout


def test_node_given_only_as_a_template_is_certified_like_the_profile(repo):
    require_installed("node")
    proc = run(repo, "--loader-cmd", "node {main_file}", "--env", "NODE_PATH={root}",
               "--loader-name", "node", "--expectations", "expectations/node.yaml")
    assert proc.returncode == 0, proc.stdout[-4000:]


def _plain(text):
    for mark in ('``', '"', "'", "\u201c", "\u201d"):
        text = text.replace(mark, "")
    return " ".join(text.split()).lower()


def test_every_shipped_reason_quotes_the_sentence_it_rests_on(repo):
    """A known failure is explained by the spec's own words: each reason quotes the sentence
    of a catalogue clause (a MUST for a failure, the SHOULD for a warning)."""
    from conformance.clauses import catalogue

    quotes = {c.id: _plain(c.quote) for c in catalogue().values() if c.quote}
    files = sorted((repo / "expectations").glob("*.yaml"))
    assert files
    for path in files:
        recorded = yaml.safe_load(path.read_text())
        for case, entry in (recorded.get("failures") or {}).items():
            reason = _plain(entry["reason"])
            assert any(q in reason for q in quotes.values()), f"{path.name}: {case}"
