"""The stack's building blocks."""
