"""The workflow's logic: one module per state, pure decisions over injected clients."""
