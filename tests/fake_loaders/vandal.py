"""A loader that vandalises its module tree, trying to make the runner's clean-up delete
something else: the directory named by the environment variable PRECIOUS.

    vandal.py link-outer ROOT MAIN   replaces ROOT/.. (the decoy level above the module tree)
                                     with a symbolic link to PRECIOUS
    vandal.py link-base ROOT MAIN    replaces ROOT/../.. (the run's temporary directory itself)
                                     with a symbolic link to PRECIOUS

Then it prints one line and exits 0.
"""

import os
import shutil
import sys

from _fake import args, say

mode, root = args()[:2]
precious = os.environ["PRECIOUS"]
target = {"link-outer": os.path.dirname(root),
          "link-base": os.path.dirname(os.path.dirname(root))}[mode]
shutil.rmtree(target)
os.symlink(precious, target)
say(f"fake loader: {os.path.basename(target)} now points at the precious directory")
sys.exit(0)
