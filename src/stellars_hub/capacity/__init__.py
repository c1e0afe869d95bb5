"""Capacity: how many labs a host runs at once (admission before every start), and the labs'
own networks checked and tidied at hub start (the engine's part is the backend's: on Docker,
``backends/docker/labnet.py`` gives each lab network a subnet of the platform's pool)."""
