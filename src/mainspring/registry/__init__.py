"""Apps and functions: sync, validation, the trigger index."""

from mainspring.registry.service import Registry as Registry
from mainspring.registry.service import _validate_function as _validate_function
