"""`python -m wizard` behaves exactly like the `wizard` console script."""

import sys

from wizard.cli import main

if __name__ == "__main__":
    sys.exit(main())
