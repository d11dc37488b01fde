"""Wire schema: fresh codegen, compatibility with the released baseline, envelope validation."""

from __future__ import annotations

import numpy as np
import pytest
from google.protobuf import descriptor_pb2

from shared.schema import EnvelopeError, codegen, decode_envelope, pack_embedding, pb, unpack_embedding
from shared.schema.compat import breaking_changes


def test_generated_bindings_are_fresh() -> None:
    assert codegen.stale_files() == [], "run `mallflow schema gen` and commit the result"


def _baseline() -> descriptor_pb2.FileDescriptorSet:
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(codegen.BASELINE.read_bytes())
    return fds


def _current() -> descriptor_pb2.FileDescriptorSet:
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(codegen.descriptor_set_bytes())
    return fds


def test_schema_is_compatible_with_released_baseline() -> None:
    assert breaking_changes(_baseline(), _current()) == []


def _message(fds: descriptor_pb2.FileDescriptorSet, name: str) -> descriptor_pb2.DescriptorProto:
    return next(m for m in fds.file[0].message_type if m.name == name)


def _field(msg: descriptor_pb2.DescriptorProto, name: str) -> descriptor_pb2.FieldDescriptorProto:
    return next(f for f in msg.field if f.name == name)


def _remove_seq(fds: descriptor_pb2.FileDescriptorSet) -> None:
    env = _message(fds, "Envelope")
    env.field.remove(_field(env, "seq"))


def _remove_seq_reserved(fds: descriptor_pb2.FileDescriptorSet) -> None:
    _remove_seq(fds)
    env = _message(fds, "Envelope")
    env.reserved_range.add(start=5, end=6)


def _renumber_site(fds: descriptor_pb2.FileDescriptorSet) -> None:
    _field(_message(fds, "Envelope"), "site_id").number = 99


def _retype_confidence(fds: descriptor_pb2.FileDescriptorSet) -> None:
    _field(_message(fds, "TrackUpdate"), "confidence").type = descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE


def _make_repeated(fds: descriptor_pb2.FileDescriptorSet) -> None:
    _field(_message(fds, "LineCrossing"), "line_id").label = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED


def _drop_enum_value(fds: descriptor_pb2.FileDescriptorSet) -> None:
    enum = next(e for e in fds.file[0].enum_type if e.name == "Direction")
    del enum.value[2]


def _add_field(fds: descriptor_pb2.FileDescriptorSet) -> None:
    _message(fds, "CameraStatus").field.add(
        name="temperature_c",
        # The next free number: a field added later takes it, and this test moves on.
        number=max(f.number for f in _message(fds, "CameraStatus").field) + 1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_remove_seq, ["mallflow.v1.Envelope.seq (field 5) was removed without reserving its number"]),
        (_remove_seq_reserved, []),
        (_renumber_site, ["mallflow.v1.Envelope.site_id was renumbered from 2 to 99"]),
        (
            _retype_confidence,
            ["mallflow.v1.TrackUpdate.confidence (field 3) changed type from TYPE_FLOAT to TYPE_DOUBLE"],
        ),
        (_make_repeated, ["mallflow.v1.LineCrossing.line_id (field 1) changed cardinality"]),
        (_drop_enum_value, ["mallflow.v1.Direction.DIRECTION_OUT (value 2) was removed without reserving its number"]),
        (_add_field, []),
    ],
)
def test_compat_check_catches_breaking_changes(mutate, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    new = _current()
    mutate(new)
    assert breaking_changes(_current(), new) == expected


def _valid_envelope() -> pb.Envelope:
    return pb.Envelope(
        schema_version=1,
        site_id="s",
        camera_id="c",
        edge_id="e",
        seq=7,
        event_time_ns=1_700_000_000_000_000_000,
        line_crossing=pb.LineCrossing(line_id="door", direction=pb.DIRECTION_IN, track_id=3),
    )


def test_round_trip() -> None:
    env = _valid_envelope()
    assert decode_envelope(env.SerializeToString()) == env


def _with(**changes: object) -> bytes:
    env = _valid_envelope()
    for k, v in changes.items():
        setattr(env, k, v)
    return env.SerializeToString()


def _no_payload() -> bytes:
    env = _valid_envelope()
    env.ClearField("line_crossing")
    return env.SerializeToString()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xff\xff\xff", "malformed"),
        (_valid_envelope().SerializeToString()[:-3], "malformed"),
        (b"x" * 70_000, "too_large"),
        (_with(schema_version=2), "unsupported_version"),
        (_with(schema_version=0), "unsupported_version"),
        (_with(site_id=""), "missing_ids"),
        (_with(seq=0), "missing_seq"),
        (_with(event_time_ns=-1), "bad_time"),
        (_no_payload(), "no_payload"),
    ],
)
def test_rejections_name_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError) as err:
        decode_envelope(data)
    assert err.value.reason == reason
    assert err.value.detail


def test_embedding_round_trip() -> None:
    vec = np.random.default_rng(0).normal(size=512).astype(np.float32)
    emb = pack_embedding(vec, "osnet@1234", quality=0.8, samples=5)
    assert len(emb.vector_f16) == 1024
    back = unpack_embedding(emb)
    assert np.dot(back, vec / np.linalg.norm(vec)) > 0.9999
    with pytest.raises(ValueError, match="zero or non-finite"):
        pack_embedding(np.zeros(4), "m", 1.0)
    emb.dim = 100
    with pytest.raises(EnvelopeError, match="dim=100"):
        unpack_embedding(emb)
