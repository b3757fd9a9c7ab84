"""Cross-account Kinesis streaming as CDKTF constructs.

Import the constructs from their modules (`xacct_streaming.shared_stream`, ...); this package
file stays empty so that validating settings never loads cdktf.
"""
