"""A property-based run over the app's OpenAPI schema (schemathesis on Hypothesis): every
operation the schema names, sent schema-valid and schema-invalid requests, against the real
server. Targets: no crash (every request answered), no 5xx, and every error the server answers
with a 5xx written to its log.

Two phases per operation, both deterministic for a seed:

- **coverage**: schemathesis's boundary cases (each parameter and body property at its edges,
  missing, of the wrong type; methods the path does not allow);
- **fuzzing**: ``max_examples`` Hypothesis cases that fit the schema, and as many that break it
  (where the schema leaves something to break: a path of free strings leaves nothing).

Requests are sent as Viva's own page sends them: with a visitor cookie (from a same-origin
``GET``) and ``Origin`` set to the server, so that they reach the handlers instead of being
refused as cross-site. Each operation has a visitor of its own, with real interviews: one just
created (nothing asked), one with a question asked and answered (so it has messages to name), and
another visitor's (which must read as missing). Part of the cases name one of them in the path
instead of a generated id, so that handlers run on real records, not only on 404s; an interview
a case deleted or finished is made again before the next case that names one.

Every response is also checked against the schema (status code documented, content type, body);
what those checks find is listed as findings: gaps in the documentation, not failures.

Not in the schema, so not in this run: the pages (``include_in_schema=False``), the static files
and the voice WebSocket (``/ws/sessions/{id}``; ``make resilience`` fuzzes its frames).

``python -m bench.resilience.schema --examples N`` starts its own server (its model
``bench.stub_llm``), prints the figures, writes ``var/resilience/schema.json`` and exits 1 on
any 5xx, crash or unlogged error. CI runs a slice: ``tests/integration/test_schema_run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, Response
from schemathesis.checks import CheckFunction, load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi import checks as openapi_checks

from bench.resilience.harness import Run
from bench.server_proc import ROOT
from bench.stub_llm import StubModel
from server.services.plans import DIFFICULTY_LABELS, MODE_LABELS
from server.voice_client import DATA

SCHEMA_PATH = "/api/schema/openapi.json"
NEW_INTERVIEW = ("POST", "/api/sessions")
REQUEST_TIMEOUT_S = 30.0
LOG_WAIT_S = 2.0  # how long a 5xx's log record may lag its response
BODY_CHARS = 200

Operation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]

# What the server's log holds for an error it answered with a 5xx: an ERROR record (an
# unhandled exception: ``server.app``'s handler, or uvicorn's "Exception in ASGI application"),
# a WARNING from the app's own loggers (``server.app`` logs a 5xx ``AppError`` so), or a
# traceback. Third-party warnings (WeasyPrint's CSS notes) do not count.
LOGGED_ERROR = re.compile(
    r"^\S+ \S+ (?:ERROR|CRITICAL) |^\S+ \S+ WARNING server\.|^(?:ERROR|CRITICAL):"
    r"|^Traceback \(most recent call last\)",
    re.MULTILINE,
)
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*)$", re.M)

# Where a case names an interview, what it names: the generated value, this visitor's fresh
# interview, its answered one, or another visitor's.
TARGETS = ("generated", "generated", "fresh", "answered", "answered", "foreign")

# Schema checks whose findings are listed (``not_a_server_error`` is this module's own count).
SCHEMA_CHECKS: list[CheckFunction] = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.positive_data_acceptance,
    openapi_checks.unsupported_method,
]


@dataclass
class ServerFailure:
    """A 5xx, or a request the server never answered (``status`` 0)."""

    operation: str  # the schema's "METHOD /path/{template}"
    method: str  # as sent (the coverage phase also sends methods a path does not allow)
    path: str  # as sent
    status: int
    body: str  # its first characters, or the transport error
    logged: bool
    error: str = ""  # the exception the log names for it, where it names one
    curl: str = ""  # the request, to reproduce it (the visitor's cookie left out)


@dataclass
class SchemaFigures:
    operations: int = 0  # in the schema
    operations_covered: int = 0  # sent at least one case with their own method, answered
    uncovered: list[str] = field(default_factory=list)
    cases_sent: int = 0
    cases_real_ids: int = 0  # naming an interview (or message) that exists
    responses: dict[str, int] = field(
        default_factory=lambda: {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
    )
    by_operation: dict[str, dict[str, int]] = field(default_factory=dict)  # status → count
    crashes: int = 0  # no answer: connection refused or reset, timeout
    failures: list[ServerFailure] = field(default_factory=list)  # every 5xx and crash
    errors_not_logged: int = 0
    findings: dict[str, int] = field(default_factory=dict)  # schema-check failures, by kind
    finding_examples: dict[str, str] = field(default_factory=dict)
    not_generated: list[str] = field(default_factory=list)  # (operation, mode): why none
    not_sendable: int = 0  # cases the client could not serialize (never sent)
    interviews_made: int = 0  # real interviews set up (again, after a case used one up)
    seconds: float = 0.0

    def problems(self) -> list[str]:
        checks = {
            "5xx responses": self.responses["5xx"],
            "crashes (no response)": self.crashes,
            "errors not logged": self.errors_not_logged,
            "operations not exercised": self.operations - self.operations_covered,
        }
        return [f"{name}: {n}" for name, n in checks.items() if n]

    def failure_kinds(self, curl_chars: int = 600) -> list[str]:
        """The 5xx and crashes, one line per kind (operation, status, exception type, logged
        or not) with its count and the first one's request, to reproduce it."""
        kinds: dict[tuple[str, int, str, bool], list[ServerFailure]] = {}
        for x in self.failures:
            what = (x.error or x.body).split(":", 1)[0]  # the exception's type, where logged
            kinds.setdefault((x.operation, x.status, what, x.logged), []).append(x)
        lines = []
        for (label, status, _, logged), same in kinds.items():
            first = same[0]
            where = "logged" if logged else "NOT LOGGED"
            lines.append(
                f"{len(same)} x {label} → {status} ({where}): {first.error or first.body}\n"
                f"    {first.curl[:curl_chars]}"
            )
        return lines


async def schema_run(
    base_url: str, *, max_examples: int, seed: int, log_path: Path | None = None
) -> SchemaFigures:
    """The run against the server at ``base_url``; ``log_path``: the server's log, where each
    5xx must have left an error (without it, every 5xx counts as not logged). Blocking work
    runs in a thread: the loop stays free (the stub model answers on it)."""
    runner = _Runner(base_url, max_examples=max_examples, seed=seed, log_path=log_path)
    return await asyncio.to_thread(runner.run)


@dataclass
class _Interview:
    session_id: str
    message_ids: list[int] = field(default_factory=list)
    answer_ids: list[int] = field(default_factory=list)


class _Visitor:
    """One visitor's identity and interviews: a fresh one and an answered one."""

    def __init__(self, runner: _Runner) -> None:
        self.runner = runner
        self.http = runner.new_session()
        # As a browser gets it: a same-origin page load without a cookie.
        response = self.http.get(f"{runner.base_url}/api/sessions", headers=runner.origin)
        response.raise_for_status()
        self.cookie = response.cookies["viva_owner"]
        self.headers = {**runner.origin, "Cookie": f"viva_owner={self.cookie}"}
        self.interviews: dict[str, _Interview] = {}

    def interview(self, kind: str) -> _Interview:
        if kind not in self.interviews:
            self.interviews[kind] = self._make(answered=kind == "answered")
        return self.interviews[kind]

    def forget(self, kind: str | None = None) -> None:
        """An interview (``kind``; None: all) was deleted, finished, or moved on: make it
        again when a case names it."""
        if kind is None:
            self.interviews.clear()
        else:
            self.interviews.pop(kind, None)

    def _make(self, *, answered: bool) -> _Interview:
        url = f"{self.runner.base_url}/api/sessions"
        response = self.http.post(
            url,
            headers=self.headers,
            data={
                "job_title": "Senior Python Backend Engineer",
                "company_name": "Fernway Health",
                "job_description": (DATA / "sample_job_description.txt").read_text(),
                "question_count": "15",
            },
            files={
                "cv_file": ("sample_cv.txt", (DATA / "sample_cv.txt").read_bytes(), "text/plain")
            },
            timeout=REQUEST_TIMEOUT_S,
        )
        response.raise_for_status()
        self.runner.figures.interviews_made += 1
        interview = _Interview(str(response.json()["id"]))
        if answered:
            sid = interview.session_id
            answer_text = {"text": "I moved billing to a queue."}
            for step, body in (("next", None), ("answers", answer_text)):
                answer = self.http.post(
                    f"{url}/{sid}/{step}", headers=self.headers, json=body, timeout=60
                )
                answer.raise_for_status()
            messages = self.http.get(f"{url}/{sid}", headers=self.headers, timeout=60)
            messages.raise_for_status()
            for message in messages.json()["messages"]:
                interview.message_ids.append(int(message["id"]))
                if message["role"] == "user":
                    interview.answer_ids.append(int(message["id"]))
        return interview


class _Runner:
    def __init__(
        self, base_url: str, *, max_examples: int, seed: int, log_path: Path | None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_examples = max_examples
        self.seed = seed
        self.log_path = log_path
        self.origin = {"Origin": self.base_url}
        self.figures = SchemaFigures()
        self.covered: set[str] = set()
        self.declared: dict[tuple[str, str], frozenset[str] | None] = {}

    def new_session(self) -> requests.Session:
        http = requests.Session()
        # Cookies travel only as each request names them (DELETE /api/me clears its own).
        http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        return http

    def run(self) -> SchemaFigures:
        started = time.perf_counter()
        load_all_checks()
        schema = schemathesis.openapi.from_url(
            self.base_url + SCHEMA_PATH,
            config=schemathesis.Config(seed=self.seed),
            timeout=REQUEST_TIMEOUT_S,
        )
        operations: list[Operation] = []
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                raise RuntimeError(f"the schema does not load: {result.err()}")
            operations.append(result.ok())
        self.figures.operations = len(operations)
        self.declared = {
            (o.method.upper(), o.path): _declared_properties(schema.raw_schema, o)
            for o in operations
        }
        foreign = _Visitor(self).interview("answered")
        for number, operation in enumerate(operations):
            visitor = _Visitor(self)
            rng = random.Random(f"{self.seed}:{operation.label}")
            for case in self._coverage_cases(schema, operation):
                self._send(operation, case, visitor, foreign, rng.choice(TARGETS))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self._fuzz(operation, mode, visitor, foreign, self.seed + number)
        self.figures.operations_covered = len(self.covered)
        self.figures.uncovered = sorted({o.label for o in operations} - self.covered)
        self.figures.seconds = round(time.perf_counter() - started, 1)
        return self.figures

    def _coverage_cases(self, schema: BaseSchema, operation: Operation) -> list[AnyCase]:
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        return list(
            schema.iter_coverage_cases(
                operation, generation_modes=modes, generation_config=schema.config.generation
            )
        )

    def _fuzz(
        self,
        operation: Operation,
        mode: GenerationMode,
        visitor: _Visitor,
        foreign: _Interview,
        seed: int,
    ) -> None:
        @hypothesis_seed(seed)
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @given(case=operation.as_strategy(mode), target=st.sampled_from(TARGETS))
        def fuzz(case: AnyCase, target: str) -> None:
            self._send(operation, case, visitor, foreign, target)

        try:
            fuzz()
        except Unsatisfiable:
            self.figures.not_generated.append(
                f"{operation.label} ({mode.value}): nothing in its schema to break"
            )

    def _send(
        self,
        operation: Operation,
        case: AnyCase,
        visitor: _Visitor,
        foreign: _Interview,
        target: str,
    ) -> None:
        figures = self.figures
        used = self._aim(case, visitor, foreign, target)
        headers = visitor.headers
        offset = self._log_size()
        try:
            response = case.call(
                base_url=self.base_url,
                session=visitor.http,
                headers=headers,
                timeout=REQUEST_TIMEOUT_S,
            )
        except requests.RequestException as err:
            figures.cases_sent += 1
            figures.crashes += 1
            self._failure(operation, case, 0, f"{type(err).__name__}: {err}", offset)
            return
        except Exception as err:  # what the client cannot serialize is never sent
            figures.not_sendable += 1
            figures.finding_examples.setdefault("not sendable", f"{case.method}: {err}"[:300])
            return
        figures.cases_sent += 1
        figures.cases_real_ids += used is not None
        status = response.status_code
        status_class = f"{min(max(status // 100, 2), 5)}xx"  # 1xx never ends a response
        figures.responses[status_class] = figures.responses.get(status_class, 0) + 1
        counts = figures.by_operation.setdefault(operation.label, {})
        own_method = case.method.upper() == operation.method.upper()
        key = str(status) if own_method else f"{case.method.upper()} {status}"
        counts[key] = counts.get(key, 0) + 1
        if own_method:
            self.covered.add(operation.label)
        if status >= 500:
            self._failure(operation, case, status, response.text_lossy()[:BODY_CHARS], offset)
        self._check(case, response, headers)
        self._after(operation, case, status, visitor, used)

    def _aim(
        self, case: AnyCase, visitor: _Visitor, foreign: _Interview, target: str
    ) -> str | None:
        """Point a case at real records, as ``target`` says (unless "generated"): a real
        interview (and, in it, a real message) in the path; a schema-valid body cut to the
        properties the schema names (the server refuses others: a finding of its own, which
        the other cases keep showing); a new interview's form filled in with the sample job
        description and CV. Returns which interview the path names now, or None."""
        if target == "generated":
            return None
        positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
        declared = self.declared.get((case.operation.method.upper(), case.operation.path))
        if positive and isinstance(case.body, dict) and declared is not None:
            body: Any = {k: v for k, v in case.body.items() if k in declared and v is not None}
            if (case.operation.method.upper(), case.operation.path) == NEW_INTERVIEW:
                body = _sample_form(body)
            case.body = body
        params = case.path_parameters
        if not params or "session_id" not in params:
            return None
        interview = foreign if target == "foreign" else visitor.interview(target)
        params["session_id"] = interview.session_id
        message_id = params.get("message_id")
        if "message_id" in params and interview.message_ids and isinstance(message_id, int):
            # An answer (what corrections and recordings are about) or any message of it.
            choices = interview.answer_ids + interview.message_ids
            params["message_id"] = choices[abs(message_id) % len(choices)]
        return target

    def _after(
        self, operation: Operation, case: AnyCase, status: int, visitor: _Visitor, used: str | None
    ) -> None:
        """Make the visitor's interviews again once a case used one up: deleted (it, or all
        the visitor's data), or finished or moved on where the next case needs it otherwise
        (a 409 says so: answering a finished interview, asking twice)."""
        deleted = 200 <= status < 300 and case.method.upper() == "DELETE"
        if operation.path == "/api/me" and deleted:
            visitor.forget()
        elif used in ("fresh", "answered") and (status == 409 or deleted):
            visitor.forget(used)

    def _check(self, case: AnyCase, response: Response, headers: dict[str, str]) -> None:
        try:
            case.validate_response(response, checks=SCHEMA_CHECKS, headers=headers)
        except FailureGroup as group:
            failures = list(group.exceptions)
        except Exception as err:  # a check that cannot judge this response
            kind = "checks that could not run"
            self.figures.findings[kind] = self.figures.findings.get(kind, 0) + 1
            self.figures.finding_examples.setdefault(kind, f"{type(err).__name__}: {err}"[:400])
            return
        else:
            return
        for failure in failures:
            kind = f"{failure.code} {failure.title}"
            self.figures.findings[kind] = self.figures.findings.get(kind, 0) + 1
            body = "" if not isinstance(case.body, (dict, list, str, int, float)) else case.body
            self.figures.finding_examples.setdefault(
                kind,
                f"{case.method} {case.formatted_path} {str(body)[:100]!r} → "
                f"{response.status_code}: {failure.message}"[:400],
            )

    def _failure(
        self, operation: Operation, case: AnyCase, status: int, body: str, offset: int
    ) -> None:
        logged, error = self._logged_since(offset)
        if not logged:
            self.figures.errors_not_logged += 1
        try:
            curl = case.as_curl_command(headers=dict(self.origin))
        except Exception:
            curl = ""
        self.figures.failures.append(
            ServerFailure(
                operation=operation.label,
                method=case.method.upper(),
                path=case.formatted_path,
                status=status,
                body=body,
                logged=logged,
                error=error,
                curl=curl[:2000],
            )
        )

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size if self.log_path else 0
        except OSError:
            return 0

    def _logged_since(self, offset: int) -> tuple[bool, str]:
        """Whether the log gained an error record after ``offset`` (requests go one at a time,
        so what it gained is this request's), and the exception it names."""
        if self.log_path is None:
            return False, ""
        deadline = time.monotonic() + LOG_WAIT_S
        while True:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode(errors="replace")
            if LOGGED_ERROR.search(text):
                exceptions = EXCEPTION_LINE.findall(text)
                return True, exceptions[-1][:BODY_CHARS] if exceptions else ""
            if time.monotonic() > deadline:
                return False, ""
            time.sleep(0.05)


def _declared_properties(raw: dict[str, Any], operation: Operation) -> frozenset[str] | None:
    """The properties the request body's schema names (its first media type), or None."""
    spec = raw.get("paths", {}).get(operation.path, {}).get(operation.method.lower(), {})
    for media in spec.get("requestBody", {}).get("content", {}).values():
        body = media.get("schema", {})
        ref = body.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            body = raw.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
        properties = body.get("properties")
        return frozenset(properties) if isinstance(properties, dict) else None
    return None


def _sample_form(form: dict[str, Any]) -> dict[str, Any]:
    """A new interview's form as Viva's page sends it: the generated title and company, the
    sample job description and CV (as text), and the generated options where they are ones
    the form offers."""
    form = {k: v for k, v in form.items() if k != "cv_file"}
    form["job_description"] = (DATA / "sample_job_description.txt").read_text()
    form["cv_text"] = (DATA / "sample_cv.txt").read_text()
    count = form.get("question_count")
    if not (isinstance(count, int) and 3 <= count <= 15):
        form.pop("question_count", None)
    if form.get("interview_mode") not in MODE_LABELS:
        form.pop("interview_mode", None)
    if form.get("difficulty") not in DIFFICULTY_LABELS:
        form.pop("difficulty", None)
    return form


def table(f: SchemaFigures) -> str:
    rows = [
        ("operations in the schema", f.operations),
        ("operations exercised", f.operations_covered),
        ("cases sent", f.cases_sent),
        ("cases naming a real interview or message", f.cases_real_ids),
        ("2xx", f.responses["2xx"]),
        ("3xx", f.responses["3xx"]),
        ("4xx", f.responses["4xx"]),
        ("5xx", f.responses["5xx"]),
        ("crashes (no response)", f.crashes),
        ("errors not logged (5xx or crash without an error in the log)", f.errors_not_logged),
        ("cases the client could not send", f.not_sendable),
        ("interviews set up", f.interviews_made),
    ]
    lines = ["| figure | n |", "|---|---:|", *(f"| {name} | {n} |" for name, n in rows)]
    lines.append(f"\nseconds: {f.seconds}")
    lines.append("\nresponses by operation (status: count):")
    for label, counts in f.by_operation.items():
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()))
        lines.append(f"  {label}: {statuses}")
    if f.uncovered:
        lines.append(f"\nnot exercised: {f.uncovered}")
    if f.not_generated:
        lines.append("\nno cases generated for: " + "; ".join(f.not_generated))
    if f.findings:
        lines.append("\nschema findings (documentation gaps, not failures):")
        for kind, n in sorted(f.findings.items()):
            lines.append(f"  {kind}: {n}, e.g. {f.finding_examples.get(kind, '')!r}")
    if f.failures:
        lines.append("\n5xx and crashes, by kind (the first of each, to reproduce):")
        lines += [f"  {kind}" for kind in f.failure_kinds()]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> SchemaFigures:
    out = ROOT / "var" / "resilience"
    with tempfile.TemporaryDirectory(prefix="viva-schema-") as tmp:
        async with StubModel() as stub:
            run = Run(stub, Path(tmp) / "data", out, name="schema")
            server = await run.start()
            try:
                return await schema_run(
                    server.base_url,
                    max_examples=args.examples,
                    seed=args.seed,
                    log_path=server.log_path,
                )
            finally:
                run.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resilience.schema", description=__doc__)
    parser.add_argument(
        "--examples", type=int, default=200, help="Hypothesis cases per operation and mode"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "resilience" / "schema.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = asyncio.run(main_async(args))
    print(table(figures))
    print(f"\nwall seconds, server start included: {time.perf_counter() - started:.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(asdict(figures), indent=2))
    problems = figures.problems()
    print("\n" + ("FAIL: " + "; ".join(problems) if problems else "PASS"))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
