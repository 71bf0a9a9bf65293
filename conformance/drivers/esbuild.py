"""esbuild: bundles the main module for Node as CommonJS, then runs the bundle on Node.

`esbuild MAIN_FILE --bundle --platform=node --format=cjs`, with NODE_PATH=ROOT (esbuild's CLI
reads it, as its `nodePaths` option) so that top-level ids resolve from the tree. esbuild puts
every module it can find at build time in the bundle; the bundle runs from a directory of its
own, so only what esbuild left for run time depends on Node's require.
"""

import os

from conformance.drivers import arguments, bundle_and_run, main_file, npm_binary

ENGINE = "esbuild"


def main() -> None:
    """Bundle ROOT/MAIN.js and run the bundle."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    esbuild = npm_binary(ENGINE)
    env = dict(os.environ, NODE_PATH=os.path.abspath(root), NO_COLOR="1")

    def build(out_file):
        return [esbuild, main_file(root, main_id), "--bundle", "--platform=node",
                "--format=cjs", f"--outfile={out_file}", "--log-level=error"], env

    bundle_and_run(ENGINE, build)


if __name__ == "__main__":
    main()
