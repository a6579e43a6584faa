"""The policy rules of SPEC 2.1–2.4 and 2.6, one module per section, one function per rule.

- 2.1 `units`: own limit, vacancies, usable quota, over quota (只出不进);
- 2.2 `admin_pool`: the 20 % capacity and its suspension, eligibility, purposes;
- 2.2–2.4 `loans`: what every loan shares — the special account (`special_account_totals`),
  return one when vacated (`return_one_when_vacated`), pool capacity, a whole loan request;
- 2.3 `institutional_pool`: eligibility, purposes, period and rebuild, terms, evaluations;
- 2.4 `unit_loans`: two-rights separation — parties, purpose, the lender's spare quota;
- 2.6 `monitoring`: alerts;
- 2.7 `useplans`: quota-use plans — free vacancies, posting oldest first, lapse, withdrawal;
- 2.8 `problems`: the problem ledger — kinds, deadlines, an open problem blocks new quota;
- SPEC 3.3/3.5 `idempotency`: one key, one request, a differing retry refused naming fields;
- SPEC 4 `ledger`: every write names its actor and never goes back in time.

A rule returns a `Violation` (a stable code such as ``admin.purpose`` and what is wrong, in
English and in Chinese) or None. The command that meets one raises it as `RuleViolation`
before anything is written; the fold (`pools.state`) raises it as `InvariantBroken` naming
the event; `audit verify` (`pools.verify`) reports it as a problem. One predicate, three uses.

Settings are policy, not law: `Settings` holds the SPEC defaults and is stored in the ledger's
first event.
"""

from pools.rules.loans import check_open_loan, known_pool
from pools.rules.settings import Settings
from pools.rules.violations import RuleViolation, Violation, refuse

__all__ = ["RuleViolation", "Settings", "Violation", "check_open_loan", "known_pool", "refuse"]
