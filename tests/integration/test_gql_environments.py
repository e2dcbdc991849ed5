"""GraphQL and environments: `envs`, `defaultEnv` and `envBySlug` (Inngest Cloud's queries, an
environment being a `Workspace`), and every other query answering for the environment the
request names (`?env=` or `X-Inngest-Env`). One server with `--env staging --branch-envs`; an
SDK app deployed to a branch environment, which its first sync creates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .harness import AppProcess, JSONDict, ServerProcess, free_port, wait_until

BRANCH = "feature/gql-envs"
ENVS = """
query Envs($first: Int!, $after: String, $filter: EnvsFilter) {
  envs(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id name slug type test parentID createdAt lastDeployedAt
                          isArchived isAutoArchiveEnabled } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("gql-envs")
    server = ServerProcess(
        port=free_port(),
        db_path=workdir / "mainspring.db",
        log_dir=workdir,
        extra_args=["--env", "staging", "--branch-envs"],
    )
    app = AppProcess(
        "env_app",
        port=free_port(),
        server_url=server.url,
        log_dir=workdir,
        extra_env={"INNGEST_ENV": BRANCH},
    )
    try:
        server.start()
        app.start()
        assert app.sync().status_code == 200  # creates the branch environment
        wait_until(lambda: _slugs(server, {"env": BRANCH}), timeout=20, what="branch synced")
        yield server
    finally:
        app.stop()
        server.stop()
        server.release_db()


def gql(
    server: ServerProcess,
    query: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> JSONDict:
    resp = httpx.post(
        f"{server.url}/v0/gql",
        json={"query": query, "variables": variables},
        params=params,
        headers=headers,
        timeout=15.0,
    )
    assert resp.status_code == 200, resp.text[:500]
    body: JSONDict = resp.json()
    return body


def _slugs(
    server: ServerProcess, params: dict[str, str] | None = None, **kwargs: Any
) -> set[str] | None:
    body = gql(server, "{ functions { slug } }", params, **kwargs)
    assert "errors" not in body, body
    return {fn["slug"] for fn in body["data"]["functions"] or []} or None


def _envs(server: ServerProcess, first: int = 40, **variables: Any) -> JSONDict:
    body = gql(server, ENVS, first=first, **variables)
    assert "errors" not in body, body
    found: JSONDict = body["data"]["envs"]
    return found


def test_envs_lists_every_environment_as_a_workspace(server: ServerProcess) -> None:
    nodes = {edge["node"]["name"]: edge["node"] for edge in _envs(server)["edges"]}
    assert set(nodes) == {"production", "staging", BRANCH}
    assert next(iter(nodes)) == "production", "the default environment first"
    production, staging, branch = nodes["production"], nodes["staging"], nodes[BRANCH]
    assert production["type"] == "PRODUCTION" and production["test"] is False
    assert production["createdAt"] is None and production["isArchived"] is False
    assert staging["type"] == "TEST" and staging["test"] is True
    assert staging["isAutoArchiveEnabled"] is False and staging["createdAt"].endswith("Z")
    assert branch == {
        **branch,
        "id": BRANCH,
        "slug": BRANCH,
        "type": "BRANCH_CHILD",
        "parentID": None,
        "isArchived": False,
        "isAutoArchiveEnabled": True,
    }


def test_envs_filters_and_pages(server: ServerProcess) -> None:
    branches = _envs(server, filter={"envTypes": ["BRANCH_CHILD"]})["edges"]
    assert [edge["node"]["name"] for edge in branches] == [BRANCH]
    assert _envs(server, filter={"archived": True})["edges"] == []

    first = _envs(server, first=1)
    assert len(first["edges"]) == 1 and first["pageInfo"]["hasNextPage"] is True
    rest = _envs(server, after=first["pageInfo"]["endCursor"])
    assert rest["pageInfo"]["hasPreviousPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False and len(rest["edges"]) == 2
    names = [edge["node"]["name"] for edge in first["edges"] + rest["edges"]]
    assert sorted(names) == sorted(["production", "staging", BRANCH])

    bad = gql(server, ENVS, first=1, after="nope")
    assert bad["errors"][0]["extensions"]["argument"] == "after"


def test_default_env_and_env_by_slug(server: ServerProcess) -> None:
    query = """query ($slug: String!) {
      defaultEnv { name type }
      envBySlug(slug: $slug) { name type isAutoArchiveEnabled }
      missing: envBySlug(slug: "nowhere") { name }
    }"""
    body = gql(server, query, slug=BRANCH)
    assert "errors" not in body, body
    assert body["data"]["defaultEnv"] == {"name": "production", "type": "PRODUCTION"}
    assert body["data"]["envBySlug"] == {
        "name": BRANCH,
        "type": "BRANCH_CHILD",
        "isAutoArchiveEnabled": True,
    }
    assert body["data"]["missing"] is None


def test_other_queries_answer_for_the_requested_environment(server: ServerProcess) -> None:
    expected = {"envs-echo", "envs-limited", "envs-relay"}
    assert _slugs(server, {"env": BRANCH}) == expected
    assert _slugs(server, headers={"X-Inngest-Env": BRANCH}) == expected
    assert _slugs(server) is None, "production has no app"
    assert _slugs(server, {"env": "staging"}) is None
    refused = httpx.post(
        f"{server.url}/v0/gql", params={"env": "nowhere"}, json={"query": "{ functions { slug } }"}
    )
    assert refused.status_code == 404 and refused.json()["field"] == "env"
