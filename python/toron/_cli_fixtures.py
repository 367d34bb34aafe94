"""``toron fixtures``: generate a synthetic data set from a schema (tables of seeded fake records)."""

from __future__ import annotations

import argparse
import json
import os
import sys

import toron


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands to the ``toron`` parser."""
    p = commands.add_parser(
        "fixtures",
        help="generate a synthetic data set from a schema (same schema and seed, same bytes)",
        description="Generate the tables of a data-set schema (TOML or JSON). Without --out, one table is "
        "written to stdout: the schema's only table, or the one named by --table. With --out, every table "
        "is written to DIR/<table>.<format> (atomically per file) and the summary with each file's blake3 "
        "digest and the data set's digest is printed as JSON. Exit codes: 0 done, 2 bad input (a schema "
        "error names the file, line and field).",
    )
    p.add_argument("schema", metavar="SCHEMA", help="the schema file (.json is JSON, anything else TOML)")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the seed (default: SIM_SEED, else 0)",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="write every table as a file under DIR")
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "json"],
        default="jsonl",
        help="the file format (default: jsonl)",
    )
    p.add_argument("--table", default=None, metavar="T", help="the table written to stdout (without --out)")
    p.set_defaults(run=_cmd_fixtures)


def _seed(args: argparse.Namespace) -> int:
    from toron.cli import _fail

    if args.seed is not None:
        seed: int = args.seed
    else:
        text = os.environ.get("SIM_SEED", "").strip()
        try:
            seed = int(text) if text else 0
        except ValueError:
            _fail(f"SIM_SEED={text!r} is not a seed (expected an integer from 0 to 2^64-1)")
    if not 0 <= seed < 2**64:
        _fail(f"seed {seed} is out of range (expected an integer from 0 to 2^64-1)")
    return seed


def _cmd_fixtures(args: argparse.Namespace) -> int:
    from toron.cli import EXIT_OK, _fail

    seed = _seed(args)
    dataset = toron.Dataset.from_file(args.schema)
    if args.out is not None:
        if args.table is not None:
            _fail("--table applies to stdout output; --out writes every table")
        summary = dataset.write(args.out, seed=seed, format=args.format)
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    tables = dataset.tables
    if args.table is None:
        if len(tables) != 1:
            _fail(
                f"{args.schema} has {len(tables)} tables ({', '.join(tables)}): name one with --table, "
                "or write them all with --out DIR"
            )
        table = tables[0]
    else:
        table = args.table
    sys.stdout.buffer.write(dataset.dump(table, seed=seed, format=args.format))
    sys.stdout.buffer.flush()
    return EXIT_OK
