"""``python -m bench [NAME ...] [-- OPTIONS]``: run bench/NAME.py's ``main()``; no name runs every benchmark.

Options after the names (``python -m bench train_ler --budget 60``) go to the one named benchmark's own parser.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

_SKIP = {"common", "__main__"}


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in _SKIP)


def main(argv: list[str]) -> int:
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, options = argv[:first_option] or available(), [a for a in argv[first_option:] if a != "--"]
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(available())}", file=sys.stderr)
        return 2
    if options and len(names) != 1:
        print("Options go to one benchmark: python -m bench NAME --option ...", file=sys.stderr)
        return 2
    for name in names:
        print(f"== bench {name}", flush=True)
        run = importlib.import_module(f"bench.{name}").main
        takes_options = bool(inspect.signature(run).parameters)
        if options and not takes_options:
            print(f"bench {name} takes no options", file=sys.stderr)
            return 2
        # An explicit list, so a benchmark's argparse never reads our own sys.argv (the benchmark names).
        run(options) if takes_options else run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
