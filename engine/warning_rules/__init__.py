"""The warning rules, one module per concern; importing this package registers them:
courses per year (brochure § 2.3), lead times and election windows (issue 14 items 4, 8, 9)."""

from engine.warning_rules import courses_per_year, elections, lead_times  # noqa: F401
