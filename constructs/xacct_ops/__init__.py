"""Operator tools for a deployed or about-to-be-deployed stack (boto3, no cdktf)."""
