"""`POST /v0/gql`: the GraphQL API of Inngest's dev server (protocol §9), as far as we answer it.

`schema.graphql` declares the types (Inngest's names and nesting); `schema` binds the resolvers
of each area (`events`, `runs`, `trace`) to it; `http` is the route.
"""

from mainspring.api.gql.http import routes as routes
