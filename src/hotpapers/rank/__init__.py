"""Rankers: pure functions of a day's papers and their attention, returning ranked rows."""
