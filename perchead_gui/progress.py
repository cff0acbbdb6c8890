"""Progress of long commands (eval, bench, train) on stderr: one bar per stage saying what is being measured, how
far it is and the time left. Shown only where stderr is a terminal and ``--quiet`` is not given, so ``--json`` on
stdout, pipes and logs stay clean."""
from __future__ import annotations

import sys
from typing import Callable

from tqdm import tqdm


def show_progress(quiet: bool = False) -> bool:
    return not quiet and sys.stderr.isatty()


class StageBars:
    """``start(stage, items)`` closes the last stage's bar and opens the next; it returns the callable that counts
    one item done (None when bars are off)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None

    def start(self, stage: str, items: int) -> Callable[[], None] | None:
        self.close()
        if not self.enabled or items <= 0:
            return None
        bar = self.bar = tqdm(total=items, desc=stage, file=sys.stderr, dynamic_ncols=True, leave=False)
        return lambda: bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
