"""`make access-review` (python -m xacct_ops.access_review): the command; the review is xacct_ops.review."""

import sys

from xacct_ops.review.cli import main

if __name__ == "__main__":
    sys.exit(main())
