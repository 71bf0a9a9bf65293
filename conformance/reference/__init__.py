"""The reference loader: CommonJS Modules/1.1.1, and the node profile, in a fresh QuickJS
context per program.

The loader itself is loader.js, and node-loader.js for a program of the node profile (one with
files). This module is the runner's side: ReferenceLoader, which hands each program to a QuickJS
worker process (process.py, worker.py); the worker runs it with engine.py; tree.py builds the
module tree or file tree the loader sees.
"""

from __future__ import annotations

import functools
import os
import posixpath
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

from conformance.contract import (DEFAULT_TIMEOUT, Capabilities, Declaration, Execution,
                                 Program)
from conformance.harness import HARNESS_ID, key_in
from conformance.reference.engine import MEMORY_LIMIT, OUTPUT_LIMIT, STACK_LIMIT
from conformance.reference.process import Job, run_isolated, run_pipelined
from conformance.reference.tree import (FILE_SCHEME, NODE_VIRTUAL_ROOT, VIRTUAL_ROOT,
                                        VIRTUAL_SCHEME, Tree, loader_input, read_files,
                                        read_modules, read_tree)

#: What the package offers: the loader, running a tree on disk, and reading one (exec).
__all__ = ["ReferenceLoader", "exec_files", "exec_tree", "loader_source", "node_loader_source",
           "read_files", "read_modules"]

#: The profiles the reference loader runs besides Modules/1.1.1 (with node-loader.js).
PROFILES = frozenset({"node"})


@functools.cache
def loader_source() -> str:
    """The JavaScript of the reference loader, read once."""
    return resources.files(__name__).joinpath("loader.js").read_text("utf-8")


@functools.cache
def node_loader_source() -> str:
    """The JavaScript of the reference loader of the node profile, read once."""
    return resources.files(__name__).joinpath("node-loader.js").read_text("utf-8")


class ReferenceLoader:
    """The reference loader; sandbox=True drops require.paths and module.uri. Programs run in a
    QuickJS worker process (one per program running at once, kept between runs), so nothing
    they do can hang or crash the run. A program with files (the node profile) runs with
    node_js_source (node-loader.js), whatever `sandbox`; one with modules with js_source."""

    def __init__(self, sandbox: bool = False, js_source: str | None = None,
                 memory_limit: int = MEMORY_LIMIT, stack_limit: int = STACK_LIMIT,
                 name: str | None = None, node_js_source: str | None = None):
        self.sandbox = sandbox
        self.name = name or ("reference-sandbox" if sandbox else "reference")
        # The stock loader.js has every feature a non-sandbox may have, and a sandbox keeps
        # require.main only; an edited copy (a mutant or variant) declares nothing and is probed.
        features = {} if js_source is not None else {
            "require.main": True, "require.paths": not sandbox, "module.uri": not sandbox}
        self.declaration = Declaration(sandbox=sandbox, spec="1.1.1", features=features,
                                       profiles=PROFILES)
        self.js_source = loader_source() if js_source is None else js_source
        self.node_js_source = node_loader_source() if node_js_source is None else node_js_source
        self.memory_limit = memory_limit
        self.stack_limit = stack_limit
        # run() waits on a QuickJS worker process; run_all pipelines; `exec` runs a tree in
        # place. A kept tree is rerun through `exec` with this loader's name.
        rerun = ("python", "runner.py", "exec", "{root}", "{main}", "--loader", "reference",
                 "--sandbox") if self.name == "reference-sandbox" else ()
        self.capabilities = Capabilities(waits_on_process=True, pipelines=True,
                                         runs_trees=True, rerun=rerun)

    def run(self, program: Program) -> Execution:
        return run_isolated(self._job(program))

    def run_tree(self, root: Path, main: str, timeout: float,
                 profile: str | None = None) -> Execution:
        """The tree in directory `root` run where it is: a file tree of the node profile (see
        exec_files) when `profile` is "node", or, given no profile, when `main` is a file's
        path ending in .js; else a module tree (see exec_tree), `main` a module id."""
        if profile == "node" or (profile is None and main.endswith(".js")):
            return exec_files(root, main, timeout=timeout, js_source=self.node_js_source)
        return exec_tree(root, main, sandbox=self.sandbox, timeout=timeout,
                         js_source=self.js_source)

    def run_all(self, programs: Iterable[Program]) -> Iterator[Execution]:
        """run() for each program in turn, pipelined (process.run_pipelined): the worker
        starts the next program while the caller judges the last."""
        return run_pipelined(self._job(program) for program in programs)

    def _job(self, program: Program) -> Job:
        if program.files:
            return self._node_job(program)
        files = [(f"{VIRTUAL_ROOT}/{module_id}.js", source)
                 for module_id, source in program.modules.items()]
        tree = Tree(files, VIRTUAL_ROOT, VIRTUAL_SCHEME)
        key = key_in(program.modules.get(HARNESS_ID, ""))
        compiled = [f"{VIRTUAL_ROOT}/{HARNESS_ID}.js"] if key else []
        return Job(self.js_source, loader_input(tree, program.main, self.sandbox, compiled),
                   program.timeout, self.memory_limit, self.stack_limit, OUTPUT_LIMIT, key)

    def _node_job(self, program: Program) -> Job:
        """A node profile program: every file under NODE_VIRTUAL_ROOT, run by node-loader.js;
        the harness helper beside the main file precompiled when it is the helper's source."""
        files = [(f"{NODE_VIRTUAL_ROOT}/{path}", text) for path, text in program.files.items()]
        tree = Tree(files, NODE_VIRTUAL_ROOT, VIRTUAL_SCHEME)
        helper = posixpath.join(posixpath.dirname(program.main), f"{HARNESS_ID}.js")
        key = key_in(program.files.get(helper, ""))
        compiled = [f"{NODE_VIRTUAL_ROOT}/{helper}"] if key else []
        return Job(self.node_js_source, loader_input(tree, program.main, self.sandbox, compiled),
                   program.timeout, self.memory_limit, self.stack_limit, OUTPUT_LIMIT, key)


def exec_tree(root: Path | str, main: str, sandbox: bool = False,
              timeout: float = DEFAULT_TIMEOUT, js_source: str | None = None) -> Execution:
    """Run module `main` of the module tree in directory `root`: id `a/b` is ROOT/a/b.js.

    Every .js file below ROOT is read up front (symbolic links leading out of ROOT are not
    followed); raises ValueError when ROOT is no directory, holds too much, or lacks MAIN.js.
    """
    directory = os.path.abspath(root)
    if not os.path.isdir(directory):
        raise ValueError(f"{root}: not a directory")
    files = dict(read_tree(directory))
    main_path = posixpath.normpath(posixpath.join(directory, f"{main}.js"))
    if not main or main_path not in files:
        hint = " (give the module id, without .js)" if main.endswith(".js") else ""
        raise ValueError(f"{root}: no main module {main!r}: "
                         f"{posixpath.join(directory, main + '.js')} does not exist{hint}")
    main_id = posixpath.relpath(main_path, directory)[:-len(".js")]
    tree = Tree(list(files.items()), directory, FILE_SCHEME)
    return run_isolated(Job(js_source or loader_source(), loader_input(tree, main_id, sandbox),
                            timeout, MEMORY_LIMIT, STACK_LIMIT, OUTPUT_LIMIT))


def exec_files(root: Path | str, main: str, timeout: float = DEFAULT_TIMEOUT,
               js_source: str | None = None) -> Execution:
    """Run file `main` (a path relative to ROOT, e.g. app/main.js) of the file tree in directory
    `root` as the node profile does: every file below ROOT is read up front (symbolic links
    leading out of ROOT are not followed), ROOT is the root of what the program can see.

    Raises ValueError when ROOT is no directory, holds too much, or lacks MAIN.
    """
    directory = os.path.abspath(root)
    if not os.path.isdir(directory):
        raise ValueError(f"{root}: not a directory")
    files = read_tree(directory, every_file=True)
    main_path = posixpath.normpath(posixpath.join(directory, main)) if main else directory
    if main_path not in dict(files):
        raise ValueError(f"{root}: no main file {main!r}: {main_path} does not exist")
    tree = Tree(files, directory, FILE_SCHEME)
    return run_isolated(Job(js_source or node_loader_source(),
                            loader_input(tree, posixpath.relpath(main_path, directory), False),
                            timeout, MEMORY_LIMIT, STACK_LIMIT, OUTPUT_LIMIT))
