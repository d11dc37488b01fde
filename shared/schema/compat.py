"""Wire-compatibility check between two versions of the schema.

A consumer built against the old schema must decode what a new producer writes and
vice versa. That holds as long as no field or enum value is renumbered, removed
without being reserved, or changes type or cardinality.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf import descriptor_pb2

_D = descriptor_pb2.FieldDescriptorProto


def _messages(
    prefix: str, messages: list[descriptor_pb2.DescriptorProto]
) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    for msg in messages:
        name = f"{prefix}.{msg.name}"
        yield name, msg
        yield from _messages(name, list(msg.nested_type))


def _enums(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, descriptor_pb2.EnumDescriptorProto]:
    out = {}
    for f in fds.file:
        for e in f.enum_type:
            out[f"{f.package}.{e.name}"] = e
        for name, msg in _messages(f.package, list(f.message_type)):
            for e in msg.enum_type:
                out[f"{name}.{e.name}"] = e
    return out


def _all_messages(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, descriptor_pb2.DescriptorProto]:
    return {name: msg for f in fds.file for name, msg in _messages(f.package, list(f.message_type))}


def _reserved(msg: descriptor_pb2.DescriptorProto | descriptor_pb2.EnumDescriptorProto, number: int) -> bool:
    # Message reserved ranges are end-exclusive, enum reserved ranges end-inclusive.
    inclusive = isinstance(msg, descriptor_pb2.EnumDescriptorProto)
    return any(r.start <= number < r.end + (1 if inclusive else 0) for r in msg.reserved_range)


def breaking_changes(old: descriptor_pb2.FileDescriptorSet, new: descriptor_pb2.FileDescriptorSet) -> list[str]:
    """Human-readable list of changes in `new` that break wire compatibility with `old`."""
    problems: list[str] = []
    new_msgs = _all_messages(new)
    for name, old_msg in _all_messages(old).items():
        new_msg = new_msgs.get(name)
        if new_msg is None:
            problems.append(f"message {name} was removed")
            continue
        by_number = {f.number: f for f in new_msg.field}
        by_name = {f.name: f for f in new_msg.field}
        for field in old_msg.field:
            cur = by_number.get(field.number)
            if cur is None:
                moved = by_name.get(field.name)
                if moved is not None:
                    problems.append(f"{name}.{field.name} was renumbered from {field.number} to {moved.number}")
                elif not _reserved(new_msg, field.number):
                    problems.append(
                        f"{name}.{field.name} (field {field.number}) was removed without reserving its number"
                    )
                continue
            if (cur.type, cur.type_name) != (field.type, field.type_name):
                old_t = field.type_name or _D.Type.Name(field.type)
                new_t = cur.type_name or _D.Type.Name(cur.type)
                problems.append(f"{name}.{field.name} (field {field.number}) changed type from {old_t} to {new_t}")
            if cur.label != field.label:
                problems.append(f"{name}.{field.name} (field {field.number}) changed cardinality")
            if cur.HasField("oneof_index") != field.HasField("oneof_index"):
                problems.append(f"{name}.{field.name} (field {field.number}) moved into or out of a oneof")
    new_enums = _enums(new)
    for name, old_enum in _enums(old).items():
        new_enum = new_enums.get(name)
        if new_enum is None:
            problems.append(f"enum {name} was removed")
            continue
        values = {v.number: v.name for v in new_enum.value}
        for v in old_enum.value:
            if v.number not in values and not _reserved(new_enum, v.number):
                problems.append(f"{name}.{v.name} (value {v.number}) was removed without reserving its number")
    return problems
