"""DR Autopilot: the Lambda code of the automated failover workflow."""
