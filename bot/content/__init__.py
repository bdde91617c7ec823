"""Content: reading the catalogue, choosing what a column features, rendering and checking posts."""
