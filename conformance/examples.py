"""Where the example loaders are: `python -m conformance.examples [FILE]` prints the path."""

from __future__ import annotations

import sys
from pathlib import Path


def folder() -> Path:
    """The example loaders: packaged beside the code in a wheel, else the checkout's examples/."""
    here = Path(__file__).resolve().parent
    packaged = here / "data" / "examples"
    return packaged if packaged.is_dir() else here.parent / "examples"


def main(argv: list[str] | None = None) -> int:
    """Print the examples' folder, or the path of each example named; 2 for a name not there."""
    names = sys.argv[1:] if argv is None else argv
    where = folder()
    if not names:
        print(where)
        return 0
    shipped = sorted(p.name for p in where.iterdir() if p.is_file())
    for name in names:
        if name not in shipped:
            print(f"conformance.examples: no example {name!r}; the examples are: "
                  f"{', '.join(shipped)}", file=sys.stderr)
            return 2
    for name in names:
        print(where / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
