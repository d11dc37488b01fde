"""Videos as folders of images: MOTChallenge sequences (``SEQ/img1/000001.jpg`` and ``SEQ/seqinfo.ini``).

Benchmarks and annotation tools ship footage as one image per frame. A folder of images is a
video file here: its frames in file-name order, its rate from the sequence's seqinfo.ini
where there is one.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
# MOTChallenge's layout: the images of sequence SEQ in SEQ/img1, its description in SEQ/seqinfo.ini.
_MOT_IMAGES = "img1"
_MOT_INFO = "seqinfo.ini"
_MOT_GT = Path("gt") / "gt.txt"


@dataclass(frozen=True)
class SequenceInfo:
    """The ``[Sequence]`` section of a MOTChallenge seqinfo.ini."""

    name: str
    fps: float
    length: int
    width: int
    height: int

    @classmethod
    def load(cls, path: Path | str) -> SequenceInfo:
        path = Path(path)
        parser = configparser.ConfigParser()
        if not parser.read(path):
            raise ValueError(f"cannot read sequence info {path}")
        try:
            seq = parser["Sequence"]
            return cls(
                name=seq["name"],
                fps=float(seq["frameRate"]),
                length=int(seq["seqLength"]),
                width=int(seq["imWidth"]),
                height=int(seq["imHeight"]),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"{path}: [Sequence] needs name, frameRate, seqLength, imWidth and imHeight ({exc})"
            ) from None

    def time_ns(self, frame: int) -> int:
        """Timestamp of a 1-based frame number, the first frame at 0."""
        return round((frame - 1) * 1e9 / self.fps)


@dataclass(frozen=True)
class ImageFolder:
    """The frames of a folder of images, in file-name order, and the rate its sequence states (None: none)."""

    files: tuple[Path, ...]
    fps: float | None

    @classmethod
    def open(cls, path: Path | str) -> ImageFolder:
        """`path` is a folder of images or a MOTChallenge sequence folder (with img1/); ValueError otherwise."""
        folder = Path(path)
        if (folder / _MOT_IMAGES).is_dir():
            folder = folder / _MOT_IMAGES
        images = (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        files = tuple(sorted(images, key=_frame_order))
        if not files:
            raise ValueError(
                f"folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}) and no {_MOT_IMAGES}/ folder"
            )
        info = next((p for p in (folder / _MOT_INFO, folder.parent / _MOT_INFO) if p.is_file()), None)
        return cls(files, None if info is None else SequenceInfo.load(info).fps)


def sequence_ground_truth(path: Path | str) -> Path | None:
    """SEQ/gt/gt.txt of a MOTChallenge sequence given as SEQ or SEQ/img1; None where there is none."""
    folder = Path(path)
    for root in (folder, folder.parent) if folder.name == _MOT_IMAGES else (folder,):
        if (root / _MOT_GT).is_file():
            return root / _MOT_GT
    return None


def _frame_order(path: Path) -> tuple[tuple[int, str], ...]:
    """Numbers in names compare as numbers: frame 9.jpg before frame 10.jpg, padded or not."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", path.name))
