"""Claim judges too long for :mod:`rpd.report.verdicts`: C4 (auxiliary input, from the metric against training
iteration), C5 (prior capacity at few steps) and C6 (terminal mismatch J₂ on a shared prior).

Each module imports the shared decision machinery from :mod:`rpd.report.verdicts`, whose ``judge_c4`` …
``judge_c6`` call them (imported there at call time, so there is no import cycle). Pure functions of the
config dict and the tidy metrics table, like every judge.
"""
