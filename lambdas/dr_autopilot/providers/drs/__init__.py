"""AWS Elastic Disaster Recovery (DRS) as a recovery provider."""
