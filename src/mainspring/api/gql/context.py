"""What every resolver receives: the request's services, and the errors resolvers raise."""

from __future__ import annotations

from dataclasses import dataclass

import graphql

from mainspring.api.state import Services


@dataclass(frozen=True)
class Context:
    services: Services


Info = graphql.GraphQLResolveInfo[Context]
