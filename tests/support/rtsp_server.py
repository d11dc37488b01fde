"""A real RTSP server for tests and benchmarks: GstRtspServer serving H.264 files, one mount per camera.

The server runs in its own process so a test can kill it (an outage), start it again on
the same port (the camera coming back) or freeze it with SIGSTOP (a stall: the connection
stays up and no frame arrives). Each mount plays its file from the start for every client,
paced at the file's timestamps by the server's clock, so an agent that connects sees every
frame at the rate a camera would send it.

Files are served as they are, without re-encoding: `encode_h264` turns any video into the
Matroska/H.264 file a mount needs, at the frame rate the caller states, so a reader of that
file and a reader of the RTSP stream decode exactly the same frames.

    python tests/support/rtsp_server.py --port 8554 --mount cam-a=/tmp/a.mkv --mount cam-b=/tmp/b.mkv
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

READY = "rtsp-server ready"


def _gst(*extra: str) -> Any:
    import gi

    gi.require_version("Gst", "1.0")
    for name in extra:
        gi.require_version(name, "1.0")
    from gi.repository import Gst

    if not Gst.is_initialized():
        Gst.init(None)
    return Gst


def missing_requirements() -> list[str]:
    """What this machine lacks to encode and serve (deploy/local/setup.sh installs it all)."""
    try:
        Gst = _gst("GstRtspServer")
    except (ImportError, ValueError) as exc:
        return [f"PyGObject with Gst and GstRtspServer 1.0 ({exc})"]
    elements = ("appsrc", "x264enc", "h264parse", "matroskamux", "matroskademux", "rtph264pay", "rtspsrc", "avdec_h264")
    return [f"GStreamer element {name}" for name in elements if Gst.ElementFactory.find(name) is None]


def require_rtsp_server() -> None:
    """Skip the calling test where the RTSP server cannot run; fail it in CI, like a missing service."""
    import pytest

    missing = missing_requirements()
    if missing:
        msg = f"the test RTSP server needs {', '.join(missing)}: run deploy/local/setup.sh"
        if os.environ.get("MALLFLOW_REQUIRE_SERVICES") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _read_frames(video: Path, frames: int | None) -> Iterator[Any]:
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        n = 0
        while frames is None or n < frames:
            ok, image = cap.read()
            if not ok:
                return
            yield image
            n += 1
    finally:
        cap.release()


def encode_h264(
    video: Path, out: Path, fps: float, frames: int | None = None, repeat: int = 1, keyframe_s: float = 1.0
) -> Path:
    """`video` (any format OpenCV reads) as H.264 in Matroska, stamped at `fps`, `repeat` times over.

    `frames` keeps the first N frames; `repeat` > 1 plays them again back to back, for
    soaks longer than the footage. A keyframe every `keyframe_s` bounds how long a client
    that joins mid-stream waits for its first picture. Frames are streamed through the
    encoder (a blocking appsrc), never all held in memory.
    """
    if fps <= 0 or repeat < 1 or keyframe_s <= 0:
        raise ValueError(f"fps and keyframe_s must be > 0 and repeat >= 1, got {fps}, {keyframe_s}, {repeat}")
    Gst = _gst()
    rate = Fraction(fps).limit_denominator(1001)
    duration = int(Gst.SECOND / fps)
    pipeline: Any = None
    src: Any = None
    pushed = 0
    try:
        for _ in range(repeat):
            for image in _read_frames(video, frames):
                if pipeline is None:
                    height, width = image.shape[:2]
                    pipeline = Gst.parse_launch(
                        f"appsrc name=src format=time block=true max-bytes={8 * width * height * 3} "
                        f"caps=video/x-raw,format=BGR,width={width},height={height},"
                        f"framerate={rate.numerator}/{rate.denominator} ! videoconvert ! video/x-raw,format=I420 ! "
                        f"x264enc speed-preset=ultrafast tune=zerolatency key-int-max={max(1, round(fps * keyframe_s))} ! "
                        f'h264parse ! matroskamux ! filesink location="{out}"'
                    )
                    src = pipeline.get_by_name("src")
                    pipeline.set_state(Gst.State.PLAYING)
                buf = Gst.Buffer.new_wrapped(image.tobytes())
                buf.pts = pushed * duration
                buf.duration = duration
                if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                    raise RuntimeError(f"encoding {video} into {out} failed at frame {pushed}")
                pushed += 1
        if pipeline is None:
            raise ValueError(f"{video}: no decodable frame")
        src.emit("end-of-stream")
        msg = pipeline.get_bus().timed_pop_filtered(120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if msg is None or msg.type != Gst.MessageType.EOS:
            detail = msg.parse_error()[0].message if msg is not None else "timed out"
            raise RuntimeError(f"encoding {video} into {out} failed: {detail}")
    finally:
        if pipeline is not None:
            pipeline.set_state(Gst.State.NULL)
    return out


def serve(port: int, mounts: Mapping[str, Path]) -> None:
    """Serve each file at rtsp://127.0.0.1:PORT/MOUNT until killed."""
    Gst = _gst("GstRtspServer")
    from gi.repository import GLib, GstRtspServer

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    points = server.get_mount_points()
    for name, path in mounts.items():
        factory = GstRtspServer.RTSPMediaFactory()
        # Not shared: every client gets its own playback from the first frame.
        factory.set_launch(
            f'( filesrc location="{path}" ! matroskademux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
        )
        points.add_factory(f"/{name}", factory)
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port}")
    del Gst
    print(READY, flush=True)
    GLib.MainLoop().run()


@dataclass
class RtspServer:
    """The server process, seen from a test: start, stop, restart on the same port, stall, resume."""

    port: int
    mounts: dict[str, Path]
    log_path: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 30.0) -> None:
        if self.running:
            raise RuntimeError("the RTSP server is already running")
        args = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port)]
        for name, path in self.mounts.items():
            args += ["--mount", f"{name}={path}"]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log)
        assert self._proc.stdout is not None
        # One line: READY once listening, or end of output when it failed; a server that says
        # nothing (a hung import on a loaded machine) is given timeout_s.
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout_s)
        line = self._proc.stdout.readline().decode() if ready else ""
        if READY not in line:
            self.stop()
            raise RuntimeError(
                f"the RTSP server did not start within {timeout_s:g} s: {self.log_path.read_text()[-2000:]}"
            )

    def stop(self) -> None:
        """Kill the server as a power cut would: no RTSP teardown reaches the clients."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGCONT)
            self._proc.kill()
        self._proc.wait(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc = None

    def stall(self) -> None:
        """Freeze the process: connections stay open, nothing is sent."""
        if not self.running or self._proc is None:
            raise RuntimeError("the RTSP server is not running")
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", required=True, help="NAME=FILE (Matroska with H.264)")
    args = parser.parse_args(argv)
    mounts = {}
    for item in args.mount:
        name, sep, path = item.partition("=")
        if not sep or not name or not Path(path).is_file():
            parser.error(f"--mount {item!r}: expected NAME=FILE with an existing file")
        mounts[name] = Path(path).resolve()
    serve(args.port, mounts)


if __name__ == "__main__":
    main()
