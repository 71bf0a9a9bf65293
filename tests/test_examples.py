"""conformance.examples: where the example loaders are, in a checkout (installed: see
tests/test_pytest_plugin.py, which runs it from a wheel)."""

import os
import subprocess
import sys

from conformance.examples import folder, main


def test_in_a_checkout_the_examples_are_the_checkouts(repo):
    assert folder() == repo / "examples"


def test_a_named_example_prints_its_path(repo, capsys):
    assert main(["mini-loader.js", "node-host.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(repo / "examples" / "mini-loader.js"),
                                                    str(repo / "examples" / "node-host.yaml")]


def test_an_unknown_name_is_one_line_naming_the_examples(capsys):
    assert main(["mini-loader.js", "nonesuch.js"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing printed for the good name either: no half answer
    err = captured.err.splitlines()
    assert len(err) == 1 and "no example 'nonesuch.js'" in err[0] and "mini-loader.js" in err[0]


def test_run_as_a_module_it_prints_the_folder(repo, tmp_path):
    # This checkout's package, whatever copy is installed: from tmp_path, the checkout is not
    # on the path by itself.
    proc = subprocess.run([sys.executable, "-m", "conformance.examples"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(repo)})
    assert proc.returncode == 0 and proc.stdout == f"{repo / 'examples'}\n", proc.stderr
