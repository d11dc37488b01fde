"""PETS09-S2L1 at a camera's frame rate: motion-interpolated video and ground truth.

    .venv/bin/python tests/bench/frame_rate_up.py --factor 4 --out /tmp/pets28

PETS09 was filmed at 7 frames a second; mall cameras stream 25-30. Every tracker setting
was chosen at 7 fps, so this makes the same scene at `factor` times the rate, to judge the
product where people move a quarter as far between frames. Between each pair of frames,
`factor - 1` frames are synthesised from dense optical flow (OpenCV's DIS, both ways): each
is the two neighbours warped to the in-between time and blended by distance. The ground
truth is interpolated alike: an identity annotated in both neighbours gets a box and floor
position on the straight line between them; one annotated in only one gets none in between
(as the MOT ground truth does when a person enters or leaves).

Writes `vtest.avi` (Motion JPEG at quality 95, frame rate in the header) and `gt.txt` under
`--out`. Judge them with the agent's own evaluation, or sweep tracker settings on them
(`tracker_sweep.py --rate-up 4`):

    mallflow eval sequence --config deploy/examples/pets09.yaml --video OUT/vtest.avi \
        --gt OUT/gt.txt --fps 28 --random-shapes 200,100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from shared.assets.datasets import fetch_vtest  # noqa: E402

GT = ROOT.parent / "shared" / "data" / "PETS09-S2L1" / "gt" / "gt.txt"
SOURCE_FPS = 7.0


def in_between_flows(flow_01: np.ndarray, flow_10: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Flows from time t back to frame 0 and on to frame 1, from the two frame-to-frame flows.

    Linear motion through t, the approximation of Jiang et al. (Super SloMo, 2018): a pixel at
    t came from where the forward flow starts and goes where the backward flow came from.
    """
    flow_t0 = -(1.0 - t) * t * flow_01 + t * t * flow_10
    flow_t1 = (1.0 - t) ** 2 * flow_01 - t * (1.0 - t) * flow_10
    return flow_t0, flow_t1


def warp(frame: np.ndarray, flow: np.ndarray, grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """`frame` sampled where `flow` points from each pixel of `grid` (its x and y coordinates)."""
    grid_x, grid_y = grid
    return cv2.remap(
        frame,
        grid_x + flow[..., 0],
        grid_y + flow[..., 1],
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def in_between_frames(first: np.ndarray, second: np.ndarray, factor: int, dis: cv2.DISOpticalFlow) -> list[np.ndarray]:
    grey_first = cv2.cvtColor(first, cv2.COLOR_BGR2GRAY)
    grey_second = cv2.cvtColor(second, cv2.COLOR_BGR2GRAY)
    flow_01 = dis.calc(grey_first, grey_second, None)
    flow_10 = dis.calc(grey_second, grey_first, None)
    height, width = grey_first.shape
    grid = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    frames = []
    for step in range(1, factor):
        t = step / factor
        flow_t0, flow_t1 = in_between_flows(flow_01, flow_10, t)
        blended = (1.0 - t) * warp(first, flow_t0, grid).astype(np.float32) + t * warp(second, flow_t1, grid).astype(
            np.float32
        )
        frames.append(np.clip(blended + 0.5, 0, 255).astype(np.uint8))
    return frames


def write_video(source: Path, target: Path, factor: int) -> int:
    capture = cv2.VideoCapture(str(source))
    ok, previous = capture.read()
    if not ok:
        raise ValueError(f"{source}: no frame could be read")
    height, width = previous.shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"MJPG"), SOURCE_FPS * factor, (width, height))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    written = 1
    writer.write(previous)
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    with tqdm(total=total, desc=f"x{factor}", unit="frame") as progress:
        progress.update(1)
        while True:
            ok, current = capture.read()
            if not ok:
                break
            for frame in in_between_frames(previous, current, factor, dis):
                writer.write(frame)
            writer.write(current)
            written += factor
            previous = current
            progress.update(1)
    writer.release()
    capture.release()
    return written


def interpolated_ground_truth(rows: np.ndarray, factor: int) -> np.ndarray:
    """MOT rows (frame, id, x, y, w, h, conf, wx, wy, ...) at `factor` times the rate."""
    by_key = {(int(row[0]), int(row[1])): row for row in rows}
    out = []
    for (frame, identity), row in sorted(by_key.items()):
        key_frame = (frame - 1) * factor + 1
        placed = row.copy()
        placed[0] = key_frame
        out.append(placed)
        following = by_key.get((frame + 1, identity))
        if following is None:
            continue
        for step in range(1, factor):
            t = step / factor
            between = (1.0 - t) * row + t * following
            between[0] = key_frame + step
            between[1] = identity
            out.append(between)
    table = np.asarray(out)
    return table[np.lexsort((table[:, 1], table[:, 0]))]


def write_ground_truth(source: Path, target: Path, factor: int) -> int:
    rows = np.loadtxt(source, delimiter=",", ndmin=2)
    table = interpolated_ground_truth(rows, factor)
    integer_columns = {0, 1}
    with target.open("w") as handle:
        for row in table:
            handle.write(
                ",".join(str(int(value)) if i in integer_columns else f"{value:.3f}" for i, value in enumerate(row))
                + "\n"
            )
    return len(table)


def rate_up(factor: int, out: Path) -> tuple[Path, Path]:
    """(video, ground truth) of PETS09 at `factor` times its rate under `out`, made once."""
    if factor < 2:
        raise ValueError(f"factor must be 2 or more, got {factor}")
    video, truth = out / "vtest.avi", out / "gt.txt"
    if not (video.is_file() and truth.is_file()):
        out.mkdir(parents=True, exist_ok=True)
        frames = write_video(fetch_vtest(), video, factor)
        rows = write_ground_truth(GT, truth, factor)
        print(f"{video}: {frames} frames at {SOURCE_FPS * factor:g} fps; {truth}: {rows} rows")
    return video, truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=int, default=4, help="frames out per frame in (default 4: 28 fps)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the video and the ground truth")
    args = parser.parse_args()
    if args.factor < 2:
        parser.error(f"--factor must be 2 or more, got {args.factor}")
    rate_up(args.factor, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
