"""The dashboard over plain HTTP: every page and fragment, pagination, bad input, 404s."""

from __future__ import annotations

import re

import pytest

from integration.harness import Stack, free_port, wait_until


@pytest.fixture(scope="module")
def runs(stack: Stack) -> dict[str, str]:
    done = stack.api.trigger_and_wait("core/chain", {"n": 1})
    failed = stack.api.trigger_and_wait("core/exhausted", statuses="Failed")
    return {"done": str(done["run_id"]), "failed": str(failed["run_id"]), "event": done["event_id"]}


def test_home_redirects_to_runs(stack: Stack) -> None:
    answer = stack.api.http.get("/")
    assert answer.status_code == 302 and answer.headers["location"] == "/runs"


def test_every_page_and_fragment_renders(stack: Stack, runs: dict[str, str]) -> None:
    paths = {
        "/runs": "Runs",
        f"/runs/{runs['done']}": "Timeline",
        f"/runs/{runs['failed']}": "doomed step always fails",
        "/events": "Send event",
        f"/events/{runs['event']}": "core/chain",
        "/functions": "core-chain",
        "/functions/core-chain": "Invoke",
        "/apps": "Sync new app",
        "/operations": "Failed runs",
        "/ui/runs/rows": runs["done"],
        f"/ui/runs/{runs['done']}/detail": "three",
        "/ui/events/rows": "core/chain",
        "/ui/operations/panel": runs["failed"],
    }
    for path, text in paths.items():
        answer = stack.api.http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert text in answer.text, path
    assert stack.api.http.get("/static/app.css").status_code == 200
    assert stack.api.http.get("/static/htmx-2.0.11.min.js").status_code == 200


def test_every_form_carries_the_csrf_field(stack: Stack, runs: dict[str, str]) -> None:
    for path in ("/events", "/functions/core-chain", "/apps", "/operations"):
        html = stack.api.http.get(path).text
        forms = re.findall(r"<form[^>]*hx-post", html)
        assert forms, path
        assert html.count('name="csrf_token"') >= len(forms), path
        assert 'hx-headers=\'{"X-CSRF-Token"' in html


def test_no_environment_switcher_when_environments_are_off(stack: Stack) -> None:
    html = stack.api.http.get("/runs").text
    assert 'id="env-switch"' not in html and 'id="env-badge"' not in html
    assert stack.api.http.get("/environment", params={"env": "staging"}).status_code == 404
    # neither the cookie nor the header chooses anything: one environment, as before
    for headers in ({"Cookie": "mainspring_env=staging"}, {"X-Inngest-Env": "staging"}):
        assert stack.api.http.get("/runs", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/runs/nope", "/events/nope", "/functions/nope"])
def test_unknown_things_are_404(stack: Stack, path: str) -> None:
    assert stack.api.http.get(path).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=Done", "status"),
        ("started_after=yesterday", "started_after"),
        ("started_before=2026-13-01", "started_before"),
        ("limit=0", "limit"),
        ("cursor=nope", "cursor"),
        ("query=event.data.%3D%3D", "query"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(stack: Stack, query: str, field: str) -> None:
    for path in ("/runs", "/ui/runs/rows"):
        answer = stack.api.http.get(f"{path}?{query}")
        assert answer.status_code == 400, path
        assert f'data-field="{field}"' in answer.text


def test_cursor_pages_do_not_overlap(stack: Stack, runs: dict[str, str]) -> None:
    for n in range(3):
        stack.api.trigger_and_wait("core/chain", {"n": 10 + n})
    first = stack.api.http.get("/runs?function_id=core-chain&limit=2").text
    ids_first = re.findall(r'data-run-id="(\w+)"', first)
    link = re.search(r'href="/runs\?([^"]+)">Older runs', first)
    assert len(ids_first) == 2 and link is not None
    second = stack.api.http.get("/runs?" + link.group(1).replace("&amp;", "&")).text
    ids_second = re.findall(r'data-run-id="(\w+)"', second)
    assert ids_second and not set(ids_first) & set(ids_second)
    assert max(ids_second) < min(ids_first)  # newest first across pages


def test_send_event_form_validates_and_stores(stack: Stack) -> None:
    http = stack.api.http
    bad_json = http.post("/ui/events/send", data={"payload": "{"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.text
    no_name = http.post("/ui/events/send", data={"payload": '{"data": {}}'})
    assert no_name.status_code == 400 and "field name" in no_name.text
    sent = http.post("/ui/events/send", data={"payload": '[{"name": "dash/x", "data": {"k": 1}}]'})
    assert sent.status_code == 200 and "Sent 1 event" in sent.text
    assert [e["data"] for e in stack.api.list_events("dash/x")] == [{"k": 1}]


def test_invoke_form(stack: Stack) -> None:
    http = stack.api.http
    assert http.post("/ui/functions/nope/invoke", data={"data": "{}"}).status_code == 404
    assert http.post("/ui/functions/core-chain/invoke", data={"data": "[1]"}).status_code == 400
    assert http.post("/ui/functions/core-chain/invoke", data={"data": "{"}).status_code == 400
    answer = http.post("/ui/functions/core-chain/invoke", data={"data": '{"n": 2}'})
    assert answer.status_code == 200
    event_id = re.search(r"/events/(\w+)", answer.text)
    assert event_id is not None
    run = stack.api.run_for_event(event_id.group(1))
    assert stack.api.wait_for_run_status(str(run["run_id"]), "Completed")["function_id"] == (
        "core-chain"
    )


def test_cancel_and_sync_forms_refuse_bad_input(stack: Stack) -> None:
    http = stack.api.http
    assert http.post("/ui/runs/nope/cancel").status_code == 404
    assert http.post("/ui/apps/sync", data={"url": ""}).status_code == 400
    # The form shares `POST /v1/admin/apps`' URL check (schemathesis found it missing there).
    bad = http.post("/ui/apps/sync", data={"url": "http://\u00a2\u009eF"})
    assert bad.status_code == 400 and "not a valid URL" in bad.text
    assert "\u00a2" not in http.get("/apps").text  # not kept for re-syncing
    url = f"http://127.0.0.1:{free_port()}/api/inngest"
    dead = http.post("/ui/apps/sync", data={"url": url})
    assert dead.status_code == 502 and "failed" in dead.text
    row = re.search(f'<tr data-app="" data-url="{url}">(.*?)</tr>', http.get("/apps").text, re.S)
    assert row is not None and 'class="notice error small"' in row.group(1)


def test_state_changes_are_post_only(stack: Stack) -> None:
    for path in ("/ui/events/send", "/ui/functions/core-chain/invoke", "/ui/apps/sync"):
        assert stack.api.http.get(path).status_code == 405, path


def test_event_data_is_escaped(stack: Stack) -> None:
    stack.api.send_event("dash/xss", {"note": "<script>alert(1)</script>"})
    html = stack.api.http.get("/events?name=dash/xss").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_events_page_filters_and_pages(stack: Stack, runs: dict[str, str]) -> None:
    http = stack.api.http
    bad = http.get("/events?received_after=yesterday")
    assert bad.status_code == 400 and 'data-field="received_after"' in bad.text
    first = http.get("/events?name=core/chain&limit=1").text
    ids_first = re.findall(r'data-event-id="(\w+)"', first)
    link = re.search(r'href="/events\?([^"]+)">Older events', first)
    assert len(ids_first) == 1 and link is not None
    second = http.get("/events?" + link.group(1).replace("&amp;", "&")).text
    ids_second = re.findall(r'data-event-id="(\w+)"', second)
    assert len(ids_second) == 1 and ids_second != ids_first


def test_function_and_operations_pages_show_metrics_and_health(
    stack: Stack, runs: dict[str, str]
) -> None:
    def chain_page() -> str | None:  # its 24 h panel reads the rollups (a round every 300 ms)
        text = stack.api.http.get("/functions/core-chain").text
        return text if "100.0 %" in text else None  # every core-chain run here completed

    wait_until(chain_page, timeout=10, what="the function page's 24 h panel")
    listing = stack.api.http.get("/functions").text
    row = re.search(r'<tr data-function="core-exhausted">(.*?)</tr>', listing, re.S)
    assert row is not None and '<td class="success">0.0 %</td>' in row.group(1)
    operations = stack.api.http.get("/operations").text
    assert 'id="health" data-status="' in operations
    assert "Dead letters" in operations and 'id="queue-depth"' in operations
