"""The DS lab's services (see docker/lab-ds/jupyter_server_config.py)."""
