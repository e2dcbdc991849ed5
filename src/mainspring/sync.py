"""Moved to mainspring.registry.sync (shim until the W3 sweep)."""

from mainspring.registry.sync import AppSync as AppSync
from mainspring.registry.sync import UrlState as UrlState
from mainspring.registry.sync import check_app_url as check_app_url
from mainspring.registry.sync import normalize_url as normalize_url
