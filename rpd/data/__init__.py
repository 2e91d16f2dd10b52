"""Datasets: the Datasaurus Dozen shapes and the `<shape>-grid` generator."""
