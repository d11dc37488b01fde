"""`mallflow schema gen|check|baseline` (developer tools for proto/)."""

from __future__ import annotations

import argparse
import sys

from google.protobuf import descriptor_pb2

from shared.schema import codegen
from shared.schema.compat import breaking_changes


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="regenerate and check the protobuf bindings")
    ssub = p.add_subparsers(dest="schema_command", required=True)
    ssub.add_parser("gen", help="regenerate shared/schema/v1 from proto/").set_defaults(handler=_gen)
    ssub.add_parser("check", help="fail if bindings are stale or the schema breaks the baseline").set_defaults(
        handler=_check
    )
    ssub.add_parser("baseline", help="record the current schema as the released baseline").set_defaults(
        handler=_baseline
    )


def _gen(args: argparse.Namespace) -> int:
    for path in codegen.generate(codegen.BINDINGS_DIR):
        print(f"wrote {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    problems = [f"stale generated file: {name} (run `mallflow schema gen`)" for name in codegen.stale_files()]
    old, new = descriptor_pb2.FileDescriptorSet(), descriptor_pb2.FileDescriptorSet()
    old.ParseFromString(codegen.BASELINE.read_bytes())
    new.ParseFromString(codegen.descriptor_set_bytes())
    problems += [f"breaking change: {p}" for p in breaking_changes(old, new)]
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("schema ok: bindings fresh, compatible with baseline")
    return 1 if problems else 0


def _baseline(args: argparse.Namespace) -> int:
    print(f"wrote {codegen.write_baseline()}")
    return 0
