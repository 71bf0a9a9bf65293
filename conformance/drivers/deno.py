"""Deno 2: runs the main module as CommonJS, top-level ids found through a node_modules link.

Deno's require follows Node's resolution but ignores NODE_PATH, so the driver does what a Deno
user with such a tree would do: it links ROOT/node_modules to ROOT itself (module files keep
their real paths, so a module has one identity however it is named; the link is removed after
the run). `--unstable-detect-cjs` makes the .js main module CommonJS without a package.json, and
`--no-config` keeps a deno.json or package.json above the tree from changing the run.
"""

import os
import subprocess
import sys
from pathlib import Path

from conformance.drivers import arguments, main_file, npm_binary

ENGINE = "deno"
FLAGS = ["run", "-A", "--no-config", "--no-lock", "--unstable-detect-cjs"]


def main() -> None:
    """Run ROOT/MAIN.js with `deno run`, passing on its output and status."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    deno = npm_binary(ENGINE)
    link = Path(root) / "node_modules"
    made = not os.path.lexists(link)
    if made:
        link.symlink_to(".", target_is_directory=True)
    env = dict(os.environ, NO_COLOR="1", DENO_NO_UPDATE_CHECK="1", DENO_NO_PROMPT="1")
    try:
        status = subprocess.run([str(deno), *FLAGS, str(main_file(root, main_id))],
                                env=env).returncode
    except KeyboardInterrupt:
        status = 130
    finally:
        if made:
            link.unlink()
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
