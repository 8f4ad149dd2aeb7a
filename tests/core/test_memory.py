"""Garbage-collector handling: the pause over bulk work and the freeze after start-up."""

from __future__ import annotations

import gc

from smartnation.core.memory import collector_paused, settle_after_start_up


def test_the_pause_restores_the_collector() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_start_up_objects_are_frozen_and_later_ones_still_collected() -> None:
    try:
        settle_after_start_up()
        assert gc.get_freeze_count() > 0

        class Node:
            partner: object

        made = Node()
        made.partner = made  # a cycle, made after start-up
        alive = len(gc.get_objects())
        del made
        assert gc.collect() >= 1  # the collector still finds new garbage
        assert len(gc.get_objects()) < alive
    finally:
        gc.unfreeze()
