"""Lambda entry points, one per state of the workflow. Each is thin: parse, call logic, return."""
