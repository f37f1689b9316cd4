"""A fake OpenAI-compatible language model in a process of its own, answering after a delay.

    python -m bench.ack.fake_model --port PORT --delay SECONDS

`python -m bench.ack --llm SECONDS` points `intake serve` at it, to show that asking a model after each
request leaves the acknowledgement as it was.
"""

from __future__ import annotations

import argparse
import asyncio

from tests.support.fake_llm import FakeModel


async def run(port: int, delay: float) -> None:
    fake = FakeModel(mode="slow", slow_seconds=delay)
    await fake.start(port)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds each answer takes")
    args = parser.parse_args()
    asyncio.run(run(args.port, args.delay))


if __name__ == "__main__":
    main()
