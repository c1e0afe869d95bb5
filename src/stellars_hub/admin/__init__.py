"""Admin platform: settings page, branding (logo, version footer), Docker-privilege groups,
GPU detection and the health endpoint."""

# public to other features: the built-in groups whose policy is their name (the policies feature)
from .groups import DESCRIPTIONS, DOCKER_PRIVILEGED, DOCKER_SOCK

__all__ = ["DESCRIPTIONS", "DOCKER_PRIVILEGED", "DOCKER_SOCK"]
