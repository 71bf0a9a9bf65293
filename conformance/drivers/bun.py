"""Bun: runs the main file with `bun`.

A Modules/1.1.1 tree (MAIN a module id) has its top-level ids found through NODE_PATH, as for
Node. A node profile program (MAIN a file path) runs as `bun MAIN_FILE` from ROOT, the way a
project's entry file is run, with Bun's own lookup alone: NODE_PATH is not set. In both,
`--no-install` turns off Bun's auto-install, which would otherwise fetch a bare name missing
from every node_modules from the npm registry instead of failing as Node does.
"""

import os

from conformance.drivers import arguments, is_profile, main_file, npm_binary, replace

ENGINE = "bun"


def main() -> None:
    """Run ROOT's main file on Bun."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    bun = npm_binary(ENGINE)
    env = dict(os.environ, NO_COLOR="1")
    target = os.path.abspath(main_file(root, main_id))
    if is_profile(main_id):
        env.pop("NODE_PATH", None)  # the case's files alone, even when the caller has one
        os.chdir(root)
    else:
        env["NODE_PATH"] = root
    replace([bun, "--no-install", target], env)


if __name__ == "__main__":
    main()
