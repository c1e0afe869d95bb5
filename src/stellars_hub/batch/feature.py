"""What batch actions add to the hub: API, page and nav entry (JupyterHub's own ``servers``
scope governs them: no custom scope)."""

from __future__ import annotations

from ..feature import Feature
from .config import Batch
from .handlers import BatchAPIHandler, BatchCancelAPIHandler, BatchPage, BatchPreviewAPIHandler, BatchStatusAPIHandler

FEATURE = Feature(
    name="batch",
    config_classes=(Batch,),
    nav=({"id": "batch", "label": "Batch", "path": "batch", "admin": True, "order": 27},),
    handlers=(
        (r"/api/batch", BatchAPIHandler),
        (r"/api/batch/preview", BatchPreviewAPIHandler),
        (r"/api/batch/([0-9a-f]+)", BatchStatusAPIHandler),
        (r"/api/batch/([0-9a-f]+)/cancel", BatchCancelAPIHandler),
        (r"/batch", BatchPage),
    ),
)
