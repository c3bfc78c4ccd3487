import sys

from qloom.cli import main

sys.exit(main())
