"""DynamoDB Streams change records to plain JSON, delivered to a change-log table or Firehose."""
