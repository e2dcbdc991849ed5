"""Bounds on what one GraphQL document may ask, checked before it runs.

A hostile or careless client can make a small document expensive: nesting (`childrenSpans`
within `childrenSpans`…), aliases asking for the same list a hundred times, or fragments that
spread each other twice per level (2ⁿ fields from n fragments). The parser stops at a token
budget; then the document's depth and the number of fields it selects, fragments expanded, must
stay under limits far above what the SDKs' harnesses and Inngest's UI ask (depth ≤ 10, a few
dozen fields). Fragments are measured once each, so the check is linear in the document even
when its expansion is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphql

MAX_TOKENS = 10_000
MAX_DEPTH = 20
MAX_FIELDS = 2_000


@dataclass(frozen=True, slots=True)
class _Size:
    depth: int
    fields: int


class _Measure:
    def __init__(self, document: graphql.DocumentNode) -> None:
        self._fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, graphql.FragmentDefinitionNode)
        }
        self._sizes: dict[str, _Size] = {}
        self._open: set[str] = set()  # fragments being measured: a cycle counts as nothing

    def selection(self, selection_set: graphql.SelectionSetNode | None) -> _Size:
        if selection_set is None:
            return _Size(0, 0)
        depth, fields = 0, 0
        for node in selection_set.selections:
            if isinstance(node, graphql.FieldNode):
                inner = self.selection(node.selection_set)
                depth, fields = max(depth, inner.depth + 1), fields + inner.fields + 1
            elif isinstance(node, graphql.InlineFragmentNode):
                inner = self.selection(node.selection_set)
                depth, fields = max(depth, inner.depth), fields + inner.fields
            elif isinstance(node, graphql.FragmentSpreadNode):
                inner = self.fragment(node.name.value)
                depth, fields = max(depth, inner.depth), fields + inner.fields
            # saturate: a fragment bomb's count grows without bound, the verdict does not
            fields = min(fields, MAX_FIELDS + 1)
        return _Size(depth, fields)

    def fragment(self, name: str) -> _Size:
        if name in self._sizes:
            return self._sizes[name]
        node = self._fragments.get(name)
        if node is None or name in self._open:
            return _Size(0, 0)  # unknown or cyclic: the standard validation reports it
        self._open.add(name)
        size = self.selection(node.selection_set)
        self._open.discard(name)
        self._sizes[name] = size
        return size


def parse(query: str) -> graphql.DocumentNode:
    """The document, or GraphQLError when it is past the token budget or malformed."""
    return graphql.parse(query, max_tokens=MAX_TOKENS)


def violations(document: graphql.DocumentNode) -> list[graphql.GraphQLError]:
    """One error per operation that asks too much (depth or fields)."""
    measure = _Measure(document)
    found = []
    for node in document.definitions:
        if not isinstance(node, graphql.OperationDefinitionNode):
            continue
        size = measure.selection(node.selection_set)
        name = node.name.value if node.name else "(anonymous)"
        if size.depth > MAX_DEPTH:
            found.append(
                graphql.GraphQLError(
                    f"operation {name} nests {size.depth} levels deep; the limit is {MAX_DEPTH}",
                    node,
                    extensions={"code": "QUERY_TOO_DEEP"},
                )
            )
        if size.fields > MAX_FIELDS:
            found.append(
                graphql.GraphQLError(
                    f"operation {name} selects more than {MAX_FIELDS} fields "
                    "(fragments and aliases counted)",
                    node,
                    extensions={"code": "QUERY_TOO_LARGE"},
                )
            )
    return found
