"""Site map: cameras' fields of view, lines, zones and exits on the floor in metres, the plan image
generated from the calibration, and the map endpoint (geometry, plan, heatmap, 4xx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from api_db import READ, make_app
from fastapi.testclient import TestClient
from support import chain_scene

from cloud.storage import create_db_engine, session_factory, upgrade
from shared.config import load_site_config, parse_site_config
from shared.config.site import SiteConfig, Space
from shared.geometry.calibration import coverage
from shared.geometry.field_of_view import camera_window, frame_size, line_on_floor, view_polygon
from shared.geometry.homography import FloorMapper
from shared.geometry.plan_image import encode_png, render_plan

EXAMPLES = chain_scene.REPO / "deploy" / "examples"
# Image pixels → floor metres at 1 cm per pixel, looking straight down: no horizon.
TOP_DOWN = {"image_points": [[0, 0], [400, 0], [400, 300], [0, 300]], "floor_points": [[0, 0], [4, 0], [4, 3], [0, 3]]}


def _area(polygon: list[tuple[float, float]]) -> float:
    xy = np.asarray(polygon)
    return float(abs(np.dot(xy[:, 0], np.roll(xy[:, 1], 1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], 1))) / 2)


def _top_down(crop: list[int] | None = None) -> SiteConfig:
    camera: dict[str, object] = {"id": "cam", "source": "/dev/null", "floor": "ground", "homography": TOP_DOWN}
    if crop is not None:
        camera["crop"] = crop
    return parse_site_config(
        {
            "site": {"id": "s", "timezone": "UTC"},
            "floors": [{"id": "ground"}],
            "cameras": [camera],
            "lines": [{"id": "l", "camera": "cam", "points": [[0, 120], [450, 120]]}],
        }
    )


@pytest.mark.parametrize(
    ("crop", "size", "known", "view_area"),
    [
        (None, (450, 300), False, 4.5 * 3.0),  # inferred: the calibration points, widened by the line
        ([100, 0, 300, 300], (200, 300), True, 2.0 * 3.0),  # the crop's own frame, shifted
        ([0, 100, 400, 200], (400, 100), True, 4.0 * 1.0),
    ],
)
def test_a_top_down_view_is_its_frame_scaled_to_metres(
    crop: list[int] | None, size: tuple[int, int], known: bool, view_area: float
) -> None:
    site = _top_down(crop)
    camera = site.cameras[0]
    frame = frame_size(site, camera)
    assert ((frame.width, frame.height), frame.known) == (size, known)
    mapper, window = FloorMapper.for_camera(camera), camera_window(camera)
    assert mapper is not None and window is not None
    view = view_polygon(mapper, frame, window)
    assert _area(view) == pytest.approx(view_area, rel=1e-6)
    if crop is not None:
        assert min(p[0] for p in view) == pytest.approx(crop[0] / 100)


@pytest.mark.parametrize(
    ("config", "camera_id", "size"),
    [
        ("pets09.yaml", "cam-main", (768, 576)),
        ("pets09-split.yaml", "cam-left", (360, 576)),
        ("pets09-split.yaml", "cam-right", (348, 576)),
    ],
)
def test_a_slanted_view_is_cut_at_the_horizon_and_covers_what_calibration_measures(
    config: str, camera_id: str, size: tuple[int, int]
) -> None:
    site = load_site_config(EXAMPLES / config)
    camera = site.camera(camera_id)
    frame = frame_size(site, camera)
    assert (frame.width, frame.height) == size
    mapper, window = FloorMapper.for_camera(camera), camera_window(camera)
    assert mapper is not None and window is not None
    view = view_polygon(mapper, frame, window)
    assert all(np.isfinite(p).all() and window[0] - 1e-6 <= p[0] <= window[2] + 1e-6 for p in view)
    # The polygon's area is the frame's floor within the window, as the calibration check integrates it.
    assert _area(view) == pytest.approx(coverage(mapper, size, window).area_m2, rel=0.02)


@pytest.mark.parametrize(
    ("points", "space", "inward"),
    [
        # In is where (P2−P1)×(X−P1) > 0: with y down, to the left of the walk from P1 to P2.
        ([[0, 120], [350, 120]], Space.IMAGE, (0.0, 1.0)),
        ([[350, 120], [0, 120]], Space.IMAGE, (0.0, -1.0)),
        ([[100, 0], [100, 300]], Space.IMAGE, (-1.0, 0.0)),
        ([[1.0, 1.0], [3.0, 1.0]], Space.FLOOR, (0.0, 1.0)),
    ],
)
def test_a_line_points_to_its_in_side_on_the_floor(
    points: list[list[float]], space: Space, inward: tuple[float, float]
) -> None:
    mapper = FloorMapper.for_camera(_top_down().cameras[0])
    placed = line_on_floor(mapper, points, space)
    assert placed is not None
    scale = 0.01 if space is Space.IMAGE else 1.0
    assert placed[0] == pytest.approx((points[0][0] * scale, points[0][1] * scale))
    assert placed[2] == pytest.approx(inward)


@pytest.mark.parametrize(
    ("config", "plan_file"), [("pets09.yaml", "pets09-ground.png"), ("pets09-split.yaml", "pets09-split-ground.png")]
)
def test_the_committed_example_plans_are_what_the_generator_draws(config: str, plan_file: str) -> None:
    site = load_site_config(EXAMPLES / config)
    floor = site.floor("ground")
    # The loader resolves the plan next to the YAML; the YAML aligns it at the extent's corner.
    assert floor.plan_image == str(EXAMPLES / plan_file)
    assert floor.extent is not None and floor.origin == (floor.extent[0], floor.extent[1])
    plan = render_plan(site, "ground")
    committed = cv2.imread(floor.plan_image, cv2.IMREAD_COLOR)
    assert committed is not None and np.array_equal(committed, plan.image), (
        f"regenerate: mallflow plan --config deploy/examples/{config} --out deploy/examples/{plan_file}"
    )
    assert len(encode_png(plan)) < 50_000


def test_a_plan_needs_the_floors_extent() -> None:
    with pytest.raises(ValueError, match="no extent"):
        render_plan(_top_down(), "ground")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    import time

    url = f"sqlite:///{tmp_path_factory.mktemp('site-map') / 'api.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as session:
        chain_scene.load(session, time.time_ns())
    with TestClient(make_app(url)) as c:
        yield c


MAP = "/api/v1/sites/pets09-split/map"


def test_the_map_of_the_example_site(client: TestClient) -> None:
    body = client.get(MAP, headers=READ).json()
    assert body["floor_id"] == "ground" and body["bounds"] == [-22.0, -18.0, 9.0, 9.0]
    assert body["plan"] == {
        "width_m": 31.0,
        "height_m": 27.0,
        "origin": [-22.0, -18.0],
        "width_px": 310,
        "height_px": 270,
    }
    assert [(c["id"], c["frame_width"], c["frame_known"]) for c in body["cameras"]] == [
        ("cam-left", 360, True),
        ("cam-right", 348, True),
    ]
    assert all(len(c["view"]) >= 3 for c in body["cameras"])
    assert {z["id"] for z in body["zones"]} == {"left-centre", "right-centre"}
    assert {e["id"] for e in body["exits"]} == {"west-side", "east-side"}
    assert all(len(r["polygon"]) >= 3 for r in body["zones"] + body["exits"])
    lines = {ln["id"]: ln for ln in body["lines"]}
    assert set(lines) == {"left-exit", "right-lower"}
    assert lines["left-exit"]["inward"] == pytest.approx([0.447, -0.894], abs=1e-3)
    heat = body["heatmap"]
    assert (heat["width"], heat["height"], heat["max_seconds"], heat["total_seconds"]) == (31, 27, 240.0, 435.0)
    assert heat["seconds"][9][8] == 120.0


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        (MAP, {"floor": "ground"}, 200, None),
        (MAP, {"floor": "roof"}, 404, "no floor 'roof' (floors: ground)"),
        (MAP, {"floor": "x" * 65}, 422, "floor"),
        (MAP, {"start": "2026-06-11", "end": "2026-06-10"}, 422, "is before start"),
        ("/api/v1/sites/nowhere/map", {}, 404, "unknown site"),
        ("/api/v1/sites/harbour/map", {}, 200, None),
        ("/api/v1/sites/pets09-split/floors/ground/plan", {}, 200, None),
        ("/api/v1/sites/pets09-split/floors/roof/plan", {}, 404, "no floor 'roof'"),
        ("/api/v1/sites/harbour/floors/ground/plan", {}, 404, "has no plan image"),
    ],
)
def test_map_and_plan_requests(
    client: TestClient, path: str, params: dict[str, str], status: int, detail: str | None
) -> None:
    response = client.get(path, params=params, headers=READ)
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]


def test_the_plan_is_served_as_configured(client: TestClient) -> None:
    response = client.get("/api/v1/sites/pets09-split/floors/ground/plan", headers=READ)
    assert response.headers["content-type"] == "image/png"
    assert response.content == (EXAMPLES / "pets09-split-ground.png").read_bytes()


def test_a_site_without_homographies_has_its_lines_off_the_map(client: TestClient) -> None:
    body = client.get("/api/v1/sites/harbour/map", headers=READ).json()
    assert body["plan"] is None and body["lines"] == [] and body["cameras"][0]["view"] == []
    assert body["bounds"] == [0.0, 0.0, 20.0, 10.0]


def test_map_needs_a_key(client: TestClient) -> None:
    assert client.get(MAP).status_code == 401


def test_the_loader_resolves_a_plan_next_to_its_yaml(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    yaml = tmp_path / "site.yaml"
    yaml.write_text(
        "site: {id: s, timezone: UTC}\nfloors: [{id: g, plan_image: plans/g.png}, {id: h, plan_image: /abs/h.png}]\n"
        "cameras: [{id: c, source: /dev/null, floor: g}]\n"
    )
    floors = load_site_config(yaml).floors
    assert [f.plan_image for f in floors] == [str(tmp_path / "plans" / "g.png"), "/abs/h.png"]


def test_the_projected_geometry_is_kept_while_the_config_is_unchanged(tmp_path: Path) -> None:
    from cloud.analytics.site_map import _CACHE
    from cloud.api.sites import SiteCatalog
    from cloud.storage.sites import sync_sites

    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade(url)
    sessions = session_factory(create_db_engine(url))
    site = load_site_config(EXAMPLES / "pets09-split.yaml")
    with sessions.begin() as s:
        sync_sites(s, [site])
    # Re-read on every call, as after every site_cache_s.
    catalog = SiteCatalog(sessions, max_age_s=0)
    first = catalog.get("pets09-split")
    assert first is not None
    geometry = _CACHE.get(first, "ground")
    again = catalog.get("pets09-split")
    assert again is first and _CACHE.get(again, "ground") is geometry
    with sessions.begin() as s:
        sync_sites(s, [site.model_copy(update={"exits": []})])
    changed = catalog.get("pets09-split")
    assert changed is not None and changed is not first
    assert _CACHE.get(changed, "ground").exits == [] and geometry.exits != []


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--config", str(EXAMPLES / "pets09-split.yaml")], 0, "plan_image: plan.png\n    pixels_per_metre: 10\n"),
        (["--config", str(EXAMPLES / "pets09.yaml"), "--floor", "ground"], 0, "origin: [-22, -18]"),
        (["--config", str(EXAMPLES / "pets09.yaml"), "--floor", "roof"], 2, "has no floor 'roof' (floors: ['ground'])"),
        (["--config", "nowhere.yaml"], 2, "nowhere.yaml"),
    ],
)
def test_the_plan_command(
    args: list[str], status: int, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.cli.main import main

    out = tmp_path / "plan.png"
    assert main(["plan", *args, "--out", str(out)]) == status
    printed = capsys.readouterr()
    assert says in printed.out + printed.err
    assert out.is_file() == (status == 0)


def test_the_plan_command_needs_an_extent_and_a_writable_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.cli.main import main

    yaml = tmp_path / "site.yaml"
    yaml.write_text(
        "site: {id: s, timezone: UTC}\nfloors: [{id: g}]\ncameras: [{id: c, source: /dev/null, floor: g}]\n"
    )
    assert main(["plan", "--config", str(yaml), "--out", str(tmp_path / "p.png")]) == 2
    assert "floor 'g' has no extent" in capsys.readouterr().err
    split = str(EXAMPLES / "pets09-split.yaml")
    assert main(["plan", "--config", split, "--out", str(tmp_path / "no" / "p.png")]) == 2
    assert "cannot write" in capsys.readouterr().err
