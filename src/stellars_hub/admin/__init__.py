"""Admin platform: settings page, branding (logo, version footer), Docker-privilege groups,
GPU detection and the health endpoint."""
