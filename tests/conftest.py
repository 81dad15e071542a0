import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import settings

# The property tests search the same examples on every run, so CI is reproducible;
# HYPOTHESIS_PROFILE=explore searches fresh ones (as the default profile does).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
