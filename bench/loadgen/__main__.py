"""`python -m bench.loadgen CONFIG_JSON`: one run; prints `RESULT {json}` or `ERROR text`."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import traceback

from bench.loadgen.run import LoadConfig, run


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    config = LoadConfig(**json.loads(sys.argv[1]))
    try:
        result = asyncio.run(run(config))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        traceback.print_exc()
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        return 1
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
