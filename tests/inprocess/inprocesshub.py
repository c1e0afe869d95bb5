"""A real JupyterHub with the platform's own configuration, running in the pytest process (on a
thread with its own event loop) with the engine replaced by ``fakeruntime``.

It is started the way ``stellars-hub run`` starts a hub: JupyterHub loads the package's
``jupyterhub_config.py`` (``hubconfig.apply``) after a site file, here one that names the fake
runtime and spawner (plus a test's own lines). The proxy is the real configurable-http-proxy,
so clients use the same URLs as with ``harness.Hub``, whose client helpers (signup, login,
tokens, API calls) this class keeps. What differs: no process to start, no lab image, no engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness import Hub
from jupyterhub.app import JupyterHub
from nativeauthenticator.handlers import LocalBase

from stellars_hub.cli import PACKAGE_CONFIG
from stellars_hub.platform import Platform

HERE = Path(__file__).resolve().parent
FAKE_CONFIG = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
c.JupyterHub.spawner_class = "fakeruntime.FakeLabSpawner"
c.Platform.runtime_class = "fakeruntime.FakeRuntime"
"""


class InProcessJupyterHub(JupyterHub):
    """JupyterHub as a library: no signal handlers (not the main thread), the log to a file."""

    log_file = None

    def init_signal(self):
        pass

    def init_logging(self):
        super().init_logging()
        if self.log_file:
            handler = logging.FileHandler(self.log_file)
            handler.setFormatter(logging.Formatter("[%(levelname)1.1s %(asctime)s %(name)s] %(message)s"))
            for name in (self.log.name, "tornado", "JupyterHub.stellars"):
                logger = logging.getLogger(name)
                logger.handlers = [handler]
                logger.propagate = False

    def _stop_event_loop(self):
        pass  # the thread that runs the loop stops it


@dataclass
class InProcessHub(Hub):
    """``harness.Hub``'s interface for a hub in this process."""

    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _app: InProcessJupyterHub | None = None
    _saved_env: dict = field(default_factory=dict)

    def start(self, timeout: float = 60) -> InProcessHub:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.site_config_path.write_text(FAKE_CONFIG + "\n" + self.extra_config)
        env = {
            **self.env,
            "JUPYTERHUB_DATA_DIR": str(self.data_dir),
            "JUPYTERHUB_HUB_PORT": str(self.hub_port),
            "STELLARS_HUB_CONFIG": str(self.site_config_path),
        }
        self._saved_env = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # the platform reads its settings from the environment, as in a real hub
        ready = threading.Event()
        failure: list[BaseException] = []

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._launch())
            except BaseException as exc:  # reported to the starting test
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"inprocess-hub-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            self.stop()
            raise RuntimeError(
                f"the in-process hub did not start: {failure[0] if failure else 'timeout'}\n" + self.log_text()[-3000:]
            )
        return self

    async def _launch(self) -> None:
        # NativeAuthenticator adds its templates to the first hub's template loader only (a
        # process-wide flag): each hub of this process needs them in its own
        LocalBase._template_dir_registered = False
        JupyterHub.clear_instance()  # a JupyterHub left by an earlier test (its singleton is process-wide)
        Platform.clear_instance()
        app = InProcessJupyterHub.instance()
        app.log_file = str(self.log_path)
        self._app = app
        await app.initialize(
            [
                f"--config={PACKAGE_CONFIG}",
                f"--port={self.port}",
                f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.api_port}",
                *self.extra_args,
            ]
        )
        await app.start()

    async def _shutdown(self) -> None:
        if self._app is not None:
            await self._app.cleanup()
            if self._app.http_server:
                self._app.http_server.stop()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        InProcessJupyterHub.clear_instance()
        Platform.clear_instance()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    # -- the hub's side, for tests -----------------------------------------------------------
    @property
    def app(self) -> InProcessJupyterHub:
        assert self._app is not None
        return self._app

    @property
    def runtime(self):
        """The hub's fake engine (its state is plain data: read it, or change it between calls)."""
        return Platform.current().runtime

    def call(self, coro_fn, *args, timeout: float = 60):
        """Run ``coro_fn(*args)`` on the hub's event loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self._loop).result(timeout)
