"""Self-service: restart my lab in place, reset my volumes (also by admins for anyone)."""

# what other features may use (batch actions restart labs the same way)
from .restart import restart_for  # noqa: E402,F401
from .state import require_running, require_stopped  # noqa: E402,F401
