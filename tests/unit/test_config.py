"""Site configuration: good files load, bad ones get one clear message naming file, field and problem."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import ConfigError, load_site_config, parse_site_config

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"

GOOD: dict[str, Any] = {
    "site": {"id": "mall-1", "timezone": "Europe/Paris"},
    "floors": [{"id": "f1"}],
    "cameras": [
        {
            "id": "cam-a",
            "source": "rtsp://10.0.0.5/stream",
            "floor": "f1",
            "homography": {
                "image_points": [[0, 0], [100, 0], [100, 100], [0, 100]],
                "floor_points": [[0, 0], [10, 0], [10, 10], [0, 10]],
            },
        },
        {"id": "cam-b", "source": "0", "floor": "f1"},
    ],
    "lines": [{"id": "door", "camera": "cam-a", "points": [[0, 50], [100, 50]]}],
    "zones": [{"id": "shop", "camera": "cam-a", "polygon": [[0, 0], [50, 0], [50, 50]]}],
    "exits": [{"id": "street", "camera": "cam-a", "polygon": [[0, 80], [100, 80], [100, 100], [0, 100]]}],
    "topology": [{"a": "cam-a", "b": "cam-b", "min_transit_s": 1, "max_transit_s": 20}],
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the value at a dotted path (list indices as numbers) replaced; None deletes."""
    cfg = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = cfg
    for p in parents:
        node = node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return cfg


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_examples_load(name: str) -> None:
    cfg = load_site_config(EXAMPLES / name)
    assert cfg.cameras and all(c.homography is not None for c in cfg.cameras)


def test_good_config_resolves_relative_sources(tmp_path: Path) -> None:
    cfg = with_change("cameras.1.source", "videos/entrance.mp4")
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(cfg))
    site = load_site_config(path)
    assert site.camera("cam-b").source == str(tmp_path / "videos" / "entrance.mp4")
    assert site.camera("cam-a").source == "rtsp://10.0.0.5/stream"
    assert [ln.id for ln in site.lines_of("cam-a")] == ["door"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("site.id", "", "site.id: String should have at least 1 character"),
        ("site.id", "has space", "site.id: String should match pattern"),
        ("site.timezone", "Mars/Olympus", "site.timezone: unknown timezone 'Mars/Olympus'"),
        ("floors", [], "floors: List should have at least 1 item"),
        ("cameras.0.floor", "f9", "camera 'cam-a' is on unknown floor 'f9'"),
        ("cameras.1.id", "cam-a", "duplicate cameras id(s): cam-a"),
        ("cameras.0.fps_hint", -5, "cameras[0].fps_hint: Input should be greater than 0"),
        ("cameras.0.fps_hint", float("nan"), "cameras[0].fps_hint: Input should be a finite number"),
        ("zones.0.polygon.1", [float("inf"), 0], "zones[0].polygon[1][0]: Input should be a finite number"),
        ("cameras.0.crop", [100, 0, 50, 10], "cameras[0].crop: crop must be (x0, y0, x1, y1)"),
        (
            "cameras.0.homography.image_points",
            [[0, 0], [1, 0], [1, 1]],
            "cameras[0].homography: image_points has 3 points but floor_points has 4",
        ),
        (
            "cameras.0.homography.floor_points",
            [[0, 0], [1, 1], [2, 2], [3, 3]],
            "cameras[0].homography: floor_points are collinear",
        ),
        ("cameras.0.source", None, "cameras[0].source: Field required"),
        ("cameras.0.colour", "red", "cameras[0].colour: Extra inputs are not permitted"),
        ("lines.0.points", [[1, 1], [1, 1]], "lines[0].points: the two points of a line must differ"),
        ("lines.0.camera", "cam-z", "line 'door' refers to unknown camera 'cam-z'"),
        ("lines.0.settle_s", -0.1, "lines[0].settle_s: Input should be greater than or equal to 0"),
        ("lines.0.settle_s", 0, None),
        (
            "lines.0.settle_frames",
            3,
            "lines[0]: settle_frames is now settle_s, in seconds, so it means the same at any frame "
            "rate (3 frames at 7 fps: settle_s 0.25)",
        ),
        ("zones.0.enter_s", 11, "zones[0].enter_s: Input should be less than or equal to 10"),
        (
            "zones.0.enter_frames",
            2,
            "zones[0]: enter_frames is now enter_s, in seconds, so it means the same at any frame rate "
            "(2 frames at 7 fps: enter_s 0.1)",
        ),
        ("zones.0.polygon", [[0, 0], [1, 1]], "zones[0].polygon: the zone polygon needs at least 3 points, got 2"),
        ("zones.0.polygon", [[0, 0], [1, 1], [2, 2]], "zones[0].polygon: the zone polygon has zero area"),
        ("zones.0.space", "floor", None),  # valid: cam-a has a homography
        ("exits.0.camera", "cam-z", "exit 'street' refers to unknown camera 'cam-z'"),
        ("exits.0.camera", "cam-b", "exit 'street' is on camera 'cam-b', which has no homography"),
        ("exits.0.polygon", [[0, 0], [1, 1]], "exits[0].polygon: the exit polygon needs at least 3 points, got 2"),
        ("exits.0.id", "shop", None),  # exits and zones are different things
        ("exits.0.space", "floor", None),
        ("cameras.0.coverage", {"polygon": [[0, 0], [100, 0], [100, 80]]}, None),
        ("cameras.0.coverage", {"space": "floor", "polygon": [[0, 0], [10, 0], [10, 8]]}, None),
        (
            "cameras.1.coverage",
            {"space": "floor", "polygon": [[0, 0], [10, 0], [10, 8]]},
            "the coverage of camera 'cam-b' is drawn in floor space but it has no homography",
        ),
        ("cameras.1.coverage", {"polygon": [[0, 0], [10, 0], [10, 8]]}, None),  # image space needs none
        (
            "cameras.0.coverage",
            {"polygon": [[0, 0], [1, 1]]},
            "cameras[0].coverage.polygon: the coverage polygon needs at least 3 points, got 2",
        ),
        (
            "cameras.0.coverage",
            {"polygon": [[0, 0], [1, 1], [2, 2]]},
            "cameras[0].coverage.polygon: the coverage polygon has zero area",
        ),
        ("cameras.0.coverage", {"space": "roof", "polygon": [[0, 0], [1, 0], [1, 1]]}, "cameras[0].coverage.space"),
        ("cameras.0.coverage", {"area": [[0, 0], [1, 0], [1, 1]]}, "cameras[0].coverage.area: Extra inputs"),
        ("topology.0.b", "cam-a", "topology[0]: a topology link must join two different cameras"),
        ("topology.0.min_transit_s", 50, "min_transit_s (50.0) is greater than max_transit_s (20.0)"),
        ("topology.0.b", "cam-q", "topology link cam-a–cam-q refers to unknown camera 'cam-q'"),
    ],
)
def test_bad_field_is_named(path: str, value: Any, expected: str | None) -> None:
    cfg = with_change(path, value)
    if expected is None:
        parse_site_config(cfg)
        return
    with pytest.raises(ConfigError) as err:
        parse_site_config(cfg, "mall.yaml")
    assert "mall.yaml" in str(err.value)
    assert expected in str(err.value), str(err.value)


def test_floor_space_needs_homography() -> None:
    cfg = with_change("zones.0.camera", "cam-b")
    cfg["zones"][0]["space"] = "floor"
    with pytest.raises(ConfigError, match="drawn in floor space but camera 'cam-b' has no homography"):
        parse_site_config(cfg)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("site: [unclosed", "line 1, column 16: YAML syntax error: expected ',' or ']'"),
        ("- just\n- a list\n", "the top level must be a mapping, got list"),
        ("", "the top level must be a mapping, got NoneType"),
        (
            "site: {id: x}\nfloors: [{id: f}]\ncameras: [{id: c, floor: f, source: '${NOPE_UNSET_VAR}/a.mp4'}]\n",
            "environment variable NOPE_UNSET_VAR is not set",
        ),
    ],
)
def test_bad_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_site_config(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value), str(err.value)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_site_config("/nonexistent/site.yaml")


def test_cli_reports_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(with_change("cameras.0.floor", "nowhere")))
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "config", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"invalid site config {path}" in result.stderr
    assert "unknown floor 'nowhere'" in result.stderr
