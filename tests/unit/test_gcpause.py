"""Freezing the start-up heap: what exists is left out of later passes, what is made later is
still collected, cycles included."""

from __future__ import annotations

import gc
import weakref

from stellars_hub.gcpause import freeze_startup_heap


class Node:
    pass


def test_start_up_objects_are_frozen_and_later_cycles_still_collected():
    kept = Node()
    try:
        frozen = freeze_startup_heap()
        assert frozen > 0 and gc.get_freeze_count() == frozen
        assert gc.is_tracked(kept)
        later = Node()
        later.me = later  # a cycle made after the freeze: the collector still sees it
        ref = weakref.ref(later)
        del later
        gc.collect()
        assert ref() is None
    finally:
        gc.unfreeze()
