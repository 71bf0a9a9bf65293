"""The command line: run the suite against a loader, or run one module tree by hand."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import os
import signal
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from conformance import DEFAULT_SPEC, SPEC_VERSIONS, __version__
from conformance import expectations, junit
from conformance.caseload import (MAX_MODULES, SUFFIXES, CaseError, Suite, default_root,
                                  discover, find, load_all, profile_of)
from conformance.command import is_file_path
from conformance.select import Selection, SelectionError, Stop, listing, selection
from conformance.exitcodes import ExitCode
from conformance.parser import Parser
from conformance.contract import Ending, Loader, Program, capabilities
from conformance.keep import KeepReporter
from conformance.registry import LoaderError, from_options, known, timeout_problem
from conformance.harness import new_key
from conformance.judge import judge
from conformance.outcomes import PRECISION_GOAL, Kind, Outcome, Verdict, caught_by, precision
from conformance.clauses import (CATALOGUE_FILES, PROFILES, SPEC_PAGES, archived,
                                 catalogue, is_profile, source_commit)
from conformance.report import case_counts, read_benchmark, render
from conformance.repeat import Repeated, merged
from conformance.reporters import Reporters
from conformance.results import (OutputError, Results, ResultsError, Writer, check_output,
                                 check_output_dir, read, write, write_atomically)
from conformance.features import Features, resolve as resolve_features
from conformance.run import DEFAULT_TIMEOUT, execute, not_applicable, prepare, run_cases
from conformance.terminal import TerminalReporter
from conformance.text import counted, one_line

#: The subcommands: name -> ("module:function" taking the remaining arguments and returning
#: the exit status, what it does in one line). `run` is the default.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("conformance.cli:run_command", "run the cases against a loader and judge them"),
    "exec": ("conformance.cli:exec_command", "run one module tree on a loader, by hand"),
    "clauses": ("conformance.cli:clauses_command", "list the clause catalogue and its cases"),
    "mutants": ("conformance.cli:mutants_command",
                "run the mutant loaders: does every clause catch its breakage?"),
    "report": ("conformance.cli:report_command", "render REPORT.md from results files"),
    "diff": ("conformance.diff:diff_command",
             "what changed between two results files; exit 1 when a verdict changed"),
    "badge": ("conformance.badge:badge_command", "an SVG badge of one run"),
    "summary": ("conformance.summary:summary_command",
                "a Markdown summary of runs, for a CI job summary page"),
    "html": ("conformance.html:html_command",
             "one self-contained HTML report of runs, with the failing cases' sources"),
}
#: Cases every loader-testable clause must have at least.
MIN_CASES = 3


class _Signals:
    """SIGINT and SIGTERM while the command runs. The first stops the run (KeyboardInterrupt);
    from then on, and while the final files are written, they are noted and deferred, so that a
    second Ctrl-C never loses the JUnit XML or leaves temporary directories behind. Inside
    `held()` (the reporters' start, and each verdict as they take it: a line of the results
    file, a kept case) the first is deferred to its end. Python only prints an exception raised
    in some places (an at-fork hook while a loader process starts, a `__del__`): `poll()`, at
    each verdict, raises such a swallowed stop again."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.stopping = False
        self.holding = 0
        self.pending = False
        self.deferred = 0
        self.raised = False  # a KeyboardInterrupt was raised to stop the run
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame):
        if self.stopping or self.holding:
            self.pending = self.pending or not self.stopping
            self.deferred += 1
            if self.stopping and self.deferred == 1:
                print("\nstill writing the results and removing temporary files; "
                      "one moment", file=sys.stderr, flush=True)
            return
        self.stopping = self.raised = True
        raise KeyboardInterrupt

    def poll(self) -> None:
        """Raise the stop again if it was raised and the run goes on (it was swallowed)."""
        if self.raised:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.holding += 1
        try:
            yield
        finally:
            self.holding -= 1
        if not self.holding and self.pending and not self.stopping:
            self.pending = False
            self.stopping = self.raised = True
            raise KeyboardInterrupt

    def finishing(self) -> None:
        """From now on every signal is deferred: the run is writing what it has."""
        self.stopping = True


#: The signals of the command being run (main() installs them; a direct call gets its own).
_SIGNALS = _Signals()


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    problem = timeout_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} cases at once runs nothing; give 1 or more")
    return value


def _path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def _add_loader_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("the loader (one of --loader, --loader-cmd, --loader-file)")
    group.add_argument("--loader", metavar="NAME",
                       help="a loader by name (default: reference); known: "
                            f"{', '.join(known())}, mutant:NAME, variant:NAME, or "
                            "package.module:Class for a Python loader run in-process")
    group.add_argument("--loader-cmd", metavar="TEMPLATE",
                       help="any command as the loader, e.g. 'node run.js {root} {main}': "
                            "{root} is the module tree's directory, {main} the main module's "
                            "id, {main_file} its file; split with shell quoting, run without "
                            "a shell")
    group.add_argument("--loader-file", type=_path, metavar="FILE",
                       help="a loader file: name, command, env, sandbox, spec, timeout")
    group.add_argument("--loader-name", metavar="NAME",
                       help="the name results and expectations use for --loader-cmd")
    group.add_argument("--sandbox", action="store_true",
                       help="the loader is a sandbox (with --loader-cmd), or run the reference "
                            "loader as one")
    group.add_argument("--env", action="append", metavar="KEY=VALUE",
                       help="an environment variable for --loader-cmd (repeatable; values "
                            "take the placeholders too)")
    group.add_argument("--confine", action="store_true",
                       help="run a loader command confined: a clean environment and a private "
                            "HOME, TMPDIR and working directory in the case's temporary "
                            "directory; where bwrap works, also a read-only file system but "
                            "for that directory, the home directory hidden, no network")


def _loader(args: argparse.Namespace):
    return from_options(args.loader, args.loader_cmd, args.loader_file, args.loader_name,
                        args.sandbox, args.env, getattr(args, "confine", False),
                        getattr(args, "profile", None))


def _run_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:9} {about}" for name, (_, about) in COMMANDS.items())
    p = Parser(prog="runner.py [run]",
                description="Run the conformance cases against a loader and judge every one.",
                epilog=f"commands (`{Parser.invoked()} COMMAND --help` for each; run is the "
                       f"default):\n{commands}",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_loader_options(p)
    p.add_argument("--spec", default=None, choices=SPEC_VERSIONS,
                   help="the spec version to hold the loader to (default: what the loader "
                        f"claims, else {DEFAULT_SPEC})")
    _add_profile_option(p, "run the cases of this profile and judge them by its catalogue, "
                           "instead of Modules/1.1.1's")
    select = p.add_argument_group("which cases run")
    select.add_argument("-k", dest="keyword", action="append", metavar="EXPR",
                        help="only cases whose id EXPR takes: words matched as parts of the id "
                             "(case set aside) joined with and, or, not and parentheses, as "
                             "pytest's -k: -k 'cycles or module', -k 'not sandbox'; several "
                             "-k must all hold")
    select.add_argument("--clause", action="append", metavar="ID",
                        help="only cases citing the clause ID (repeatable: citing any of them); "
                             "`clauses` lists the ids")
    select.add_argument("--list", action="store_true",
                        help="print the selected cases (id, title, clauses) and exit without "
                             "running them: 0, or 5 when none is selected")
    def failures(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of cases, 1 or more")
        return int(text)

    select.add_argument("--max-fail", type=failures, metavar="N",
                        help="stop the run after N cases failed, were blocked, errored or timed "
                             "out (results written as for an interrupted run; exit 1)")
    select.add_argument("-x", dest="max_fail", action="store_const", const=1,
                        help="stop at the first case that does not pass: --max-fail 1")

    def times(text: str) -> int:
        if not text.isdigit() or not 1 <= int(text) <= 100:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs from 1 to 100")
        return int(text)

    p.add_argument("--repeat", type=times, default=1, metavar="N",
                   help="run each case N times in a row (on as many processes as -j gives): a "
                        "case that does not end the same way every time is an error of kind "
                        "flaky, never recorded as a known failure")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR",
                   help="the case directory (default: the suite's own cases); a case "
                        "program runs with your rights and, on a loader command such as node, "
                        "can read, change and delete your files: run cases you did not write "
                        "with --confine")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="time limit per case (default: what the loader declares, else "
                        f"{DEFAULT_TIMEOUT:g})")
    p.add_argument("--json", type=_path, metavar="FILE",
                   help="write the results to FILE as JSON lines, one per case as it finishes")
    p.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                   help="cases run at once (default: the number of cores); results and output "
                        "come in the same order as with -j 1")
    p.add_argument("--junit", type=_path, metavar="FILE", help="write JUnit XML to FILE")
    p.add_argument("--expectations", type=Path, metavar="FILE",
                   help="known failures of this loader: exit 0 when every failure is recorded "
                        "with the same outcome, kind and failure; non-zero on a new or changed "
                        "failure, an unexpected pass, or an entry that names no case; a file "
                        "for another loader or spec version is refused before the run (exit 7)")
    p.add_argument("--write-expectations", type=_path, metavar="FILE",
                   help="record this run's failures in FILE (reasons of unchanged entries "
                        "are kept) and exit 0 once it is written; a FILE that records another "
                        "loader or spec version is refused before the run unless --force is "
                        "given")
    p.add_argument("--force", action="store_true",
                   help="let --write-expectations replace a file recorded for another loader "
                        "or spec version")
    p.add_argument("--keep-failed", type=_path, metavar="DIR",
                   help="keep the module tree, rerun.sh and verdict of every case that did "
                        "not pass under DIR/<case id>/; only directories an earlier "
                        "--keep-failed made are replaced, and case ids starting with '.' are "
                        "not kept")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour on the terminal (default auto: on a terminal, unless NO_COLOR "
                        "is set)")
    p.add_argument("--version", action="version", version=f"commonjs-conformance {__version__}")
    return p


def _exec_parser() -> argparse.ArgumentParser:
    p = Parser(prog="runner.py exec",
                description="Run a directory of CommonJS modules (module id a/b is the file "
                            "ROOT/a/b.js) on a loader, the reference loader by default, with a "
                            "global print() there; or, given a case id instead of a directory, "
                            "run that case of the suite and judge it.")
    p.add_argument("root", metavar="ROOT|CASE-ID",
                   help="the directory of modules; or a case id (e.g. cycles/partial-exports): "
                        "the case is run, judged and shown in full, and the exit status is "
                        "that of a run of that one case")
    p.add_argument("main", nargs="?", metavar="MAIN",
                   help="the id of the main module, e.g. program (with ROOT only)")
    _add_loader_options(p)
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help=f"time limit (default: what the loader declares, else {DEFAULT_TIMEOUT:g}"
                        "; CPU seconds on the reference loader)")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR",
                   help="where CASE-ID is (default: the suite's own cases)")
    p.add_argument("--spec", default=None, choices=SPEC_VERSIONS,
                   help="the spec version to hold the loader to, with CASE-ID (default: what "
                        f"the loader claims, else {DEFAULT_SPEC})")
    _add_profile_option(p, "with CASE-ID: a case of this profile (node/...); with ROOT: "
                           "MAIN is the main file's path (program.js)")
    return p


def _timeout(args: argparse.Namespace, loader) -> float:
    if args.timeout is not None:
        return args.timeout
    timeout = loader.declaration.timeout
    if timeout is None:
        return DEFAULT_TIMEOUT
    problem = timeout_problem(timeout)  # an in-process loader declares what it likes
    if problem:
        raise LoaderError(f"the loader {loader.name!r} declares its time limit: {problem}")
    return timeout


def _outputs(args: argparse.Namespace) -> list[str]:
    """Problems with the run's output paths, found before anything runs: one path given to two
    outputs (or an output over an input), a missing or unwritable directory."""
    outputs = [(option, path) for option, path in (
        ("--json", args.json), ("--junit", args.junit),
        ("--write-expectations", args.write_expectations), ("--keep-failed", args.keep_failed))
        if path is not None]
    inputs = [(option, path) for option, path in (
        ("--loader-file", args.loader_file), ("--expectations", args.expectations))
        if path is not None]
    problems = []
    seen: dict[Path, str] = {}
    for option, path in outputs + inputs:
        where = Path(os.path.abspath(path))
        try:
            where = where.resolve()
        except OSError:
            pass
        other = seen.get(where)
        # Rewriting the expectations a run is checked against is allowed: read, then replaced.
        if other and {other, option} != {"--expectations", "--write-expectations"}:
            problems.append(f"{option} and {other} name the same file {path}: each would "
                            "overwrite the other")
        seen.setdefault(where, option)
    for option, path in outputs:
        try:
            if option == "--keep-failed":
                check_output_dir(path, option)
            else:
                check_output(path, option)
        except OutputError as exc:
            problems.append(str(exc))
    return problems


class _Refused(Exception):
    """A run refused before anything ran: its exit status and the lines that say why."""

    def __init__(self, status: ExitCode, *lines: object):
        super().__init__(status, *lines)
        self.status, self.lines = status, lines


@dataclass(frozen=True)
class _Setup:
    """What a run needs, every part of it checked before anything runs."""

    root: Path
    loader: Loader
    timeout: float
    spec: str
    suite: Suite
    #: The expectations the run is checked against (--expectations).
    known: expectations.Expectations | None
    #: The expectations file --write-expectations replaces, as it was.
    previous: expectations.Expectations | None


def _setup(args: argparse.Namespace) -> _Setup:
    """The loader, the cases and the expectations of a run; _Refused when they cannot be had
    or an option cannot work."""
    root = args.cases or default_root()
    if not root.is_dir():
        raise _Refused(ExitCode.USAGE_ERROR, f"runner.py: error: no case directory at {root}")
    try:
        loader = _loader(args)
        timeout = _timeout(args, loader)
    except LoaderError as exc:
        raise _Refused(ExitCode.USAGE_ERROR, f"runner.py: error: {exc}") from None
    spec = _spec(args, loader)
    if args.write_expectations and args.keyword:
        raise _Refused(ExitCode.USAGE_ERROR, "runner.py: error: --write-expectations records "
                       "the whole suite; drop -k")
    if args.force and not args.write_expectations:
        raise _Refused(ExitCode.USAGE_ERROR,
                       "runner.py: error: --force goes with --write-expectations")
    problems = _outputs(args)
    if problems:
        raise _Refused(ExitCode.USAGE_ERROR, *(f"runner.py: error: {p}" for p in problems),
                       "runner.py: nothing was run")
    try:  # the expectations must fit this loader and spec before anything runs
        known = expectations.load(args.expectations) if args.expectations else None
        if known is not None:
            expectations.check_fits(known, loader.name, spec)
            expectations.check_current(known)
        # an older file (outcomes alone) is read for its reasons, and replaced
        previous = (expectations.load(args.write_expectations)
                    if args.write_expectations and args.write_expectations.exists() else None)
        if previous is not None and not args.force:
            expectations.check_replaceable(previous, loader.name, spec)
    except expectations.ExpectationsError as exc:
        raise _Refused(ExitCode.EXPECTATIONS_ERROR, exc) from None
    suite = find(root, args.keyword, args.profile)
    errors = suite.check()  # every file read now, so that a malformed one stops the run
    if errors:              # before anything runs; only the ids are kept
        raise _Refused(ExitCode.CASE_ERROR, *errors,
                       f"runner.py: {counted(len(errors), 'malformed case file')}; nothing was run")
    if not suite:
        raise _Refused(ExitCode.NO_CASES, "runner.py: no case matches"
                       + (f" -k {args.keyword!r}" if args.keyword else ""))
    return _Setup(root, loader, timeout, spec, suite, known, previous)


def _features(loader: Loader, timeout: float, spec: str) -> Features:
    """The loader's optional features as the run knows them: declared, else probed. A
    profile's cases need none (and the probe is a Modules/1.1.1 program): nothing is probed."""
    if is_profile(spec):
        return Features({}, {})
    return resolve_features(loader, timeout)


def _spec(args: argparse.Namespace, loader: Loader) -> str:
    """What the run holds the loader to: the profile, else --spec, else what the loader
    claims, else the default version."""
    return args.profile or args.spec or loader.declaration.spec or DEFAULT_SPEC


def _profile_and_spec(args: argparse.Namespace) -> str | None:
    """The usage error of --profile given with --spec, or None."""
    if getattr(args, "profile", None) and args.spec:
        return (f"--profile {args.profile} and --spec {args.spec}: a run holds a loader to a "
                "spec version or to a profile, not both")
    return None


def _list_cases(root: Path, chosen: Selection, profile: str | None = None) -> int:
    """--list: print the cases the selection takes, one line each, running none; the exit
    status a run would have before it starts (4 no case directory, 6 a malformed case file,
    5 no case selected), else 0."""
    name = Parser.invoked()
    if not root.is_dir():
        print(f"{name}: error: no case directory at {root}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    suite = find(root, chosen, profile)
    errors = suite.check()
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{name}: {counted(len(errors), 'malformed case file')}", file=sys.stderr)
        return ExitCode.CASE_ERROR
    if not suite:
        print(f"{name}: no case matches {chosen}".rstrip(), file=sys.stderr)
        return ExitCode.NO_CASES
    for line in listing(suite):
        print(one_line(line))
    print(f"{counted(len(suite), 'case')} selected", file=sys.stderr)
    return ExitCode.OK


def run_command(argv: Sequence[str]) -> int:
    args = _run_parser().parse_args(argv)
    name = Parser.invoked()
    both = _profile_and_spec(args)
    if both:
        print(f"{name}: error: {both}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    try:
        chosen = selection(args.keyword, args.clause, args.profile)
    except SelectionError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    if args.list:
        return _list_cases(args.cases or default_root(), chosen, args.profile)
    args.keyword = chosen or None  # what _setup selects the cases by (see caseload.find)
    try:
        setup = _setup(args)
    except _Refused as refused:
        lines = refused.lines
        if refused.status == ExitCode.NO_CASES and chosen:
            lines = (f"{name}: no case matches {chosen}",)
        for line in lines:
            print(line, file=sys.stderr)
        return refused.status
    root, loader, spec, suite = setup.root, setup.loader, setup.spec, setup.suite
    jobs = args.jobs or os.cpu_count() or 1
    signals = _SIGNALS
    try:
        features = _features(loader, setup.timeout, spec)
    except KeyboardInterrupt:
        print("interrupted before any case ran", file=sys.stderr)
        return ExitCode.INTERRUPTED
    planned = Results(__version__, loader.name, spec, loader.declaration.sandbox, (), 0.0,
                      False, tuple(suite.ids), features.states(),
                      loader.declaration.confinement)
    # The outputs, in the order each is told of the run. The results file comes first: it
    # refuses a run when another run is writing it, before anything is shown.
    stream = Writer(args.json) if args.json else None
    suite_ids = lambda: (find(root, profile=args.profile) if args.keyword  # noqa: E731
                         else suite).ids
    check = expectations.CheckReporter(setup.known, suite_ids) if setup.known else None
    reporters = Reporters([
        stream,
        junit.JUnitReporter(args.junit, setup.known, suite_ids) if args.junit else None,
        TerminalReporter(sys.stdout, args.verbose, features, root,
                         known=setup.known.known if setup.known else None,
                         color={"auto": None, "always": True, "never": False}[args.color]),
        KeepReporter(args.keep_failed, suite, loader) if args.keep_failed else None,
        expectations.RecordReporter(args.write_expectations, setup.previous)
        if args.write_expectations else None,
        check,
    ])
    try:
        with signals.held():
            reporters.start(planned)
        signals.poll()
    except OutputError as exc:
        print(f"runner.py: error: {exc}; nothing was run", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted before any case ran", file=sys.stderr)
        return ExitCode.INTERRUPTED
    started = time.perf_counter()
    complete, changed, stopped = True, None, None
    stop = Stop(args.max_fail, setup.known.known if setup.known else None)
    verdicts: Iterable[Verdict] = (
        run_cases(suite, loader, spec, setup.timeout, None, jobs, features.known)
        if args.repeat == 1 else
        merged(run_cases(Repeated(suite, args.repeat), loader, spec, setup.timeout, None, jobs,
                         features.known), args.repeat))
    try:
        for done, verdict in enumerate(verdicts, 1):
            with signals.held():  # every output has the verdict whole (a line, a kept tree)
                reporters.verdict(verdict)
            signals.poll()
            stopped = stop.after(verdict) if done < len(suite) else None
            if stopped:
                complete = False
                break
    except KeyboardInterrupt:
        complete = False
    except CaseError as exc:  # a case file changed since check() read it
        complete, changed = False, exc
    finally:
        verdicts.close()  # cases still running end now (-j N)
    signals.finishing()  # a Ctrl-C from here on waits until every file is written
    results = reporters.results(complete, time.perf_counter() - started)
    reporters.finish(results)
    if stopped:  # ended like an interrupted run, but by rule: the run failed
        for line in reporters.errors:
            print(f"{name}: {line}", file=sys.stderr)
        print(f"{name}: {stopped}; {results.where_stopped()}", file=sys.stderr)
        return ExitCode.OUTPUT_ERROR if reporters.errors else ExitCode.FAILED
    return _status(args, results, reporters, stream, check, changed)


def _status(args, results: Results, reporters: Reporters, stream: Writer | None,
            check: expectations.CheckReporter | None, changed: CaseError | None) -> int:
    """The exit status of a finished run, with the lines that explain it: an output that was
    lost, a case file that broke, an interruption, the expectations, nothing tested."""
    for line in reporters.errors:
        print(f"runner.py: {line}", file=sys.stderr)
    if changed:
        print(f"{changed}\nrunner.py: a case file changed while the suite ran and is now "
              f"malformed: {results.where_stopped()}", file=sys.stderr)
        return ExitCode.CASE_ERROR
    if not results.complete:
        print(f"interrupted: {results.where_stopped()}"
              + (f"; {args.json} holds every case that finished"
                 if stream and not reporters.failed(stream) else ""),
              file=sys.stderr)
        return ExitCode.INTERRUPTED
    if reporters.errors:
        return ExitCode.OUTPUT_ERROR
    status = ExitCode.OK if results.ok else ExitCode.FAILED
    # Recording is what --write-expectations asks for: done, the failures it recorded are no
    # failure of the command (the gate of --expectations, when given too, still decides).
    if any(isinstance(r, expectations.RecordReporter) and r.written
           for r in reporters.reporters):
        status = ExitCode.OK
    if check:
        if check.error:
            return ExitCode.EXPECTATIONS_ERROR
        status = ExitCode.OK if check.comparison.ok else ExitCode.FAILED
    if results.nothing_tested:
        print(f"nothing was tested: {'the' if results.tally.done == 1 else 'all'} "
              f"{counted(results.tally.done, 'case')} "
              f"{'was' if results.tally.done == 1 else 'were'} not applicable to "
              f"{results.loader} (no case passed); exit {int(ExitCode.NOTHING_TESTED)}",
              file=sys.stderr)
        return ExitCode.NOTHING_TESTED
    return status


def exec_command(argv: Sequence[str]) -> int:
    """`exec ROOT MAIN`: a module tree run by hand; `exec CASE-ID`: one case run and judged."""
    args = _exec_parser().parse_args(argv)
    both = _profile_and_spec(args)
    if both:
        print(f"runner.py exec: error: {both}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    if not Path(args.root).is_dir() and args.main is None:
        return _exec_case(args)
    if args.cases is not None or args.spec is not None:
        print("runner.py exec: error: --cases and --spec go with a case id, not a module "
              "directory", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    from conformance.reference import read_modules

    try:
        if args.main is None:
            raise ValueError(f"{args.root} is a directory: give the id of its main module "
                             "(exec ROOT MAIN), or run a case by id from elsewhere")
        loader = _loader(args)
        timeout = _timeout(args, loader)
        root = Path(args.root)
        if is_file_path(args.main) != bool(args.profile):
            raise ValueError("MAIN is a file path (program.js) with --profile, and a module id "
                             "(program) without")
        if capabilities(loader).runs_trees:
            execution = loader.run_tree(root, args.main, timeout)
        elif args.profile:
            files = _read_files(root)
            if args.main not in files:
                raise ValueError(f"{args.root}: no main file {args.main!r}")
            execution = loader.run(Program(f"exec {args.root}", {}, args.main, timeout, files))
        else:
            modules = read_modules(root)
            if args.main not in modules:
                raise ValueError(f"{args.root}: no main module {args.main!r}")
            execution = loader.run(Program(f"exec {args.root}", modules, args.main, timeout))
    except (LoaderError, ValueError) as exc:
        print(f"runner.py exec: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    sys.stdout.write(execution.stdout)
    sys.stdout.flush()
    if execution.stderr:
        sys.stderr.write(execution.stderr if execution.stderr.endswith("\n")
                         else execution.stderr + "\n")
    if execution.diagnostic:
        sys.stderr.write(execution.diagnostic + "\n")
    ok = execution.ending is Ending.EXITED and execution.exit_code == 0
    return ExitCode.OK if ok else ExitCode.FAILED


def _read_files(root: Path) -> dict[str, str]:
    """Every regular file under root (links and hidden names left out), path -> text: a
    tree of the node profile, read for a loader that does not run trees where they are."""
    files: dict[str, str] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")
                         and not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = os.path.join(folder, name)
            if name.startswith(".") or os.path.islink(path) or not os.path.isfile(path):
                continue
            if len(files) >= MAX_MODULES:
                raise ValueError(f"{root}: more than {MAX_MODULES} files")
            with open(path, encoding="utf-8", errors="surrogateescape") as text:
                files[Path(path).relative_to(root).as_posix()] = text.read()
    return files


def _exec_case(args: argparse.Namespace) -> int:
    """`exec CASE-ID`: the case of that id under --cases run on the loader and judged as a run
    of that one case would be; shown with its verdict in full and everything the program
    printed; the exit status is that run's."""
    root = args.cases or default_root()
    case_id = str(args.root)
    if args.profile is None and args.spec is None:  # a profile's case runs in its profile
        args.profile = profile_of(case_id)
    try:
        loader = _loader(args)
        timeout = _timeout(args, loader)
    except LoaderError as exc:
        print(f"runner.py exec: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    parts = case_id.split("/")
    files = [root.joinpath(*parts[:-1], parts[-1] + suffix) for suffix in SUFFIXES]
    found = [f for f in files if f.exists() or f.is_symlink()]
    if any(not part or part.startswith(".") for part in parts) or not found:
        print(f"runner.py exec: no case {one_line(case_id)!r} under {root} (and no directory "
              "of modules of that name)", file=sys.stderr)
        return ExitCode.NO_CASES
    suite = Suite.of(found[:1], root)
    errors = suite.check()
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        return ExitCode.CASE_ERROR
    case = suite[0]
    spec = _spec(args, loader)
    try:
        features = _features(loader, timeout, spec)
        plan = Results(__version__, loader.name, spec, loader.declaration.sandbox, (), 0.0,
                       True, (case.id,), features.states(), loader.declaration.confinement)
        terminal = TerminalReporter(sys.stdout, True, features, root)
        terminal.start(plan)
        started = time.perf_counter()
        reason = not_applicable(case, loader, spec, features.known)
        execution = None
        if reason:
            verdict = Verdict(case.id, case.clauses, Outcome.SKIP, reason, 0.0, (),
                              Kind.NOT_APPLICABLE)
        else:
            key = new_key()
            execution = execute(loader, prepare(case, timeout, key))
            verdict = judge(case, execution, spec, key, features.known)
    except KeyboardInterrupt:
        print(f"interrupted: {one_line(case_id)} did not finish", file=sys.stderr)
        return ExitCode.INTERRUPTED
    terminal.verdict(verdict)
    if execution is not None:
        for name, text in (("stdout", execution.stdout), ("stderr", execution.stderr),
                           ("how it ended", execution.diagnostic)):
            print(f"---- {name} ----" if text else f"---- {name}: nothing ----")
            for line in text.splitlines():
                print(one_line(line))
    results = dataclasses.replace(plan, verdicts=(verdict,),
                                  seconds=time.perf_counter() - started, tally=None)
    terminal.finish(results)
    if results.nothing_tested:
        print(f"nothing was tested: {one_line(case.id)} is not applicable to "
              f"{one_line(loader.name)}; exit {int(ExitCode.NOTHING_TESTED)}", file=sys.stderr)
        return ExitCode.NOTHING_TESTED
    return ExitCode.OK if results.ok else ExitCode.FAILED


def _load_cases(root: Path | None, profile: str | None = None) -> tuple[list, int]:
    """The suite's cases (a profile's, or Modules/1.1.1's), or an exit status after printing
    why they cannot be had."""
    root = root or default_root()
    cases, errors = load_all(discover(root, profile=profile), root)
    for error in errors:
        print(error, file=sys.stderr)
    return cases, (ExitCode.CASE_ERROR if errors else ExitCode.OK)


def _add_profile_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--profile", default=None, choices=PROFILES,
                   help=f"{what}; a profile is held apart from Modules/1.1.1 (node: Node's "
                        "CommonJS as its documentation states it, cases under node/, "
                        "conformance/data/node-clauses.yaml); not with --spec")


def clauses_command(argv: Sequence[str]) -> int:
    p = Parser(prog="runner.py clauses",
                description="Print the clause catalogue, each clause with the spec's sentence "
                            "and the number of cases citing it; exit 1 if a loader-testable "
                            f"clause has fewer than {MIN_CASES}. With a clause id: that clause "
                            "in full, with the cases citing it.")
    p.add_argument("clause", nargs="?", default=None, metavar="ID",
                   help="show this clause alone (ids as `clauses` lists them)")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR")
    _add_profile_option(p, "the catalogue and cases of this profile")
    args = p.parse_args(argv)
    clauses = catalogue(args.profile)
    listed = "`runner.py clauses" + (f" --profile {args.profile}`" if args.profile else "`")
    if args.clause is not None and args.clause not in clauses:
        print(f"runner.py clauses: error: no clause {one_line(args.clause)!r} in the "
              f"{_catalogue_name(args.profile)} ({listed} lists them)", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    if args.profile and not clauses:
        print(f"runner.py clauses: error: the {_catalogue_name(args.profile)} is not there yet "
              f"(conformance/data/{CATALOGUE_FILES[args.profile]})", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    cases, status = _load_cases(args.cases, args.profile)
    if status:
        return status
    if args.clause is not None:
        _show_clause(clauses[args.clause], [c.id for c in cases if args.clause in c.clauses],
                     args.profile)
        return ExitCode.OK
    counts = case_counts(cases)
    short = []
    versions = (args.profile,) if args.profile else SPEC_VERSIONS
    ref_of = args.profile or "1.1.1"
    print(f"{'clause':28} " + "".join(f"{v:10} " for v in versions)
          + f"{'binds':7} {'cases':>5}  {ref_of} ref")
    for clause in clauses.values():
        levels = [clause.level_in(v) or "-" for v in versions]
        n = counts.get(clause.id, 0)
        if clause.loader_testable:
            number = str(n)
            if n < MIN_CASES:
                short.append(clause.id)
                number += "!"
        else:
            number = f"({n})" if n else "-"
        print(f"{clause.id:28} " + "".join(f"{level:10} " for level in levels)
              + f"{clause.binds:7} {number:>5}  {clause.ref.get(ref_of, '-')}")
        print(textwrap.fill(clause.quote, 96, initial_indent="    ", subsequent_indent="    "))
    testable = sum(c.loader_testable for c in clauses.values())
    print(f"\n{len(clauses)} clauses, {testable} testable against a loader; {len(cases)} cases.")
    if args.profile:
        commit = source_commit(args.profile)
        print(f"The source: Node's doc/api/modules.md"
              + (f" at commit {commit}" if commit else "")
              + f"; {listed[:-1]} ID` shows one clause with its link and cases.")
    else:
        print(f"The spec: {SPEC_PAGES[DEFAULT_SPEC]} (archived: "
              f"{archived(SPEC_PAGES[DEFAULT_SPEC])}); `runner.py clauses ID` shows one clause "
              "with its link and cases.")
    if short:
        print(f"fewer than {MIN_CASES} cases: {', '.join(short)}")
        return ExitCode.FAILED
    print(f"every loader-testable clause has at least {MIN_CASES} cases")
    return ExitCode.OK


def _catalogue_name(profile: str | None) -> str:
    """The catalogue a run of `profile` is judged by, in words."""
    return f"{profile} profile's catalogue" if profile else "catalogue"


def _show_clause(clause, cases: Sequence[str], profile: str | None = None) -> None:
    """One clause in full: id, level per version (or in the profile), whom it binds, the
    sentence it rests on, our paraphrase, its section and link, and the cases citing it."""
    def block(label: str, text: str) -> str:
        return textwrap.fill(" ".join(text.split()), 96, initial_indent=f"{label:10}",
                             subsequent_indent=" " * 10)

    versions = (profile,) if profile else SPEC_VERSIONS
    print(clause.id + (f" (a reading of {clause.reads})" if clause.reading else ""))
    print(f"{'level':10}" + ", ".join(f"{v}: {clause.level_in(v) or '-'}" for v in versions))
    print(f"{'binds':10}{clause.binds}"
          + ("" if clause.testable else " (not testable by running a program)"))
    print(block("docs" if profile else "spec", clause.quote))
    print(block("meaning", clause.text))
    for version in versions:
        if version in clause.ref:
            link = clause.link(version)
            print(f"{version:10}{clause.ref[version]}: {link}"
                  + ("" if profile else f"\n{'':10}archived: {archived(link)}"))
    print(f"{'cases':10}{len(cases)}" + "".join(f"\n{'':10}{case}" for case in cases))


def mutants_command(argv: Sequence[str]) -> int:
    p = Parser(prog="runner.py mutants",
                description="Run every case against every deliberately broken reference loader "
                            "(mutant) and every conforming variant of it, writing one results "
                            "JSON each; exit 1 if a mutant is not caught by a case citing the "
                            "clause it breaks, or a variant fails a case.")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="directory for mutant-NAME.json and variant-NAME.json files")
    p.add_argument("--spec", default=None, choices=SPEC_VERSIONS)
    _add_profile_option(p, "run this profile's mutants and variants on its cases")
    p.add_argument("--cases", type=Path, default=None, metavar="DIR")
    args = p.parse_args(argv)
    from conformance.mutants import BY_PROFILE

    both = _profile_and_spec(args)
    if both:
        print(f"{Parser.invoked()}: error: {both}", file=sys.stderr)
        return ExitCode.USAGE_ERROR
    spec = args.profile or args.spec or DEFAULT_SPEC
    MUTANTS, CONFORMING = BY_PROFILE[args.profile]
    cases, status = _load_cases(args.cases, args.profile)
    if status:
        return status
    args.out.mkdir(parents=True, exist_ok=True)
    missed, failed, imprecise = [], [], []
    for mutant in MUTANTS + CONFORMING:
        if spec not in mutant.specs((spec,)):
            continue
        loader = mutant.loader()
        started = time.perf_counter()
        verdicts = tuple(run_cases(cases, loader, spec, features=None if args.profile
                                   else resolve_features(loader).known))
        results = Results(__version__, loader.name, spec, mutant.sandbox, verdicts,
                          time.perf_counter() - started)
        write(results, args.out / f"{loader.name.replace(':', '-')}.json")
        if mutant.clause is None:
            bad = [v.case for v in verdicts if not v.outcome.ok]
            failed += bad
            print(f"{loader.name:38} conforming: " + (f"FAILED {', '.join(bad)}" if bad
                                                      else "passes every case"))
            continue
        catching = caught_by(verdicts, mutant.clause)
        share = precision(verdicts, mutant.clause)
        if not catching:
            missed.append(mutant.name)
        elif share is not None and share < PRECISION_GOAL:
            imprecise.append(mutant.name)
        print(f"{loader.name:38} {mutant.clause:26} "
              + (f"caught by {len(catching):3}, precision {share:6.1%}" if catching
                 else "MISSED"))
    print(f"\n{len(MUTANTS) - len(missed)} of {len(MUTANTS)} mutants caught by a case blaming "
          f"the clause they break; {len(imprecise)} below {PRECISION_GOAL:.0%} precision "
          f"(verdicts blaming that clause among all they fail){': ' if imprecise else ''}"
          f"{', '.join(imprecise)}; {len(CONFORMING)} conforming variants, "
          f"{len(failed)} wrong verdicts on them")
    return ExitCode.FAILED if missed or failed or imprecise else ExitCode.OK


def report_command(argv: Sequence[str]) -> int:
    p = Parser(prog="runner.py report",
                description="Render REPORT.md from results JSON files (from --json or mutants).")
    p.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")
    p.add_argument("--command", default="", help="the command line to name in the report")
    p.add_argument("--expectations", type=Path, nargs="*", default=[], metavar="FILE",
                   help="expectation files whose reasons explain the failures of their loader")
    p.add_argument("--benchmark", type=Path, metavar="FILE",
                   help="figures from bench/benchmark.py --json, shown as a section on speed")
    args = p.parse_args(argv)
    benchmark = None
    if args.benchmark:
        try:
            benchmark = read_benchmark(args.benchmark)
        except (OSError, ValueError) as exc:
            print(f"runner.py report: {args.benchmark}: not a benchmark figures file ({exc})",
                  file=sys.stderr)
            return ExitCode.USAGE_ERROR
    reasons = {}
    for path in args.expectations:
        try:
            known_failures = expectations.load(path)
        except expectations.ExpectationsError as exc:
            print(exc, file=sys.stderr)
            return ExitCode.EXPECTATIONS_ERROR
        reasons[(known_failures.loader, known_failures.spec)] = {
            case: entry.reason for case, entry in known_failures.entries.items()}
    if args.output:
        try:
            check_output(args.output, "-o")
        except OutputError as exc:
            print(f"runner.py report: error: {exc}", file=sys.stderr)
            return ExitCode.USAGE_ERROR
    runs = []
    for path in args.results:
        try:
            runs.append(read(path))
        except ResultsError as exc:  # one line: file, line, problem
            print(f"runner.py report: {one_line(str(exc))}", file=sys.stderr)
            return ExitCode.USAGE_ERROR
    text = render(runs, args.command, reasons, benchmark)
    if args.output:
        try:  # atomically: an interrupted report leaves the old file, never an empty one
            write_atomically(args.output, text, "the report")
        except OutputError as exc:
            print(f"runner.py report: {exc}", file=sys.stderr)
            return ExitCode.OUTPUT_ERROR
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `runner.py` and the `commonjs-conformance` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "run"
    global _SIGNALS
    _SIGNALS = _Signals()
    _SIGNALS.install()  # a killed run (SIGTERM) stops as cleanly as Ctrl-C
    module, _, function = COMMANDS[command][0].partition(":")
    handler = getattr(importlib.import_module(module), function)
    try:
        return int(handler(argv))
    except BrokenPipeError:  # output piped into `head` and the like
        return ExitCode.OK
    finally:
        _SIGNALS.restore()


if __name__ == "__main__":
    sys.exit(main())
