"""Self-service: restart my lab in place, reset my volumes (also by admins for anyone)."""

# what other features may use: every path that restarts a lab calls restart_server
from .restart import restart_server  # noqa: E402,F401
from .state import require_running, require_stopped  # noqa: E402,F401
