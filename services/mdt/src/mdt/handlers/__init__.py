"""What the MDT view consumes: every person, plan, measure and listing event of the other
four services. Each handler runs in the consumer's unit of work with the inbox row, so a
repeated delivery is never applied twice; ``sequence`` keeps a late change from
overwriting a newer one, so the view is the same whatever order the topics interleave in.

Importing the modules registers their handlers on ``router``."""

import mdt.handlers.care_plans
import mdt.handlers.directory
import mdt.handlers.outcomes
import mdt.handlers.referrals  # noqa: F401
from mdt.handlers.common import router

__all__ = ["router"]
