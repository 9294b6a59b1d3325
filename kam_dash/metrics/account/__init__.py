"""Key accounts: the key-account score and tiers, account health, and one retailer's review.

The review covers plan and landing by month, sell-in vs sell-out (pipeline), category white space, SKUs, and
store vs online.

The Portfolio page reads `portfolio_page_data`; the Account review page reads `account_page_data`. Both
return small frames; the key-account score is pure arithmetic on the portfolio's account table
(`score_accounts`), so moving a weight on the page re-scores without querying again.

Modules: common (definitions, columns, margin, the year to date), health, portfolio (the account table and the
score), review (one retailer), range_gaps (products a retailer does not list that comparable accounts sell).
Everything public is importable from here.
"""

from __future__ import annotations

from kam_dash.metrics import plan, share  # noqa: F401 - the domains this one builds on
from kam_dash.metrics.account.common import *  # noqa: F401,F403
from kam_dash.metrics.account.common import _num, _ytd  # noqa: F401
from kam_dash.metrics.account.health import *  # noqa: F401,F403
from kam_dash.metrics.account.portfolio import *  # noqa: F401,F403
from kam_dash.metrics.account.review import *  # noqa: F401,F403
from kam_dash.metrics.account.range_gaps import *  # noqa: F401,F403
from kam_dash.metrics.account.common import DEFINITIONS as _COMMON_DEFINITIONS  # noqa: E402
from kam_dash.metrics.account.range_gaps import DEFINITIONS as _RANGE_GAP_DEFINITIONS  # noqa: E402

DEFINITIONS = {**_COMMON_DEFINITIONS, **_RANGE_GAP_DEFINITIONS}  # one dict for the pages and docs/METRICS.md
