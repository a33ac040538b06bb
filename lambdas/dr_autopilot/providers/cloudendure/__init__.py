"""CloudEndure Disaster Recovery (v5 API): client, models and pure replication decisions."""
