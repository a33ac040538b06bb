"""`dr-autopilot`: the on-call engineer's command line (status, failover, watch, report, approve)."""
