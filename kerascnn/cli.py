"""The `kerascnn` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _read_spec(source: str):
    from kerascnn.spec import ConvNetSpec

    if source == "-":
        return ConvNetSpec.from_json(sys.stdin.read())
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"No spec file at '{source}'; give the path of a spec JSON file, "
            "or '-' for standard input."
        )
    return ConvNetSpec.from_json(path.read_text(encoding="utf-8"))


def _describe(args) -> int:
    from kerascnn.describe import describe

    description = describe(_read_spec(args.spec))
    if args.json:
        print(json.dumps(description.to_dict(), indent=2))
    else:
        print(description)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from kerascnn import __version__

    parser = argparse.ArgumentParser(
        prog="kerascnn",
        description="Build, describe and ship convolutional networks.",
    )
    parser.add_argument("--version", action="version", version=f"kerascnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    describe = commands.add_parser(
        "describe",
        help="build a network from a spec and print each layer's shape, parameters and MACs",
    )
    describe.add_argument("spec", help="a ConvNetSpec JSON file, or '-' for standard input")
    describe.add_argument("--json", action="store_true", help="print the description as JSON")
    describe.set_defaults(run=_describe)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the `kerascnn` command; returns its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"kerascnn {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
