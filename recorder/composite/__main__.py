"""`python -m recorder.composite RECORDING_DIR OUT.mp4 [...]`: build a composite in this
process and print its CompositeResult as JSON. The recorder worker runs builds this way, as a
child process, so the CPU-heavy work never shares the worker's event loop and a build that
overruns its time can be killed. Exit status 2: the recording cannot be composed (stderr
says why)."""

from __future__ import annotations

import argparse
import json
import sys

from recorder.composite.build import build_composite
from recorder.composite.labels import DEFAULT_FONT
from recorder.composite.manifest import CompositeError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recorder.composite", description=__doc__)
    parser.add_argument("recording_dir")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--font", default=DEFAULT_FONT)
    parser.add_argument("--skip", action="append", default=[],
                        help="a file of the manifest not to use as input (repeatable)")
    args = parser.parse_args(argv)
    try:
        result = build_composite(args.recording_dir, args.out, width=args.width,
                                 height=args.height, fps=args.fps, font_path=args.font,
                                 skip=frozenset(args.skip))
    except CompositeError as exc:
        print(f"composite: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
