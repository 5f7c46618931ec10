"""Name check: one name with the explanation of each candidate, and a CSV of names screened in the background.

The upload is read here, bounded (`jobs.MAX_BYTES`, `jobs.MAX_ROWS`), and
handed to `jobs.BatchJobs`, which screens it under the uploader's policy;
its page polls a JSON route of the uploader's own for progress, and its
result is a CSV to download. Bad rows are reported one line each, naming
the row, and the rest of the batch goes on.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from kartoteka.errors import E, InvalidInput, KartotekaError
from kartoteka.names.compare import LIKELY
from kartoteka.service.web import jobs
from kartoteka.service.web.render import HEADERS, page
from kartoteka.service.web.session import Viewer, check_form

router = APIRouter(include_in_schema=False)

MAX_NAME = 500  # characters of one name, in the form and in a CSV row
MAX_LIMIT = 50
# Room for the multipart envelope around the file, the CSRF token and the limit.
ENVELOPE = 16_384
COLUMNS = ("id", "name")
RESULT_COLUMNS = ["id", "query", "rank", "entity_id", "name", "score", "explanation", "error"]


def limits() -> dict[str, int]:
    return {"max_bytes": jobs.MAX_BYTES, "max_rows": jobs.MAX_ROWS, "max_jobs": jobs.MAX_JOBS}


@router.get("/check")
def check(
    request: Request,
    viewer: Viewer,
    name: Annotated[str, Query(max_length=MAX_NAME)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> Response:
    result: dict[str, Any] | None = None
    if name.strip():
        with viewer.archive() as a:
            result = a.check(name, limit)
    matches = result["matches"] if result else []
    return page(
        request,
        "check.html",
        viewer,
        # What the page shows of each candidate is known from the passages
        # that name them: the banner is rolled up from their labels.
        [label for m in matches for label in m.get("labels", [])],
        title=f"Name check: {name}" if name.strip() else "Name check",
        name=name,
        limit=limit,
        result=result,
        likely=LIKELY,
        jobs=jobs.batch_jobs(request.app.state).jobs(viewer.principal.user),
        **limits(),
    )


def read_upload(file: str, data: bytes) -> tuple[list[tuple[int, str, str]], list[str]]:
    """(line, id, name) rows of an uploaded CSV, and one error line per bad row (which is left out).

    The whole upload is refused (a numbered error) if it is not UTF-8 CSV
    with the columns id and name, or holds more than `MAX_ROWS` rows.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(E.E001, path=file, reason=f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise InvalidInput(E.E001, path=file, reason=f"not CSV ({exc})") from exc
    if "query_id" in header and "id" not in header:
        header[header.index("query_id")] = "id"  # the CLI's --batch files are welcome too
    if not all(c in header for c in COLUMNS):
        raise InvalidInput(E.E031, path=file, expected="id,name", found=",".join(header) or "(none)")
    at_id, at_name = header.index("id"), header.index("name")
    rows: list[tuple[int, str, str]] = []
    errors: list[str] = []
    seen: set[str] = set()
    while True:
        if len(rows) + len(errors) > jobs.MAX_ROWS:
            raise InvalidInput(E.E127, path=file, reason=f"more than {jobs.MAX_ROWS:,} rows")
        line = reader.line_num + 1  # where the row starts (a quoted cell may span lines)
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            errors.append(KartotekaError(E.E030, path=file, row=line, reason=f"not CSV ({exc})").message)
            continue
        if cells is None:
            break
        if not any(c.strip() for c in cells):
            continue  # a blank line is no row
        reason = None
        if len(cells) != len(header):
            reason = f"{len(cells)} cells, expected {len(header)}"
        else:
            qid, qname = cells[at_id].strip(), cells[at_name].strip()
            if not qid:
                reason = "empty 'id'"
            elif qid in seen:
                reason = f"id {qid!r} repeats an earlier row"
            elif not qname:
                reason = "empty 'name'"
            elif len(qname) > MAX_NAME:
                reason = f"'name' longer than {MAX_NAME} characters"
        if reason is not None:
            errors.append(KartotekaError(E.E030, path=file, row=line, reason=reason).message)
            continue
        seen.add(qid)
        rows.append((line, qid, qname))
    return rows, errors


@router.post("/check/batch")
async def upload(request: Request, viewer: Viewer) -> Response:
    # Refused before the body is read: the form parser would spool any size to disk.
    size = request.headers.get("content-length", "")
    if not size.isdigit() or int(size) > jobs.MAX_BYTES + ENVELOPE:
        raise InvalidInput(E.E127, path="upload", reason=f"at most {jobs.MAX_BYTES:,} bytes")
    await check_form(request)
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    limit_text = form.get("limit")
    limit = int(limit_text) if isinstance(limit_text, str) and limit_text.isdigit() else 5
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(E.E070, field="limit", reason=f"1 to {MAX_LIMIT} candidates per name")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(E.E070, field="file", reason="choose a CSV file to upload")
    file = (upload.filename or "upload.csv").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "upload.csv"
    data = await upload.read(jobs.MAX_BYTES + 1)
    if len(data) > jobs.MAX_BYTES:
        raise InvalidInput(E.E127, path=file, reason=f"at most {jobs.MAX_BYTES:,} bytes")
    rows, errors = read_upload(file, data)
    job = jobs.batch_jobs(request.app.state).submit(viewer.principal, file, rows, errors, limit)
    return RedirectResponse(f"/check/jobs/{job.id}", status_code=303, headers=HEADERS)


@router.get("/check/jobs/{job_id}")
def job_page(request: Request, viewer: Viewer, job_id: str) -> Response:
    job = jobs.batch_jobs(request.app.state).get(viewer.principal.user, job_id)
    status = job.status()
    return page(
        request,
        "check_job.html",
        viewer,
        # Counts and row errors of the user's own upload: no name from the archive is shown.
        (),
        title=f"Batch check: {job.file}",
        job=job,
        progress=status,
    )


@router.get("/check/jobs/{job_id}/status.json")
def job_status(request: Request, viewer: Viewer, job_id: str) -> Response:
    job = jobs.batch_jobs(request.app.state).get(viewer.principal.user, job_id)
    return JSONResponse(job.status(), headers=HEADERS)


@router.get("/check/jobs/{job_id}/result.csv")
def job_result(request: Request, viewer: Viewer, job_id: str) -> Response:
    job = jobs.batch_jobs(request.app.state).get(viewer.principal.user, job_id)
    with job.lock:
        results = list(job.results)
        finished = job.state == "done"
    if not finished:
        raise InvalidInput(E.E070, field="result", reason="the batch check has not finished yet")
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(RESULT_COLUMNS)
    for r in results:
        matches: list[dict[str, Any]] = r["matches"]
        if not matches:
            writer.writerow([r["query_id"], r["query"], "", "", "", "", "", r.get("error", "")])
        for rank, m in enumerate(matches, start=1):
            writer.writerow(
                [r["query_id"], r["query"], rank, m["entity_id"], m["name"], m["score"], m["explanation"], ""]
            )
    stem = job.file.rsplit(".", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80] or "upload"
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="check-{safe}.csv"'}
    return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)
