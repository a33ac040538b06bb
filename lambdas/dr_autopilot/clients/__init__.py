"""One client per external system; the logic layer never imports boto3 or requests."""
