"""webpack: bundles the main file for Node, then runs the bundle on Node.

The driver writes the minimal configuration a user would: the main file as entry,
`target: "node"`, `mode: "none"`; it runs `webpack --config` from webpack-cli. For a
Modules/1.1.1 tree (MAIN a module id) `resolve.modules: [ROOT]` lets top-level ids resolve from
the tree. A node profile program (MAIN a file path) is bundled with webpack's own resolution
alone (its default `resolve.modules`, node_modules walked up), with ROOT as the `context`, as
a configuration in a project's root has it. A build with errors (webpack exits non-zero, for
instance on a module it cannot find) counts as a failed bundle, even though webpack still
writes one.
"""

import json
import os

from conformance.drivers import (arguments, bundle_and_run, is_profile, main_file, npm_binary,
                                 npm_package)

ENGINE = "webpack"
CONFIG = """module.exports = {{
  mode: "none",
  target: "node",
  entry: {entry},
  output: {{path: {folder}, filename: {name}}},
  {resolve},
  stats: "errors-warnings",
  infrastructureLogging: {{level: "error"}},
}};
"""


def config(root: str, entry: str, out_file, profile: bool = False) -> str:
    """The webpack configuration that bundles `entry` into out_file: top-level ids from `root`
    for a Modules/1.1.1 tree, webpack's own resolution from context `root` in the profile."""
    resolve = (f"context: {json.dumps(root)}" if profile
               else f"resolve: {{modules: [{json.dumps(root)}]}}")
    return CONFIG.format(entry=json.dumps(entry), folder=json.dumps(str(out_file.parent)),
                         name=json.dumps(out_file.name), resolve=resolve)


def main() -> None:
    """Bundle ROOT's main file with webpack and run the bundle."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    webpack = npm_binary(ENGINE)
    npm_package(ENGINE, "webpack-cli")
    root = os.path.abspath(root)
    profile = is_profile(main_id)
    if profile:  # the case's files alone, for Node running the bundle too
        os.environ.pop("NODE_PATH", None)
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0")

    def build(out_file):
        settings = out_file.parent / "webpack.config.js"
        settings.write_text(config(root, str(main_file(root, main_id)), out_file, profile),
                            encoding="utf-8")
        return [webpack, "--config", settings], env

    bundle_and_run(ENGINE, build, cwd=root if profile else None)


if __name__ == "__main__":
    main()
