"""Write the input JSON Schema: `python -m local.schema` (make schema)."""

import json
from pathlib import Path

from dr_autopilot.models import input_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "failover-input.schema.json"


def rendered() -> str:
    return json.dumps(input_schema(), indent=2) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(rendered())
    print(f"wrote {SCHEMA_FILE}")
