"""A third party's model, as a separate package would ship it: a subclass of a built-in model,
registered by its distribution's entry point (`labplug-0.1.dist-info/entry_points.txt`), with
no change to the lab."""

from __future__ import annotations

from typing import ClassVar

from lab.models.threads import Threads


class MyThreads(Threads):
    """The threads model under another name: everything else it inherits."""

    name: ClassVar[str] = "mythreads"
    description: ClassVar[str] = "the threads model, registered by a plug-in package"
    colour: ClassVar[str] = "#9467bd"


class NotAModel:
    """What a mistaken entry point names: a class that is not a `Model`."""
