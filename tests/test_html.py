"""`html` end to end: real runs rendered as one page with the clause matrix and every failure's
case source; whatever a case or a run holds comes out as inert text."""

from html.parser import HTMLParser

from conformance.clauses import SPEC_PAGES
from conformance.cli import main
from conformance.exitcodes import ExitCode
from conformance.html import find_case
from tests.test_cli import BROKEN, GOOD, write_case
from tests.test_diff import run_suite

SCRIPT = "<script>alert(1)</script>"
#: A failing case whose message, module source and module id carry markup.
HOSTILE = BROKEN.replace("one is two", SCRIPT) + f"  other: |\n    // {SCRIPT}\n"
#: A case id with markup: the file area/<script>alert(1)</script>.yaml.
HOSTILE_ID = f"area/{SCRIPT}"


class Page(HTMLParser):
    """Every tag of a page with its attributes."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def render(tmp_path, capsys, *args):
    out = tmp_path / "report.html"
    capsys.readouterr()
    status = main(["html", *map(str, args), "-o", str(out)])
    assert status == ExitCode.OK, capsys.readouterr().err
    return out.read_text(encoding="utf-8")


def test_page_has_matrix_failures_and_sources(tmp_path, capsys):
    cases = {"area/good": GOOD, "area/broken": BROKEN}
    a = run_suite(tmp_path, "a", cases)
    b = run_suite(tmp_path, "b", cases, "--loader", "reference-sandbox")
    page = render(tmp_path, capsys, a, b, "--cases", tmp_path / "cases-a")
    row = next(line for line in page.splitlines() if ">require.returns-exports</code>" in line)
    assert row.count('<td class="fail">FAIL 1/2</td>') == 2  # one cell per run
    assert "<th>reference 1.1.1</th><th>reference-sandbox 1.1.1</th>" in page
    assert page.count("<details>") == 2  # area/broken in each run; area/good passed
    assert "<code>area/good</code>" not in page
    assert ("assertion 1 failed: one is two: expected number 2, got number 1</summary>"
            in page)
    # The case's source, read from the case directory.
    assert "t.same(1, 2, &#x27;one is two&#x27;);" in page
    assert "<h5><code>program</code> (main)</h5>" in page
    # Two runs of one loader and spec version are told apart by their files' names.
    again = run_suite(tmp_path, "again", cases)
    page = render(tmp_path, capsys, a, again, b, "--cases", tmp_path / "cases-a")
    assert (f"<th>reference 1.1.1 ({a.name})</th><th>reference 1.1.1 ({again.name})</th>"
            "<th>reference-sandbox 1.1.1</th>") in page


def test_markup_from_cases_and_runs_is_inert(tmp_path, capsys):
    results = run_suite(tmp_path, "a", {HOSTILE_ID: HOSTILE, "area/other": HOSTILE})
    page = render(tmp_path, capsys, results, "--cases", tmp_path / "cases-a")
    assert "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f"<code>area/{escaped}</code>" in page  # the case id
    assert f"failed: {escaped}: expected" in page  # the message
    assert f"// {escaped}" in page  # the module source
    tags = Page(page).tags
    assert "script" not in {tag for tag, _ in tags}
    for tag, attrs in tags:  # nothing loaded from elsewhere; links lead only to the spec
        assert "src" not in attrs and not any(name.startswith("on") for name in attrs)
        if "href" in attrs:
            assert tag == "a" and any(attrs["href"].startswith(page_)
                                      for page_ in SPEC_PAGES.values()), attrs
    assert sum(tag == "a" for tag, _ in tags) > 1
    assert not [t for t, _ in tags if t in ("link", "img", "iframe", "object", "embed")]


def test_a_case_not_found_is_said_and_never_read_outside(tmp_path, capsys):
    results = run_suite(tmp_path, "a", {"area/broken": BROKEN})
    (tmp_path / "cases-a" / "area" / "broken.yaml").unlink()
    page = render(tmp_path, capsys, results, "--cases", tmp_path / "cases-a")
    assert "Case source not shown: no case file for it under" in page
    # An id from a results file that climbs out of the case directory is not followed.
    root = tmp_path / "root"
    write_case(tmp_path, "outside", BROKEN)
    root.mkdir()
    assert find_case(root, "../outside") == ("not a case id that names a file under the case "
                                             "directory")
    write_case(root, "area/x", BROKEN)
    assert find_case(root, "area/x").modules["program"].startswith("var t = require")


def test_bad_input_is_one_line(tmp_path, capsys):
    results = run_suite(tmp_path, "a", {"area/good": GOOD})
    before = results.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 2}\n')
    out = tmp_path / "r.html"
    for args, named in (([bad, "-o", out], f"{bad}:1: no field 'suite'"),
                        ([results, "-o", out, "--cases", tmp_path / "none"], "--cases"),
                        ([results, "-o", results], "is the input")):
        capsys.readouterr()
        assert main(["html", *map(str, args)]) == ExitCode.USAGE_ERROR
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and named in err and err.startswith("runner.py html:")
    assert results.read_bytes() == before and not out.exists()


def test_a_profile_run_gets_its_own_matrix_and_its_files(tmp_path, capsys, repo):
    spec = run_suite(tmp_path, "spec", {"area/good": GOOD})
    root = tmp_path / "cases-spec"
    case = "node/exports/replace-with-object"
    text = (repo / "cases" / f"{case}.yaml").read_text()
    planted = text.replace("t.done();", "t.same(1, 2, 'planted');\n    t.done();")
    assert planted != text
    write_case(root, case, planted)
    profile = tmp_path / "profile.json"
    main(["--cases", str(root), "--profile", "node", "--json", str(profile), "-j", "1"])
    page = render(tmp_path, capsys, spec, profile, "--cases", root)
    spec_matrix, profile_matrix = page.split("<h3>node profile</h3>")
    assert ">require.returns-exports</code>" in spec_matrix
    assert ">node.exports.replace</code>" not in spec_matrix
    row = next(line for line in profile_matrix.splitlines()
               if ">node.exports.replace</code>" in line)
    assert '<td class="fail">FAIL 1/1</td>' in row and "STATES" in row
    assert ">require.returns-exports</code>" not in profile_matrix
    # The failing profile case shows its files, the main file first.
    assert "<h5><code>program.js</code> (main)</h5>" in page
