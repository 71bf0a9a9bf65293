"""Deno 2: runs the main file as CommonJS with `deno run -A`.

Deno treats a .js file as CommonJS only when a package.json says `"type": "commonjs"`, unless
`--unstable-detect-cjs` is given: Deno's Node compatibility page (docs.deno.com/runtime/
fundamentals/node, "Always detecting if a file might be CommonJS") documents that flag as
making Deno analyse .js files as possibly CommonJS except under a package.json whose type is
module, and DENO_COMPAT=1 turns it on with other changes (sloppy imports, bare built-ins) the
suite does not want. The cases' files have no "type", so the driver passes that flag.
`--no-lock` keeps Deno from writing a deno.lock among the case's files.

A Modules/1.1.1 tree (MAIN a module id): Deno's require follows Node's resolution but ignores
NODE_PATH, so the driver does what a Deno user with such a tree would do: it links
ROOT/node_modules to ROOT itself (module files keep their real paths, so a module has one
identity however it is named; the link is removed after the run), and `--no-config` keeps a
deno.json or package.json above the tree from changing the run. A node profile program (MAIN a
file path) runs as `deno run -A --unstable-detect-cjs --no-lock MAIN_FILE` from ROOT, the way
a project's entry file is run: no link, and the case's own package.json files are read as Deno
reads a project's.
"""

import os
import subprocess
import sys
from pathlib import Path

from conformance.drivers import arguments, is_profile, main_file, npm_binary, replace

ENGINE = "deno"
FLAGS = ["run", "-A", "--unstable-detect-cjs", "--no-lock"]
#: What a Modules/1.1.1 tree adds: the tree is not a project, whatever is above it.
TREE_FLAGS = ["--no-config"]


def main() -> None:
    """Run ROOT's main file with `deno run`, passing on its output and status."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    deno = npm_binary(ENGINE)
    env = dict(os.environ, NO_COLOR="1", DENO_NO_UPDATE_CHECK="1", DENO_NO_PROMPT="1")
    target = os.path.abspath(main_file(root, main_id))
    if is_profile(main_id):
        env.pop("NODE_PATH", None)  # the case's files alone, even when the caller has one
        os.chdir(root)
        replace([deno, *FLAGS, target], env)
    link = Path(root) / "node_modules"
    made = not os.path.lexists(link)
    if made:
        link.symlink_to(".", target_is_directory=True)
    try:
        status = subprocess.run([str(deno), *FLAGS, *TREE_FLAGS, target], env=env).returncode
    except KeyboardInterrupt:
        status = 130
    finally:
        if made:
            link.unlink()
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
