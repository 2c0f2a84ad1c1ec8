import sys

from bench.resilience.main import main

sys.exit(main())
