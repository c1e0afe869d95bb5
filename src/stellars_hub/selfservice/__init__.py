"""Self-service: restart my lab in place, reset my volumes (also by admins for anyone)."""
