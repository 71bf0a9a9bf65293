"""webpack: bundles the main module for Node, then runs the bundle on Node.

The driver writes the minimal configuration a user would: the main file as entry,
`target: "node"`, `mode: "none"`, and `resolve.modules: [ROOT]` so that top-level ids resolve
from the tree; it runs `webpack --config` from webpack-cli. A build with errors (webpack exits
non-zero, for instance on a module it cannot find) counts as a failed bundle, even though
webpack still writes one.
"""

import json
import os

from conformance.drivers import arguments, bundle_and_run, main_file, npm_binary, npm_package

ENGINE = "webpack"
CONFIG = """module.exports = {{
  mode: "none",
  target: "node",
  entry: {entry},
  output: {{path: {folder}, filename: {name}}},
  resolve: {{modules: [{root}]}},
  stats: "errors-warnings",
  infrastructureLogging: {{level: "error"}},
}};
"""


def config(root: str, entry: str, out_file) -> str:
    """The webpack configuration that bundles `entry` into out_file."""
    return CONFIG.format(entry=json.dumps(entry), folder=json.dumps(str(out_file.parent)),
                         name=json.dumps(out_file.name), root=json.dumps(root))


def main() -> None:
    """Bundle ROOT/MAIN.js with webpack and run the bundle."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    webpack = npm_binary(ENGINE)
    npm_package(ENGINE, "webpack-cli")
    root = os.path.abspath(root)
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0")

    def build(out_file):
        settings = out_file.parent / "webpack.config.js"
        settings.write_text(config(root, str(main_file(root, main_id)), out_file),
                            encoding="utf-8")
        return [webpack, "--config", settings], env

    bundle_and_run(ENGINE, build)


if __name__ == "__main__":
    main()
