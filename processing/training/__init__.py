"""Training the sample classifier (processing.engines.tagging): render, synthesise, augment, train, export.

Nothing here runs in the app: `python -m processing.training.train` makes the weights file that the engine loads.
"""
