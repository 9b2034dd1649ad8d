"""``python -m portal notify|schedule|backup|restore``: the old spelling of ``python -m ops``, which it runs instead.

The installation's jobs read every layer (stores, access rules, documents), so their command line lives in ``ops``;
this alias keeps the cron lines and units written for ``python -m portal`` working without ``portal`` importing up.
"""

import sys

from portal.forward import run_instead

if __name__ == "__main__":
    run_instead("ops", sys.argv[1:])
