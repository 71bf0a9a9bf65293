"""The command adapter: templates, the module tree on disk, and misbehaving commands."""

import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from conformance.contract import Ending, Program
from conformance.command import CommandLoader, TemplateError, parse_template, write_tree

PY = shlex.quote(sys.executable)


def program(modules=None, timeout=10.0):
    return Program(name="area/case", modules=modules or {"program": "print('hi')"},
                   main="program", timeout=timeout)


def fake(script: str, **kw) -> CommandLoader:
    """A loader that is a Python one-liner run on {root} and {main}."""
    return CommandLoader(f"{PY} -c {shlex.quote(script)} {{root}} {{main}} {{main_file}}", **kw)


def test_placeholders_are_substituted_per_argument_and_the_tree_is_written():
    loader = fake("import sys, pathlib; r, m, f = sys.argv[1:4];"
                  "print(m, pathlib.Path(f).read_text(), pathlib.Path(r, 'a', 'b.js').read_text(),"
                  " f == r + '/' + m + '.js')")
    execution = loader.run(program({"program": "P", "a/b": "AB"}))
    assert execution.ending is Ending.EXITED and execution.exit_code == 0
    assert execution.stdout == "program P AB True\n"


def test_the_directory_is_removed_afterwards(tmp_path):
    where = tmp_path / "root.txt"
    fake(f"import sys; open({str(where)!r}, 'w').write(sys.argv[1])").run(program())
    root = where.read_text()
    assert root.endswith("/root") and not os.path.exists(root.rsplit("/", 1)[0])


def test_env_values_take_placeholders():
    loader = fake("import os; print(os.environ['WHERE'].endswith('/x'))", env={"WHERE": "{root}/x"})
    assert loader.run(program()).stdout == "True\n"


def test_exit_status_and_stderr_come_back():
    execution = fake("import sys; print('out'); sys.stderr.write('boom\\n'); sys.exit(3)").run(program())
    assert (execution.exit_code, execution.stdout, execution.stderr) == (3, "out\n", "boom\n")
    assert "exit status 3" in execution.diagnostic and "command:" in execution.diagnostic


def test_command_not_found_is_unavailable():
    execution = CommandLoader("no-such-loader-command {main_file}").run(program())
    assert execution.ending is Ending.UNAVAILABLE
    assert "no-such-loader-command" in execution.diagnostic


def test_a_hung_command_times_out_and_is_killed():
    started = time.perf_counter()
    execution = fake("import time; print('PASS 1 early', flush=True); time.sleep(60)").run(
        program(timeout=0.5))
    assert time.perf_counter() - started < 10
    assert execution.ending is Ending.TIMED_OUT and execution.stdout == "PASS 1 early\n"
    assert "killed after 0.5 s" in execution.diagnostic


def test_children_left_running_are_killed_with_the_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    loader = fake("import subprocess, sys; p = subprocess.Popen(['sleep', '60']);"
                  f"open({str(pidfile)!r}, 'w').write(str(p.pid)); print('DONE 0')")
    started = time.perf_counter()
    execution = loader.run(program())
    assert time.perf_counter() - started < 10  # did not wait for the child's pipe to close
    assert execution.ending is Ending.EXITED and execution.stdout == "DONE 0\n"
    child = int(pidfile.read_text())
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the child process survived its loader")


def test_a_crash_by_signal_is_named():
    execution = fake("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)").run(program())
    assert execution.ending is Ending.CRASHED and "SIGSEGV" in execution.diagnostic


def test_output_is_bounded():
    loader = fake("import sys\nfor _ in range(2000): sys.stdout.write('x' * 10000)")
    execution = loader.run(program())
    assert len(execution.stdout) == 4 << 20
    assert "bytes beyond" in execution.diagnostic


def test_templates_are_checked():
    assert parse_template("node '{root}/x y' {main}") == ("node", "{root}/x y", "{main}")
    with pytest.raises(TemplateError, match="unknown placeholder"):
        parse_template("node {mian}")
    with pytest.raises(TemplateError, match="empty"):
        parse_template("   ")
    with pytest.raises(TemplateError, match="cannot split"):
        parse_template("node 'unclosed")


@pytest.mark.parametrize("bad", ["../x", "/abs", "a//b", "a\\b", "x.js", "a\0b", ""])
def test_write_tree_refuses_ids_that_could_escape(tmp_path, bad):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ValueError):
        write_tree(root, {bad: "x"})
    assert list(tmp_path.iterdir()) == [root] and list(root.iterdir()) == []


def test_the_tree_is_the_modules_alone(tmp_path):
    """Nothing is planted beside or above the module tree: a kept copy of the tree is all the
    run depended on."""
    script = ("import sys, pathlib; root = pathlib.Path(sys.argv[1]);"
              "print(sorted(p.name for p in root.iterdir()),"
              " sorted(p.name for p in root.parent.iterdir()))")
    execution = fake(script).run(program({"program": "p", "x": "X"}))
    assert execution.stdout == "['program.js', 'x.js'] ['root']\n"


def test_the_temporary_directory_reads_as_root_placeholder():
    execution = fake("import sys; print(sys.argv[1] + '/a.js', 'file://' + sys.argv[1]);"
                     "sys.stderr.write(sys.argv[1] + '/../x.js')").run(program())
    assert execution.stdout == "{root}/a.js file://{root}\n"
    assert execution.stderr == "{root}/../x.js"


def test_writing_a_huge_tree_counts_inside_the_time_limit(tmp_path, hostile):
    """20,000 modules, a few levels deep: the tree is written within the case's time limit or
    not at all; the loader is not started once the limit has passed."""
    started_file = tmp_path / "started"
    loader = fake(f"open({str(started_file)!r}, 'w').close()")
    modules = {"program": "print('hi')"}
    modules.update({f"d{i % 100}/e{i % 7}/m{i}": "exports.x = 1;\n" for i in range(20_000)})
    started = time.perf_counter()
    execution = loader.run(program(modules, timeout=0.2))
    took = time.perf_counter() - started
    assert execution.ending is Ending.TIMED_OUT
    assert execution.diagnostic.startswith("writing the module tree took longer than the time "
                                           "limit of 0.2 s (wrote ")
    assert not started_file.exists(), "the loader ran after the time limit had passed"
    assert took < 60, "writing went on past the time limit"
    hostile("Hostile case files", "a case of 20,000 modules run on a command loader with "
                                  "--timeout 0.2",
            "timeout: " + execution.diagnostic + "; the partial tree was removed")


def test_the_time_spent_writing_the_tree_is_taken_from_the_loader(tmp_path):
    modules = {"program": "print('hi')"}
    modules.update({f"m{i}": "exports.x = 1;\n" for i in range(200)})
    execution = fake("import time; time.sleep(60)").run(program(modules, timeout=1.0))
    assert execution.ending is Ending.TIMED_OUT
    assert "killed after 1 s;" in execution.diagnostic  # the limit, not what was left of it
    assert execution.seconds < 30


def test_the_rerun_line_quotes_each_variable_whole():
    from conformance.keep import rerun_line

    loader = CommandLoader("node {main_file}", env={"A_B": "x y; rm -rf ~", "P": "{root}/lib"})
    line = rerun_line(loader, Path("/r o"), "program")
    assert shlex.split(line) == ["env", "A_B=x y; rm -rf ~", "P=/r o/lib", "node",
                                 "/r o/program.js"]


# --- A node profile program: files, not modules ----------------------------------------------

from conformance.command import main_file, write_files  # noqa: E402

SHOW_ENV = (f"{shlex.quote(sys.executable)} -c 'import os, sys; print(open(sys.argv[1]).read()"
            ".strip(), os.environ.get(\"NODE_PATH\"), os.environ[\"HOME\"], "
            "os.listdir(os.environ[\"HOME\"]))' {main_file}")


def test_files_are_written_under_the_root_as_given(tmp_path):
    write_files(tmp_path, {"app/src/program.js": "a", "node_modules/x/package.json": "{}",
                           "data": "\u00e9\n"})
    assert (tmp_path / "app/src/program.js").read_text() == "a"
    assert (tmp_path / "node_modules/x/package.json").read_text() == "{}"
    assert (tmp_path / "data").read_bytes() == "\u00e9\n".encode()
    assert main_file(tmp_path, "app/src/program.js") == tmp_path / "app/src/program.js"
    assert main_file(tmp_path, "app/program") == tmp_path / "app/program.js"


@pytest.mark.parametrize("path", ["../x.js", "/etc/x", "a/../../x", ".hidden", "a//b", "a/./b",
                                  "a\\b", ""])
def test_a_file_path_that_could_leave_the_root_is_refused(tmp_path, path):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ValueError, match="not segments"):
        write_files(root, {path: "x"})
    assert list(tmp_path.iterdir()) == [root] and not list(root.iterdir())


def test_files_are_never_written_through_a_link(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "lib").symlink_to(outside)
    with pytest.raises(ValueError, match="not a directory"):
        write_files(root, {"lib/a.js": "x"})
    (root / "b.js").symlink_to(outside / "b.js")
    with pytest.raises(OSError):
        write_files(root, {"b.js": "x"})
    assert not list(outside.iterdir())
    write_files(root, {"c.js": "1"})
    with pytest.raises(FileExistsError):  # created afresh, never over what is there
        write_files(root, {"c.js": "2"})


def test_a_profile_program_runs_on_its_main_file_without_node_path_and_with_a_private_home(
        monkeypatch):
    monkeypatch.setenv("NODE_PATH", "/somewhere/else")
    loader = CommandLoader(SHOW_ENV)
    execution = loader.run(Program("p", {}, "app/program.js", 10.0,
                                   {"app/program.js": "the main file", "app/x.json": "{}"}))
    assert execution.exit_code == 0, execution
    line = execution.stdout.strip()
    assert line.startswith("the main file None "), line  # NODE_PATH gone
    assert line.endswith(" []"), line  # HOME empty
    assert "{root}/../home" in line  # a directory of the case's own, removed after the run
    spec = loader.run(Program("q", {"program": "a module"}, "program", 10.0))
    assert spec.stdout.startswith("a module /somewhere/else "), spec.stdout  # unchanged
