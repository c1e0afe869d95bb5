"""Group policies: per-group lab resources and privileges, the bounded default every lab gets,
and the user's own environment variables. Public: ``effective_for`` (what a user's next lab gets)."""

from .merge import Effective, effective_for  # noqa: F401
