"""``python -m server.demo``: a typed 3-question interview against a running Viva server.

Uses the sample CV and job description in ``tests/data/`` and prints each question, the
timings, and the validated feedback JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ANSWERS = [
    "At Parcelly I led the move of our order-tracking service from a Django monolith to async "
    "FastAPI services. I designed the PostgreSQL schema and cut p95 latency from 900 to 180 "
    "milliseconds with Redis caching and rewritten queries.",
    "I start with EXPLAIN ANALYZE, look for sequential scans and bad row estimates, then add the "
    "right index or rewrite the query. At PayBright that took the refunds report from forty "
    "seconds to two.",
    "A teammate wanted Kafka and I thought our SQS outbox was enough. I wrote a one-page design "
    "doc, we load-tested both together, and we kept SQS because it met the target at a third "
    "of the cost.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)

    with httpx.Client(base_url=args.base_url, timeout=600) as client:
        started = time.perf_counter()
        client.get("/api/sessions").raise_for_status()  # the visitor identity (a cookie)
        response = client.post(
            "/api/sessions",
            data={
                "job_title": "Senior Python Backend Engineer",
                "company_name": "Fernway Health",
                "job_description": (DATA / "sample_job_description.txt").read_text(),
                "question_count": "3",
            },
            files={
                "cv_file": ("sample_cv.txt", (DATA / "sample_cv.txt").read_bytes(), "text/plain")
            },
        )
        if response.status_code != 201:
            sys.stderr.write(f"Could not create the session: {response.text}\n")
            return 1
        sid = response.json()["id"]
        print(f"Session {sid}")

        t = time.perf_counter()
        turn = client.post(f"/api/sessions/{sid}/next").json()
        print(f"\n[{turn['progress']['label']}, {time.perf_counter() - t:.1f} s]")
        print(f"Interviewer: {turn['reply']['content']}")
        for answer in ANSWERS:
            print(f"\nCandidate: {answer}")
            t = time.perf_counter()
            response = client.post(f"/api/sessions/{sid}/answers", json={"text": answer})
            response.raise_for_status()
            turn = response.json()
            print(f"\n[{turn['progress']['label']}, {time.perf_counter() - t:.1f} s]")
            print(f"Interviewer: {turn['reply']['content']}")

        t = time.perf_counter()
        response = client.post(f"/api/sessions/{sid}/feedback")
        if response.status_code != 200:
            sys.stderr.write(f"Feedback failed: {response.text}\n")
            return 1
        print(f"\nFeedback ({time.perf_counter() - t:.1f} s):")
        print(json.dumps(response.json(), indent=2))
        print(f"\nWhole interview: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
