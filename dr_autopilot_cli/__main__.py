import sys

from dr_autopilot_cli.main import main

sys.exit(main())
