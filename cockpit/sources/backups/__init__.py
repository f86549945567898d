"""The runbook's backup checks: the postgres-backup CronJob and its Jobs (from KubeSource)
and the dumps in S3.  source.py is the BackupsSource the pane polls, combining both
halves; s3.py lists the bucket with boto3 and words its failures.
"""
