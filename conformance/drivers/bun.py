"""Bun: runs the main module with `bun`, top-level ids found through NODE_PATH as in Node."""

import os

from conformance.drivers import arguments, main_file, npm_binary, replace

ENGINE = "bun"


def main() -> None:
    """Run ROOT/MAIN.js on Bun; no auto-install, so a missing module is an error, not a fetch."""
    root, main_id = arguments(f"conformance.drivers.{ENGINE} ROOT MAIN")
    bun = npm_binary(ENGINE)
    env = dict(os.environ, NODE_PATH=root, NO_COLOR="1")
    replace([bun, "--no-install", main_file(root, main_id)], env)


if __name__ == "__main__":
    main()
