"""SES notifications from SNS into a Kinesis stream of another account (seed 004)."""
