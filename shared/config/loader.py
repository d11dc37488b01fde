"""Read a site YAML file into a validated :class:`SiteConfig`.

Every failure becomes one :class:`ConfigError` whose message names the file, the
path of the offending field and what is wrong, so the CLI never shows a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shared.assets.models import MODELS
from shared.config.site import SiteConfig
from shared.config.stream import redact_uri
from shared.paths import data_dir

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A site file that cannot be used; str() is the message to show a person."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid site config {self.path}:\n{lines}")


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _expand(value: str, path: Path) -> str:
    env = {"MALLFLOW_DATA_DIR": str(data_dir()), **os.environ}

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(path, [f"environment variable {name} is not set (used in {redact_uri(value)!r})"])

    return _VAR.sub(sub, value)


def _resolve_sources(raw: dict[str, Any], path: Path) -> None:
    cameras = raw.get("cameras")
    if not isinstance(cameras, list):
        return
    _resolve_model(raw, path)
    for cam in cameras:
        if not isinstance(cam, dict):
            continue
        _resolve_model(cam, path)
        _resolve_credentials(cam, path)
        if not isinstance(cam.get("source"), str):
            continue
        src = _expand(cam["source"], path)
        if "://" not in src and not src.isdigit() and not os.path.isabs(src):
            src = str((path.parent / src).resolve())
        cam["source"] = src


def _resolve_plans(raw: dict[str, Any], path: Path) -> None:
    """A floor's plan_image: ${VARS} expanded, relative to the YAML file like camera sources."""
    floors = raw.get("floors")
    if not isinstance(floors, list):
        return
    for floor in floors:
        if isinstance(floor, dict) and isinstance(floor.get("plan_image"), str) and floor["plan_image"]:
            plan = os.path.expanduser(_expand(floor["plan_image"], path))
            floor["plan_image"] = plan if os.path.isabs(plan) else str((path.parent / plan).resolve())


def _resolve_credentials(cam: dict[str, Any], path: Path) -> None:
    """A camera's stream username/password: ${VARS} expanded, so the secret stays in the environment."""
    stream = cam.get("stream")
    if not isinstance(stream, dict):
        return
    expanded = {key: _expand(stream[key], path) for key in ("username", "password") if isinstance(stream.get(key), str)}
    cam["stream"] = {**stream, **expanded}


def _resolve_model(holder: dict[str, Any], path: Path) -> None:
    """A detector model given as a file path: ${VARS} expanded, relative to the YAML file.

    Catalogue names (`mallflow models list`) stay names.
    """
    detector = holder.get("detector")
    if not isinstance(detector, dict) or not isinstance(detector.get("model"), str) or not detector["model"]:
        return
    model = _expand(detector["model"], path)
    if model not in MODELS and not os.path.isabs(model):
        model = str((path.parent / model).resolve())
    holder["detector"] = {**detector, "model": model}


def parse_site_config(raw: Any, path: Path | str = "<memory>") -> SiteConfig:
    """Validate an already-parsed mapping (tests and the API use this)."""
    path = Path(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, [f"the top level must be a mapping, got {type(raw).__name__}"])
    _resolve_sources(raw, path)
    _resolve_plans(raw, path)
    try:
        return SiteConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{_field_path(tuple(err['loc']))}: {msg}")
        raise ConfigError(path, problems) from None


def load_site_config(path: Path | str) -> SiteConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read file: {exc}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [f"{where}YAML syntax error: {problem}"]) from None
    return parse_site_config(raw, path)
