"""The CDK app of DR Autopilot: one stack composed of constructs."""
