"""Opt-in galleries: enrolment with expiry and audit, matching of visitors, staff exclusion, VIP alerts."""
