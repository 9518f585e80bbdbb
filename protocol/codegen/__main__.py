"""`python -m protocol.codegen`: see protocol.codegen."""

import sys

from protocol.codegen import main

sys.exit(main())
