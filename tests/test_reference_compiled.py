"""The reference loader's scripts compiled ahead of time (conformance.reference.compiled), and
that programs run the same with them as from source."""

import dataclasses
import json
from pathlib import Path

import pytest

from conformance import harness
from conformance.caseload import discover, load_all
from conformance.mutants import MUTANTS
from conformance.reference import ReferenceLoader, bytecode, loader_source
from conformance.reference.engine import execute
from conformance.reference.tree import VIRTUAL_ROOT, VIRTUAL_SCHEME, Tree, loader_input
from conformance.reference.compiled import SENTINEL_KEY, compile_loader, factory_script
from conformance.run import prepare

CASES = Path(__file__).resolve().parent.parent / "cases"
HARNESS_PATH = f"{VIRTUAL_ROOT}/{harness.HARNESS_ID}.js"


def test_the_loader_and_the_helper_factory_compile():
    compiled = compile_loader(loader_source())
    assert compiled is not None and compiled.loader and compiled.harness
    assert compiled.harness.count(SENTINEL_KEY.encode()) == 1


def test_the_patched_factory_is_byte_for_byte_the_helper_compiled_with_that_key():
    compiled = compile_loader(loader_source())
    for key in (harness.new_key(), harness.new_key()):
        assert compiled.harness_factory(key) == factory_script(loader_source(),
                                                               harness.source(key))


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.name in
                                    ("global-require", "top-scope-shared")],
                         ids=lambda m: m.name)
def test_a_loader_that_wraps_modules_otherwise_gets_its_own_wrapping(mutant):
    key = harness.new_key()
    compiled = compile_loader(mutant.source())
    assert compiled.harness_factory(key) == factory_script(mutant.source(), harness.source(key))
    assert compiled.harness_factory(key) != compile_loader(loader_source()).harness_factory(key)


def test_a_loader_that_does_not_compile_gets_no_bytecode():
    assert compile_loader(loader_source() + "\n)(") is None


def test_a_wrapping_that_is_not_one_expression_gets_no_helper_factory():
    odd = loader_source().replace("return '(function (require, exports, module) {'",
                                  "return 'var f = (function (require, exports, module) {'")
    assert odd != loader_source()
    compiled = compile_loader(odd)
    assert compiled.loader and compiled.harness is None


def _execution(case, key, js_source, compiled):
    program = prepare(case, 5.0, key)
    job = ReferenceLoader(sandbox=case.sandbox is True, js_source=js_source)._job(program)
    factory = compiled.harness_factory(key) if compiled else None
    return dataclasses.replace(
        execute(job.js_source, job.input, job.timeout,
                loader_bytecode=compiled.loader if compiled else None,
                factories=(factory,) if factory else ()),
        seconds=0.0)


def test_every_case_runs_the_same_from_bytecode_as_from_source():
    cases, errors = load_all(discover(CASES), CASES)
    assert not errors and len(cases) > 100
    compiled = compile_loader(loader_source())
    for case in cases:
        key = harness.new_key()
        from_source = _execution(case, key, loader_source(), None)
        assert _execution(case, key, loader_source(), compiled) == from_source, case.id
        assert "DONE" in from_source.stdout or "SKIP" in from_source.stdout, case.id


def _tree(modules: dict) -> Tree:
    return Tree([(f"{VIRTUAL_ROOT}/{m}.js", text) for m, text in modules.items()],
                 VIRTUAL_ROOT, VIRTUAL_SCHEME)


def test_a_precompiled_factory_serves_one_load_and_a_reload_compiles_the_source():
    # The factory handed over (deliberately not the file's source here, to tell them apart)
    # serves the first load; it throws, so the next require loads the module anew, from source.
    modules = {"program": "try { require('m'); } catch (e) { print('first:', e.message); }\n"
                          "print('second:', require('m').from);",
               "m": "exports.from = 'source';"}
    compiled = compile_loader(loader_source())
    stand_in = factory_script(loader_source(), "throw new Error('from bytecode');")
    execution = execute(loader_source(), loader_input(_tree(modules), "program", False,
                                                      [f"{VIRTUAL_ROOT}/m.js"]),
                        5.0, loader_bytecode=compiled.loader, factories=(stand_in,))
    assert execution.stdout == "first: from bytecode\nsecond: source\n"


def test_a_script_that_throws_makes_the_program_run_again_from_source():
    modules = {"program": "print('ran', typeof commonjsLoaderControl);"}
    text = loader_input(_tree(modules), "program", False, [f"{VIRTUAL_ROOT}/program.js"])
    throwing = bytecode.compile_script("throw new Error('a broken factory script');")
    compiled = compile_loader(loader_source())
    for scripts in ((throwing,), ()):
        execution = execute(loader_source(), text, 5.0, loader_bytecode=compiled.loader,
                            factories=scripts)
        assert (execution.stdout, execution.stderr, execution.exit_code) == \
               ("ran undefined\n", "", 0)
    broken_loader = bytecode.compile_script("throw 1;")
    assert execute(loader_source(), text, 5.0, loader_bytecode=broken_loader).stdout == \
        "ran undefined\n"


def test_the_reference_loader_runs_the_helper_precompiled():
    # A helper whose source differs from the template (here by one comment) is compiled
    # from source; the real one is recognised by its key.
    program = prepare(load_all(discover(CASES), CASES)[0][0], 5.0, harness.new_key())
    job = ReferenceLoader()._job(program)
    assert job.harness_key == harness.key_in(program.modules[harness.HARNESS_ID])
    assert json.loads(job.input)["compiled"] == [HARNESS_PATH]
    edited = dict(program.modules)
    edited[harness.HARNESS_ID] += "// edited\n"
    job = ReferenceLoader()._job(dataclasses.replace(program, modules=edited))
    assert job.harness_key is None and json.loads(job.input)["compiled"] == []
    assert "DONE" in ReferenceLoader().run(dataclasses.replace(program, modules=edited)).stdout
