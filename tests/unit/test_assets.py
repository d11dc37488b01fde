"""Model and data catalogues: checksums, clear errors for missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.assets.checksum import sha256_of
from shared.assets.datasets import VTEST_SHA256
from shared.assets.models import MODELS, ModelNotFoundError, ModelState, check_model, fetch_model, model_path


@pytest.mark.parametrize("name", sorted(MODELS))
def test_provided_models_match_catalogue(name: str) -> None:
    assert check_model(MODELS[name]) is ModelState.OK
    assert model_path(name).name == MODELS[name].filename


def test_missing_model_error_names_file_and_remedy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLFLOW_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=rf"{tmp_path}/yolox_nano.onnx not found.*MALLFLOW_MODEL_DIR"):
        model_path("yolox_nano")
    assert check_model(MODELS["yolox_nano"]) is ModelState.MISSING


def test_corrupt_model_detected(tmp_path: Path) -> None:
    (tmp_path / "yolox_nano.onnx").write_bytes(b"not a model")
    assert check_model(MODELS["yolox_nano"], tmp_path) is ModelState.CHECKSUM_MISMATCH


def test_model_without_url_explains_how_to_obtain(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="boxmot export"):
        fetch_model(MODELS["osnet_x0_25_msmt17"], tmp_path)


def test_unknown_model() -> None:
    with pytest.raises(KeyError, match="unknown model 'resnet'"):
        model_path("resnet")


def test_vtest_is_the_pets09_video(vtest_video: Path) -> None:
    assert sha256_of(vtest_video) == VTEST_SHA256
