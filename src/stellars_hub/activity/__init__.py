"""Activity monitor: who is working, what their labs use, and engagement over days."""
