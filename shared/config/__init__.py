"""Site configuration: pydantic models and the YAML loader."""

from shared.config.loader import ConfigError, load_site_config, parse_site_config
from shared.config.site import Camera, Floor, Homography, Line, Link, SiteConfig, Space, Zone

__all__ = [
    "Camera",
    "ConfigError",
    "Floor",
    "Homography",
    "Line",
    "Link",
    "SiteConfig",
    "Space",
    "Zone",
    "load_site_config",
    "parse_site_config",
]
