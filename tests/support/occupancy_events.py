"""Edge envelopes that walk a live count along a path of counts, one person a second.

A zone's count moves by zone enters and exits, the site's by crossings of an entrance
line, as the edge reports them; seqs and times continue from one walk to the next.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.schema import pb

NS = 1_000_000_000


class CountWalker:
    def __init__(
        self, start_ns: int, site_id: str = "mall", camera_id: str = "cam-a", entrance: str = "door", seq: int = 0
    ) -> None:
        self.site_id = site_id
        self.camera_id = camera_id
        self.entrance = entrance
        self.time_ns = start_ns
        self.seq = seq
        self._next_track = 1
        # Per scope: the tracks inside, with their enter times, newest last.
        self._inside: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def walk(self, scope: str, scope_id: str, counts: Sequence[int]) -> list[pb.Envelope]:
        """Envelopes taking the scope's count through each of `counts` in turn."""
        out = []
        inside = self._inside.setdefault((scope, scope_id), [])
        for target in counts:
            while len(inside) != target:
                self.seq += 1
                self.time_ns += NS
                env = pb.Envelope(
                    schema_version=1,
                    site_id=self.site_id,
                    camera_id=self.camera_id,
                    edge_id="edge-1",
                    seq=self.seq,
                    event_time_ns=self.time_ns,
                    publish_time_ns=self.time_ns,
                )
                entering = len(inside) < target
                if entering:
                    track = (self._next_track, self.time_ns)
                    self._next_track += 1
                    inside.append(track)
                else:
                    track = inside.pop()
                if scope == "site":
                    env.line_crossing.line_id = self.entrance
                    env.line_crossing.direction = pb.DIRECTION_IN if entering else pb.DIRECTION_OUT
                    env.line_crossing.track_id = track[0]
                else:
                    env.zone_transition.zone_id = scope_id
                    env.zone_transition.event = pb.ZONE_EVENT_ENTER if entering else pb.ZONE_EVENT_EXIT
                    env.zone_transition.track_id = track[0]
                    if not entering:
                        env.zone_transition.entered_time_ns = track[1]
                out.append(env)
        return out
