"""Checker rules: small pure functions returning violations; check_brief runs them all."""
