"""Events: the audit log for admins, as a page (/hub/events) and an API (/hub/api/events)."""
