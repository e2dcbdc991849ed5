"""Domain model: frozen dataclasses and pure helpers, no I/O and no imports of ours."""
