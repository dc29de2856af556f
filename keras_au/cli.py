"""Command-line plumbing shared by every ``python -m keras_au.<verb>``.

Flags are generated from a config dataclass, so a new config field is a new
flag with no other edit; ``-d/--data-dir`` and ``-r/--model-dir`` mean the
same in every entry point. Errors a user can fix become one line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

#: Short flags kept from the original code.
SHORT_FLAGS = {"data_dir": "-d", "model_dir": "-r"}

#: Exit code of a run that stopped on bad input.
EXIT_USAGE = 2


def _parse_tuple(item_type: type) -> Callable[[str], tuple]:
    def parse(text: str) -> tuple:
        parts = [p for p in text.replace(" ", "").split(",") if p]
        try:
            return tuple(item_type(p) for p in parts)
        except ValueError as err:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {item_type.__name__} values, got {text!r}"
            ) from err

    return parse


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(text: str) -> Any:
        return None if text.lower() in ("none", "") else parse(text)

    return wrapped


def add_config_flags(parser: argparse.ArgumentParser, config_cls: type, skip: Sequence[str] = ()) -> None:
    """Add one ``--field-name`` flag per field of ``config_cls``.

    Defaults are left as ``None`` (meaning "not given"), so presets apply
    first and only the flags a user typed override them.
    """
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        flags = ["--" + field.name.replace("_", "-")]
        if field.name in SHORT_FLAGS:
            flags.insert(0, SHORT_FLAGS[field.name])
        hint = hints[field.name]
        args = typing.get_args(hint)
        optional = type(None) in args
        base = next((a for a in args if a is not type(None)), hint) if optional else hint
        if base is bool:
            parser.add_argument(*flags, dest=field.name, action=argparse.BooleanOptionalAction,
                                default=None, help=f"(default: {field.default})")
            continue
        if typing.get_origin(base) is tuple:
            parse: Callable[[str], Any] = _parse_tuple(typing.get_args(base)[0])
            metavar = "V1,V2,..."
        elif isinstance(base, type) and not isinstance(base, types.GenericAlias):
            parse, metavar = base, field.name.upper()
        else:
            parse, metavar = str, field.name.upper()
        if optional:
            parse = _optional(parse)
        parser.add_argument(*flags, dest=field.name, type=parse, default=None,
                            metavar=metavar, help=f"(default: {field.default})")


def overrides(args: argparse.Namespace, config_cls: type) -> dict[str, Any]:
    """The config fields the user set on the command line."""
    names = {f.name for f in dataclasses.fields(config_cls)} - {"preset"}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def run(main: Callable[[], int], prog: str) -> int:
    """Call ``main``; turn the errors a user can fix into one line and exit 2."""
    try:
        return main()
    except (ValueError, FileNotFoundError, NotADirectoryError, PermissionError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


def config_parser(prog: str, description: str, config_cls: type,
                  presets: Sequence[str]) -> argparse.ArgumentParser:
    """A parser with ``--preset`` and one flag per field of ``config_cls``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--preset", default="default", choices=sorted(presets),
                        help="starting values; flags override them (default: default)")
    add_config_flags(parser, config_cls, skip=("preset",))
    return parser


def run_config(
    argv: list[str] | None,
    parser: argparse.ArgumentParser,
    config_cls: type,
    make_config: Callable[..., Any],
    job: Callable[[Any], Any],
) -> int:
    """Parse ``argv``, build the preset's config with the flags applied, run ``job`` on it."""
    args = parser.parse_args(argv)

    def go() -> int:
        job(make_config(args.preset, **overrides(args, config_cls)))
        return 0

    return run(go, parser.prog.removeprefix("python -m "))
