"""Evaluation metrics (kept free of torch so evaluation jobs start fast)."""
