"""The active-annotation study (paper Fig. 6a) as a script: the same as ``bamboo study al``.

Usage: ``python examples/al_study.py [key=value ...]`` (settings of
:class:`bamboo.training.study.StudyConfig`; defaults finish in well under 30 min on 2 CPU cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bamboo.training.study import config_from, run_study


def main() -> None:
    cfg = config_from(sys.argv[1:])
    started = time.perf_counter()
    body = run_study(
        cfg, progress=lambda m: print(f"[{time.perf_counter() - started:6.0f} s] {m}", flush=True)
    )
    print((Path(cfg.out) / "table.md").read_text())
    print(f"{body['seconds']:.0f} s; results in {cfg.out}")


if __name__ == "__main__":
    main()
