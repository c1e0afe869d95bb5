"""What every feature's handlers share: JSON errors, scopes, per-user locks, rate limits, audit."""
