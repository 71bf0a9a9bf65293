"""commonjs-conformance: a conformance test suite for CommonJS Modules/1.1.1 loaders."""

__version__ = "0.1.0"

#: The spec versions a run can target, oldest first; the last is the default.
SPEC_VERSIONS = ("1.0", "1.1", "1.1.1")
DEFAULT_SPEC = SPEC_VERSIONS[-1]
#: The profiles beyond Modules/1.1.1 (docs/node-profile.md): each takes the place of a spec
#: version in a run (its `spec`), has a catalogue of its own and its cases in cases/<profile>/.
PROFILES = ("node",)
