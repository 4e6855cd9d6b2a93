"""Gzipped sizes of the front-end bundles (what a browser downloads with Content-Encoding: gzip).

Sizes are `gzip.compress(data, compresslevel=9, mtime=0)`: deflate level 9 as `gzip -9`, no
file name in the header (as `gzip -9 -n`, and as a server's Content-Encoding: gzip). Deflate
implementations differ slightly at the same level: Python's zlib, GNU gzip and Node's zlib
(the build script's `gzipSync`) were within about 1 % of each other on our bundles, so the
build script's printed sizes can differ from these by a few dozen bytes.
KB here is 1,024 bytes, as in scripts/build_frontend.mjs.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
KB = 1024


@dataclass(frozen=True)
class Bundle:
    """A group of dist files that are downloaded together, with an optional budget."""

    name: str
    files: tuple[str, ...]  # relative to the repo root; the first is required, the rest optional
    budget: int | None  # gzipped bytes, or None for "reported only"


BUNDLES = (
    Bundle("widget loader", ("widget/dist/loader.js",), 3 * KB),
    # The panel's CSS is inlined into chat-ui.js by the build; a separate file counts too.
    Bundle("widget chat UI", ("widget/dist/chat-ui.js", "widget/dist/chat-ui.css"), 15 * KB),
    Bundle("console", ("console/dist/app.js", "console/dist/app.css", "console/dist/index.html"), None),
    # The client dashboard; its budget is the one scripts/build_dashboard.mjs checks.
    Bundle("dashboard", ("dashboard/dist/app.js", "dashboard/dist/app.css", "dashboard/dist/index.html"), 24 * KB),
)


def gzipped_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def run(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Sizes of every bundle; a bundle whose main file is missing is skipped, not an error."""
    bundles: list[dict[str, Any]] = []
    for bundle in BUNDLES:
        main = root / bundle.files[0]
        if not main.is_file():
            bundles.append({"name": bundle.name, "status": "skipped", "budget": bundle.budget,
                            "reason": f"{bundle.files[0]} not found: run `make frontend` first"})
            continue
        files: list[dict[str, Any]] = []
        gzipped = 0
        for relative in bundle.files:
            path = root / relative
            if path.is_file():
                data = path.read_bytes()
                files.append({"file": relative, "bytes": len(data), "gzipped": gzipped_size(data)})
                gzipped += files[-1]["gzipped"]
        within = None if bundle.budget is None else gzipped <= bundle.budget
        bundles.append({"name": bundle.name, "status": "measured", "files": files, "gzipped": gzipped,
                        "budget": bundle.budget, "pass": within})
    judged = [bool(b["pass"]) for b in bundles if b["status"] == "measured" and b["pass"] is not None]
    skipped = [b for b in bundles if b["status"] == "skipped"]
    return {"bundles": bundles, "pass": all(judged) if judged else None,
            "complete": not skipped}
