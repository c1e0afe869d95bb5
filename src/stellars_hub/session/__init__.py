"""Idle culling that users can extend and that warns before it stops a lab."""
