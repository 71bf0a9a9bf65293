"""esbuild: bundles the main file for Node as CommonJS, then runs the bundle on Node.

`esbuild MAIN_FILE --bundle --platform=node --format=cjs`. For a Modules/1.1.1 tree (MAIN a
module id) NODE_PATH=ROOT (esbuild's CLI reads it, as its `nodePaths` option) lets top-level ids
resolve from the tree. A node profile program (MAIN a file path) is bundled from ROOT with
esbuild's own resolution alone, as a project's entry file would be: no NODE_PATH. esbuild puts
every module it can find at build time in the bundle; the bundle runs from a directory of its
own, so only what esbuild left for run time depends on Node's require.
"""

import os

from conformance.drivers import arguments, bundle_and_run, is_profile, main_file, npm_binary

ENGINE = "esbuild"


def main() -> None:
    """Bundle ROOT's main file and run the bundle."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    esbuild = npm_binary(ENGINE)
    profile = is_profile(main_id)
    if profile:  # the case's files alone, for the build and for Node running the bundle
        os.environ.pop("NODE_PATH", None)
    env = dict(os.environ, NO_COLOR="1")
    if not profile:
        env["NODE_PATH"] = os.path.abspath(root)
    entry = os.path.abspath(main_file(root, main_id))

    def build(out_file):
        return [esbuild, entry, "--bundle", "--platform=node", "--format=cjs",
                f"--outfile={out_file}", "--log-level=error"], env

    bundle_and_run(ENGINE, build, cwd=root if profile else None)


if __name__ == "__main__":
    main()
