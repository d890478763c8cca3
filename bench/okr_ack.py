"""The acknowledgement benchmark's old name: it now measures /okr and /ssp (see bench/ack.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ack import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
