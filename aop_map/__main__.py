"""`python -m aop_map` is the `aop-map` command."""

import sys

from aop_map.cli import main

sys.exit(main())
